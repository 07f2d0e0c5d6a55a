// The hub's API as the page uses it: the device token, JSON requests, the conversation's WebSocket.
const TOKEN = "assistant-token";
const CONVERSATION = "assistant-conversation";

export const token = () => localStorage.getItem(TOKEN);

export function conversationId() {
  let id = localStorage.getItem(CONVERSATION);
  if (!id) {
    id = "page-" + crypto.randomUUID().slice(0, 8);
    localStorage.setItem(CONVERSATION, id);
  }
  return id;
}

export class Unpaired extends Error {}

export async function pair(code) {
  const response = await fetch("/v1/pair", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error);
  localStorage.setItem(TOKEN, body.token);
  return body;
}

export async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token()}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401) {
    localStorage.removeItem(TOKEN);
    throw new Unpaired("this page is not paired");
  }
  const data = response.status === 204 ? {} : await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return { status: response.status, data };
}

export function openStream(onEvent, onAudio, onClose) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/v1/conversations/${conversationId()}/stream`;
  const ws = new WebSocket(url, ["bearer", token()]);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (message) => {
    if (typeof message.data === "string") onEvent(JSON.parse(message.data));
    else onAudio(message.data);
  };
  ws.onclose = onClose;
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("could not reach the hub"));
  });
}

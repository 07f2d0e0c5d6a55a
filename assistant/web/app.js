// The companion page: chat (typed and push-to-talk), basket, orders, recommendations, skills, privacy.
import { Unpaired, call, openStream, pair, token } from "./api.js";
import { Microphone, Speaker } from "./voice.js";

const $ = (selector) => document.querySelector(selector);
const money = (pounds) => `£${pounds.toFixed(2)}`;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function say(who, text) {
  const line = element("li", text, who);
  line.setAttribute("aria-label", `${who}: ${text}`);
  $("#log").append(line);
  line.scrollIntoView({ block: "nearest" });
}

function status(text) {
  $("#status").textContent = text;
}

// -- sections --------------------------------------------------------------------------------------
const loaders = {};

async function show(name) {
  document.querySelectorAll("[data-panel]").forEach((panel) => (panel.hidden = panel.id !== name));
  document.querySelectorAll("nav button").forEach((button) => {
    if (button.dataset.show === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  });
  if (loaders[name]) await guarded(loaders[name]);
}

async function guarded(work) {
  try {
    await work();
  } catch (error) {
    if (error instanceof Unpaired) showPairing();
    else status(`Sorry: ${error.message}`);
  }
}

loaders.basket = async () => {
  const { data } = await call("GET", "/v1/basket");
  const list = $("#basket-lines");
  list.replaceChildren(...data.lines.map((l) => element("li", `${l.quantity} × ${l.product.title} — ${money(l.total)}`)));
  $("#basket-total").textContent = data.lines.length ? `Total ${money(data.total)}` : "Your basket is empty.";
};

loaders.orders = async () => {
  const { data } = await call("GET", "/v1/orders");
  const items = data.orders.map((o) => {
    const item = element("li", `Order ${o.id}: ${o.status}, ${money(o.total)}, placed ${o.placed_at}`);
    if (o.deliver_on) item.append(element("span", ` — delivery ${o.deliver_on}`));
    item.append(element("ul"));
    item.lastChild.append(...o.lines.map((l) => element("li", `${l.quantity} × ${l.product.title}`)));
    return item;
  });
  $("#orders-list").replaceChildren(...(items.length ? items : [element("li", "No orders yet.")]));
};

loaders.recommendations = async () => {
  const { data } = await call("GET", "/v1/recommendations");
  const items = data.recommendations.map((r) => {
    const item = element("li", `${r.product.title} — ${money(r.product.price)}`);
    item.append(element("p", `Why: ${r.why}`, "why"));
    return item;
  });
  $("#recommendations-list").replaceChildren(...(items.length ? items : [element("li", "Nothing to suggest yet.")]));
};

loaders.skills = async () => {
  const { data } = await call("GET", "/v1/skills");
  $("#skills-list").replaceChildren(
    ...data.skills.map((skill) => {
      const item = element("li", undefined, "skill");
      const label = element("label");
      const toggle = element("input");
      toggle.type = "checkbox";
      toggle.setAttribute("role", "switch");
      toggle.checked = skill.enabled;
      toggle.addEventListener("change", () => guarded(() => switchSkill(skill.name, toggle)));
      label.append(toggle, `${skill.name} — ${skill.description}`);
      const permissions = element("ul");
      permissions.append(...(skill.permissions.length ? skill.permissions : ["needs no permissions"]).map((p) => element("li", p)));
      item.append(label, element("p", skill.status, "why"), element("p", "It may:", "why"), permissions);
      if (skill.accessed.length) {
        const accessed = element("ul");
        accessed.append(...skill.accessed.map((line) => element("li", line)));
        item.append(element("p", "What it did lately:", "why"), accessed);
      }
      return item;
    }),
  );
};

function ask(title, lines, okText, ...fields) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  const list = element("ul");
  list.append(...lines.map((line) => element("li", line)));
  $("#confirm-body").replaceChildren(list, ...fields);
  $("#confirm-ok").textContent = okText;
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

async function switchSkill(name, toggle) {
  const first = await call("POST", "/v1/skills", { name, enabled: toggle.checked });
  if (first.status === 202) {
    const agreed = await ask(`Turn on “${name}”? It asks to:`, first.data.permissions, "Allow");
    if (agreed) {
      const done = await call("POST", "/v1/skills", { name, enabled: true, consent: first.data.consent });
      status(done.data.message);
    }
  } else {
    status(first.data.message);
  }
  await loaders.skills();
}

function codeField() {
  const label = element("label", "Purchase code");
  const input = element("input");
  Object.assign(input, { id: "forget-code", inputMode: "numeric", autocomplete: "off", maxLength: 8 });
  label.htmlFor = input.id;
  const field = element("p");
  field.append(label, input);
  return field;
}

async function forget() {
  const first = await call("DELETE", "/v1/me");
  const fields = first.data.code_needed ? [codeField()] : [];
  const agreed = await ask("Delete your data?", [first.data.message], "Delete", ...fields);
  if (!agreed) return;
  let path = `/v1/me?confirm=${encodeURIComponent(first.data.confirm)}`;
  if (fields.length) path += `&code=${encodeURIComponent($("#forget-code").value)}`;
  const done = await call("DELETE", path);
  $("#forget-status").textContent = done.data.message;
}

// -- the conversation ------------------------------------------------------------------------------
let stream = null;
let talking = false;
const speaker = new Speaker();
const microphone = new Microphone((frame) => {
  if (talking && stream && stream.readyState === WebSocket.OPEN) stream.send(frame);
});

function setTalking(on) {
  talking = on;
  $("#talk").setAttribute("aria-pressed", String(on));
  $("#talk").textContent = on ? "Listening… (press to stop)" : "Push to talk";
  if (!on) microphone.stop();
}

function onEvent(event) {
  if (event.type === "partial") $("#partial").textContent = event.text;
  else if (event.type === "transcript") {
    $("#partial").textContent = "";
    if (event.text) say("you", event.text);
    else status("I didn't hear anything.");
  } else if (event.type === "turn") {
    say("assistant", event.turn.reply);
    // a question keeps the microphone open for the answer, as a speaker does; otherwise it closes
    if (talking && !event.expecting) setTalking(false);
    if (document.querySelector("#basket:not([hidden]), #orders:not([hidden])")) show(currentPanel());
  } else if (event.type === "reply-audio-start") {
    speaker.begin(event.rate);
    status("Speaking…");
  } else if (event.type === "reply-audio-end") {
    if (event.interrupted) speaker.stop();
    status("");
  } else if (event.type === "notification") notify(event.text);
  else if (event.type === "error") status(`Sorry: ${event.error}`);
}

// -- notifications ---------------------------------------------------------------------------------
// The hub pushes what the member is to be told (price news, a skill's note) to their open pages, once;
// it shows in the conversation and, with the browser's permission, as a system notification.
function notify(text) {
  say("notification", text);
  if ("Notification" in window && Notification.permission === "granted") new Notification("Shopping assistant", { body: text });
}

function offerNotifications() {
  const button = $("#allow-notifications");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
  button.addEventListener("click", async () => {
    await Notification.requestPermission(); // only on a click: browsers refuse to ask otherwise
    button.hidden = Notification.permission !== "default";
  });
}

const LISTENING_EVERY_MS = 60_000;
const RECONNECT_MS = 3_000;
let listening = null;

async function reconnect() {
  await call("GET", "/v1/skills");
  await listen();
}

async function listen() {
  // the page keeps its conversation's socket open, so a notification reaches it while nobody types
  await guarded(connected);
  if (!listening) listening = setInterval(() => {
    if (stream && stream.readyState === WebSocket.OPEN) stream.send(JSON.stringify({ type: "listening" }));
  }, LISTENING_EVERY_MS);
}

function currentPanel() {
  return document.querySelector("[data-panel]:not([hidden])").id;
}

async function connected() {
  await pairing; // a message sent while the one-time link is still being traded waits for the token
  if (stream && stream.readyState === WebSocket.OPEN) return stream;
  stream = await openStream(onEvent, (bytes) => speaker.play(bytes), (closed) => {
    stream = null;
    setTalking(false);
    // a revoked pairing (1008) is not reconnected; a dropped socket is, once the hub still knows the token
    // (a 401 there forgets it and shows the pairing form, so a revoked page does not knock forever)
    if (closed.code !== 1008 && token()) setTimeout(() => guarded(reconnect), RECONNECT_MS);
  });
  return stream;
}

async function send(text) {
  const ws = await connected();
  ws.send(JSON.stringify({ type: "text", text }));
}

async function talk() {
  if (talking) {
    stream && stream.send(JSON.stringify({ type: "audio-end" }));
    setTalking(false);
    return;
  }
  const ws = await connected();
  if (speaker.playing) {
    speaker.stop();
    ws.send(JSON.stringify({ type: "stop" }));
  }
  await microphone.start();
  setTalking(true);
}

// -- pairing ---------------------------------------------------------------------------------------
let pairing = Promise.resolve();

function showPairing() {
  $("#pair").hidden = false;
  document.querySelectorAll("[data-panel]").forEach((panel) => (panel.hidden = true));
  $("#pair-code").focus();
}

async function pairWith(code) {
  try {
    await pair(code);
    $("#pair").hidden = true;
    await show("chat");
    listen();
  } catch (error) {
    showPairing();
    status(`Pairing failed: ${error.message}`);
  }
}

// -- wiring ----------------------------------------------------------------------------------------
document.querySelectorAll("nav button").forEach((button) => button.addEventListener("click", () => show(button.dataset.show)));
$("#say-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("#say").value.trim();
  if (!text) return;
  $("#say").value = "";
  say("you", text);
  guarded(() => send(text));
});
$("#talk").addEventListener("click", () => guarded(talk));
$("#forget").addEventListener("click", () => guarded(forget));
offerNotifications();
$("#pair-form").addEventListener("submit", (event) => {
  event.preventDefault();
  pairing = pairWith($("#pair-code").value.trim());
});

const code = new URLSearchParams(location.hash.slice(1)).get("pair");
if (code) {
  history.replaceState(null, "", location.pathname); // the code works once: don't keep it in the address bar
  pairing = pairWith(code);
} else if (!token()) showPairing();
else listen();

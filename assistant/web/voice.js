// The browser's microphone as 16 kHz s16le frames, and the hub's spoken reply played as it arrives.
export class Microphone {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.context = null;
    this.stream = null;
  }

  get open() {
    return this.stream !== null;
  }

  async start() {
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule("mic-worklet.js");
    const source = this.context.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(this.context, "mic-16k");
    node.port.onmessage = (message) => this.onFrame(message.data);
    source.connect(node);
  }

  stop() {
    if (!this.stream) return;
    this.stream.getTracks().forEach((track) => track.stop());
    this.context.close();
    this.stream = null;
    this.context = null;
  }
}

export class Speaker {
  constructor() {
    this.context = null;
    this.sources = [];
    this.until = 0;
  }

  get playing() {
    return this.context !== null && this.context.currentTime < this.until;
  }

  begin(rate) {
    this.context = this.context || new AudioContext();
    this.rate = rate;
    this.until = Math.max(this.until, this.context.currentTime + 0.05);
  }

  play(bytes) {
    if (!this.context) return;
    const samples = new Int16Array(bytes);
    const buffer = this.context.createBuffer(1, samples.length, this.rate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    source.start(this.until);
    this.until += buffer.duration;
    this.sources.push(source);
    source.onended = () => (this.sources = this.sources.filter((s) => s !== source));
  }

  stop() {
    this.sources.forEach((source) => source.stop());
    this.sources = [];
    if (this.context) this.until = this.context.currentTime;
  }
}

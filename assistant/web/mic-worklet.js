// Microphone samples (the context's rate, float) -> 16 kHz mono s16le, posted in 100 ms pieces.
class Mic16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.at = 0;
    this.piece = new Int16Array(1600);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    // average the input samples that fall into each 16 kHz sample (a crude low-pass for the decimation)
    while (this.at < channel.length) {
      const start = Math.floor(this.at);
      const end = Math.min(channel.length, Math.max(start + 1, Math.floor(this.at + this.ratio)));
      let sum = 0;
      for (let i = start; i < end; i++) sum += channel[i];
      const value = Math.max(-1, Math.min(1, sum / (end - start)));
      this.piece[this.filled++] = value < 0 ? value * 0x8000 : value * 0x7fff;
      if (this.filled === this.piece.length) {
        this.port.postMessage(this.piece.buffer, [this.piece.buffer]);
        this.piece = new Int16Array(1600);
        this.filled = 0;
      }
      this.at += this.ratio;
    }
    this.at -= channel.length;
    return true;
  }
}

registerProcessor("mic-16k", Mic16k);

/**
 * The ringtone: a two-tone burst pattern (ring, ring … pause) made with WebAudio oscillators, so no audio file is
 * needed. `start()` and `stop()` are idempotent.
 */
export class Ringtone {
  #ctx: AudioContext | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #gain: GainNode | undefined;

  /** One pattern every `periodMs`: two 400 ms bursts of 440 + 480 Hz (the North-American ring, softened). */
  constructor(
    readonly periodMs = 3000,
    readonly volume = 0.08,
  ) {}

  get playing(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    try {
      this.#ctx ??= new AudioContext();
      // Without a user gesture the context may start suspended; the console's clicks resume it.
      void this.#ctx.resume().catch(() => undefined);
      this.#gain = this.#ctx.createGain();
      this.#gain.gain.value = this.volume;
      this.#gain.connect(this.#ctx.destination);
    } catch {
      return; // No audio output: the card and the title still show the call.
    }
    this.#pattern();
    this.#timer = setInterval(() => this.#pattern(), this.periodMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#gain?.disconnect();
    this.#gain = undefined;
  }

  /** Releases the audio context (on logout). */
  dispose(): void {
    this.stop();
    void this.#ctx?.close().catch(() => undefined);
    this.#ctx = undefined;
  }

  #pattern(): void {
    const ctx = this.#ctx;
    const out = this.#gain;
    if (!ctx || !out) return;
    const t0 = ctx.currentTime + 0.02;
    for (const offset of [0, 0.6]) this.#burst(ctx, out, t0 + offset, 0.4);
  }

  #burst(ctx: AudioContext, out: AudioNode, at: number, seconds: number): void {
    const env = ctx.createGain();
    env.gain.setValueAtTime(0, at);
    env.gain.linearRampToValueAtTime(1, at + 0.02);
    env.gain.setValueAtTime(1, at + seconds - 0.05);
    env.gain.linearRampToValueAtTime(0, at + seconds);
    env.connect(out);
    for (const freq of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = freq;
      osc.connect(env);
      osc.start(at);
      osc.stop(at + seconds);
      osc.onended = () => osc.disconnect();
    }
    setTimeout(() => env.disconnect(), (seconds + 0.5) * 1000);
  }
}

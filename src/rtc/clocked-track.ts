import type { FrameClock } from './frame-clock.js';
import { type WrtcAudioSource, type WrtcTrack, wrtc } from './wrtc.js';

/**
 * A live wrtc audio track whose frames come from a callback on a frame clock while it is started. Stopped, the track
 * stays live and silent (wrtc then sends no RTP at all); closed, the track ends. What the test generator and the
 * WhatsApp leg's silence share.
 */
export class ClockedTrack {
  readonly track: WrtcTrack;
  /** Where the callback pushes its frames (`onData` copies them at once). */
  readonly source: WrtcAudioSource;
  readonly #clock: FrameClock;
  readonly #onFrame: (frameAt: number) => void;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(clock: FrameClock, onFrame: (frameAt: number) => void) {
    this.#clock = clock;
    this.#onFrame = onFrame;
    this.source = new wrtc.nonstandard.RTCAudioSource();
    this.track = this.source.createTrack();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Whether {@link start} would start it: open and not running. */
  get startable(): boolean {
    return !this.#closed && this.#unsubscribe === undefined;
  }

  start(): void {
    if (this.startable) this.#unsubscribe = this.#clock.subscribe(this.#onFrame);
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Stops the clock subscription and the track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.track.stop();
  }
}

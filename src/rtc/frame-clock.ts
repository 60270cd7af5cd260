import { nowMs } from './clock.js';

/** Called once per due frame with the frame's nominal start time (epoch ms). */
export type FrameCallback = (frameStartMs: number) => void;

export interface FrameClockOptions {
  /** Length of one audio frame. @default 10 */
  frameMs?: number;
  /** Timer period; each tick delivers every frame that fell due (tickMs / frameMs on average). @default frameMs */
  tickMs?: number;
  /**
   * After an event-loop stall, at most this many overdue frames are delivered at once per subscriber; older ones are
   * skipped (a burst would only pile up in the receiver's jitter buffer). @default 10
   */
  maxCatchUpFrames?: number;
  /** Time source (epoch ms); tests inject one to simulate stalls. @default nowMs */
  now?: () => number;
}

interface Subscriber {
  callback: FrameCallback;
  /** Nominal start of the next frame to deliver. */
  next: number;
  /** Set on unsubscribe so that a tick in progress stops delivering to it. */
  active: boolean;
}

/**
 * A drift-free frame clock: frames are due at `start + n × frameMs` on the monotonic clock, whatever the timer's
 * lateness, and one timer serves every subscriber (one per process for all generators is cheaper than one each).
 * The timer runs only while there are subscribers and is unref'd, so it never keeps a process alive by itself.
 */
export class FrameClock {
  readonly frameMs: number;
  readonly tickMs: number;
  readonly #maxCatchUp: number;
  readonly #now: () => number;
  readonly #subscribers = new Set<Subscriber>();
  #timer: NodeJS.Timeout | undefined;
  #nextTick = 0;

  static readonly #shared = new Map<string, FrameClock>();

  /** A process-wide clock for these settings. */
  static shared(opts: FrameClockOptions = {}): FrameClock {
    const key = `${opts.frameMs ?? 10}/${opts.tickMs ?? opts.frameMs ?? 10}/${opts.maxCatchUpFrames ?? 10}`;
    let clock = FrameClock.#shared.get(key);
    if (!clock) {
      clock = new FrameClock(opts);
      FrameClock.#shared.set(key, clock);
    }
    return clock;
  }

  constructor(opts: FrameClockOptions = {}) {
    this.frameMs = opts.frameMs ?? 10;
    this.tickMs = opts.tickMs ?? this.frameMs;
    this.#maxCatchUp = opts.maxCatchUpFrames ?? 10;
    this.#now = opts.now ?? nowMs;
  }

  /** The clock's current time (epoch ms): what frames are due against. */
  now(): number {
    return this.#now();
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Starts delivering frames to `callback`, the first one now; returns the unsubscribe function. */
  subscribe(callback: FrameCallback): () => void {
    const sub: Subscriber = { callback, next: this.#now(), active: true };
    this.#subscribers.add(sub);
    if (!this.#timer) {
      this.#nextTick = this.#now();
      this.#schedule();
    }
    return () => {
      sub.active = false;
      this.#subscribers.delete(sub);
      if (this.#subscribers.size === 0 && this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextTick - this.#now()));
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const sub of [...this.#subscribers]) {
      let due = Math.floor((now - sub.next) / this.frameMs) + 1;
      if (due > this.#maxCatchUp) {
        sub.next += (due - this.#maxCatchUp) * this.frameMs;
        due = this.#maxCatchUp;
      }
      for (let i = 0; i < due && sub.active; i++) {
        const start = sub.next;
        sub.next += this.frameMs;
        try {
          sub.callback(start);
        } catch {
          // A generator's bug must not stop the other subscribers' audio; generators catch and log their own.
        }
      }
    }
    if (this.#subscribers.size === 0) return;
    this.#nextTick += this.tickMs;
    if (this.#nextTick < now) this.#nextTick = now + this.tickMs - ((now - this.#nextTick) % this.tickMs);
    this.#schedule();
  }
}

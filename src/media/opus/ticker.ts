/** Called once per due tick: `index` counts ticks since subscribing (skipped ones included), `dueMs` is when it was due. */
export type TickCallback = (index: number, dueMs: number) => void;

export interface DriftFreeTickerOptions {
  /** @default 20 */
  periodMs?: number;
  /**
   * After an event-loop stall, at most this many overdue ticks are delivered at once; older ones are skipped (their
   * indices too, so an RTP timestamp computed as `base + index × 960` still matches wall time). @default 5
   */
  maxCatchUp?: number;
  /** Monotonic time in ms. @default performance.now */
  now?: () => number;
}

interface Subscriber {
  callback: TickCallback;
  startMs: number;
  /** Index of the next tick to deliver. */
  next: number;
  active: boolean;
}

/**
 * A 20 ms clock scheduled against absolute time: tick n of a subscriber is due at `start + n × period`, however late
 * the timer fires, so a player paced by it never drifts. One timer serves every subscriber (a hundred players cost
 * one timer), runs only while someone subscribes, and never keeps the process alive.
 */
export class DriftFreeTicker {
  readonly periodMs: number;
  readonly #maxCatchUp: number;
  readonly #now: () => number;
  readonly #subs = new Set<Subscriber>();
  #timer: NodeJS.Timeout | undefined;
  #skipped = 0;
  /** Every subscriber's ticks fall on this grid, so one timer firing serves all of them. */
  #epoch: number | undefined;

  constructor(opts: DriftFreeTickerOptions = {}) {
    this.periodMs = opts.periodMs ?? 20;
    this.#maxCatchUp = opts.maxCatchUp ?? 5;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The process-wide 20 ms ticker. */
  static readonly shared = new DriftFreeTicker();

  get subscriberCount(): number {
    return this.#subs.size;
  }

  /** Ticks skipped after stalls, over all subscribers. */
  get skipped(): number {
    return this.#skipped;
  }

  /**
   * Delivers tick 0 at the ticker's next grid point (within one period, never synchronously), then one every
   * period; returns the unsubscribe function.
   */
  subscribe(callback: TickCallback): () => void {
    const now = this.#now();
    this.#epoch ??= now;
    const startMs = this.#epoch + Math.ceil((now - this.#epoch) / this.periodMs) * this.periodMs;
    const sub: Subscriber = { callback, startMs, next: 0, active: true };
    this.#subs.add(sub);
    this.#arm();
    return () => {
      sub.active = false;
      this.#subs.delete(sub);
      if (this.#subs.size === 0 && this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #arm(): void {
    if (this.#timer || this.#subs.size === 0) return;
    let due = Number.POSITIVE_INFINITY;
    for (const s of this.#subs) due = Math.min(due, s.startMs + s.next * this.periodMs);
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - this.#now()));
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    // Timers may fire a fraction of a millisecond before the due time on the monotonic clock: count that as due.
    const now = this.#now() + 1;
    for (const sub of [...this.#subs]) this.#deliver(sub, now);
    this.#arm();
  }

  #deliver(sub: Subscriber, now: number): void {
    if (now < sub.startMs) return;
    const dueCount = Math.floor((now - sub.startMs) / this.periodMs) + 1 - sub.next;
    if (dueCount <= 0) return;
    if (dueCount > this.#maxCatchUp) {
      this.#skipped += dueCount - this.#maxCatchUp;
      sub.next += dueCount - this.#maxCatchUp;
    }
    const last = Math.floor((now - sub.startMs) / this.periodMs);
    while (sub.active && sub.next <= last) {
      const index = sub.next++;
      try {
        sub.callback(index, sub.startMs + index * this.periodMs);
      } catch {
        // One subscriber's bug must not silence the others; callers catch and log their own errors.
      }
    }
  }
}

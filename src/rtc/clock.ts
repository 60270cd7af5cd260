/**
 * Epoch milliseconds with sub-millisecond resolution from the monotonic clock. Senders stamp markers with it and
 * receivers stamp arrivals with it, so processes on one host agree to about a millisecond.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

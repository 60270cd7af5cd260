import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameClock } from './frame-clock.js';

describe('FrameClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers one frame per frameMs on average whatever the tick period, with consecutive nominal times', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new FrameClock({ frameMs: 10, tickMs: 20 });
    const times: number[] = [];
    const stop = clock.subscribe((t) => times.push(t));
    vi.advanceTimersByTime(1000);
    stop();
    expect(times.length).toBeGreaterThanOrEqual(99);
    expect(times.length).toBeLessThanOrEqual(102);
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeCloseTo(10, 6);
    expect(clock.subscriberCount).toBe(0);
  });

  it('skips frames older than maxCatchUpFrames after a stall instead of bursting them all', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let stall = 0;
    const clock = new FrameClock({ frameMs: 10, maxCatchUpFrames: 5, now: () => performance.now() + stall });
    const times: number[] = [];
    const stop = clock.subscribe((t) => times.push(t));
    vi.advanceTimersByTime(100);
    const before = times.length;
    stall = 500; // the event loop was blocked for 500 ms
    vi.advanceTimersByTime(10);
    const burst = times.length - before;
    vi.advanceTimersByTime(100);
    stop();
    expect(burst).toBeLessThanOrEqual(6);
    // After the skip, frames are on schedule again: one per 10 ms.
    expect(times.length - before - burst).toBeGreaterThanOrEqual(9);
    expect(times.length - before - burst).toBeLessThanOrEqual(11);
  });

  it('keeps delivering to other subscribers when one throws', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new FrameClock();
    let ok = 0;
    const a = clock.subscribe(() => {
      throw new Error('boom');
    });
    const b = clock.subscribe(() => ok++);
    vi.advanceTimersByTime(100);
    a();
    b();
    expect(ok).toBeGreaterThanOrEqual(9);
  });
});

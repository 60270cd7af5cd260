import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameClock } from '../rtc/frame-clock.js';
import { AudioGenerator } from './generator.js';

describe('AudioGenerator timing gaps', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records the audio it skipped or pushed late after a stall, and nothing while on time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let stall = 0;
    const clock = new FrameClock({ frameMs: 10, maxCatchUpFrames: 5, now: () => performance.now() + stall });
    const gen = AudioGenerator.create({ clock, markers: true });
    try {
      vi.advanceTimersByTime(500);
      expect(gen.gaps()).toEqual([]);
      const stalledAt = clock.now();
      stall = 200; // the event loop was blocked for 200 ms
      vi.advanceTimersByTime(10);
      vi.advanceTimersByTime(200);
      const gaps = gen.gaps();
      expect(gaps.length).toBeGreaterThanOrEqual(1);
      // The gap covers the stall: the frames skipped, then the first frames of the catch-up burst (> 30 ms late).
      expect(gaps[0]!.fromMs).toBeLessThanOrEqual(stalledAt + 10);
      expect(gaps[gaps.length - 1]!.toMs).toBeGreaterThanOrEqual(stalledAt + 170);
      // Back on schedule: no new gap.
      const count = gaps.length;
      vi.advanceTimersByTime(300);
      expect(gen.gaps().length).toBe(count);
    } finally {
      gen.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { type QueueOutcome, queueFigures } from './figures.js';

const o = (outcome: QueueOutcome['outcome'], waitS: number): QueueOutcome => ({
  callId: `c${Math.random()}`,
  teams: ['support'],
  outcome,
  waitMs: waitS * 1000,
});

describe('queue figures', () => {
  it('has no rates without calls', () => {
    expect(queueFigures([], 20)).toMatchObject({
      calls: 0,
      serviceLevel: null,
      abandonmentRate: null,
      avgAbandonWaitMs: null,
      avgSpeedOfAnswerMs: null,
    });
  });

  it('a caller who hangs up before the threshold counts neither for nor against the service level', () => {
    const f = queueFigures([o('answered', 10), o('abandoned', 5), o('answered', 30), o('timeout', 60)], 20);
    // Within 20 s: one answered. Judged: two answered and the 60 s goodbye; the 5 s abandon is not judged.
    expect(f.serviceLevel).toBeCloseTo(1 / 3);
    expect(f.abandonmentRate).toBe(1 / 4);
    expect(f.avgAbandonWaitMs).toBe(5000);
    expect(f.avgSpeedOfAnswerMs).toBe(20_000);
  });
});

import { describe, expect, it } from 'vitest';
import { estimateMos } from './mos.js';

describe('estimateMos', () => {
  it('gives the E-model ceiling (≈4.4) on a perfect network', () => {
    expect(estimateMos({ rttMs: 0, jitterMs: 0, lossPct: 0 })).toBeCloseTo(4.4, 1);
  });

  it('is monotonic in each impairment', () => {
    const base = { rttMs: 40, jitterMs: 5, lossPct: 0 };
    const ladder = (key: keyof typeof base, values: number[]): number[] =>
      values.map((v) => estimateMos({ ...base, [key]: v }));
    for (const series of [
      ladder('rttMs', [0, 100, 300, 600, 1200]),
      ladder('jitterMs', [0, 20, 60, 150]),
      ladder('lossPct', [0, 1, 5, 20, 50]),
    ]) {
      for (let i = 1; i < series.length; i++) expect(series[i]).toBeLessThan(series[i - 1] ?? 0);
    }
  });

  it('matches hand-computed G.107 points', () => {
    // d = 10 ms, Ie,eff = 95·5/(5+25.1) = 15.78 → R = 77.18 → MOS 3.9
    expect(estimateMos({ rttMs: 0, jitterMs: 0, lossPct: 5 })).toBeCloseTo(3.9, 1);
    // d = 310 ms → Id = 7.44 + 14.60 = 22.04 → R = 71.16 → MOS 3.64
    expect(estimateMos({ rttMs: 600, jitterMs: 0, lossPct: 0 })).toBeCloseTo(3.64, 1);
  });

  it('stays within 1…4.5 and tolerates garbage input', () => {
    expect(estimateMos({ rttMs: 10_000, jitterMs: 5000, lossPct: 100 })).toBe(1);
    expect(estimateMos({ rttMs: Number.NaN, jitterMs: -5, lossPct: Number.POSITIVE_INFINITY })).toBeCloseTo(4.4, 1);
    expect(estimateMos({ rttMs: 0, jitterMs: 0, lossPct: 1000 })).toBeGreaterThanOrEqual(1);
  });
});

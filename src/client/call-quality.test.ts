import { describe, expect, it } from 'vitest';
import { estimateMos, type StatsEntry, summarizeStats } from './call-quality.js';

const report = (over: { rtt?: number; jitter?: number; lost?: number; received?: number } = {}): StatsEntry[] => [
  { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
  { id: 'CP0', type: 'candidate-pair', state: 'failed', currentRoundTripTime: 9 },
  { id: 'CP1', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: over.rtt ?? 0.02 },
  { id: 'OT1', type: 'outbound-rtp', kind: 'audio', packetsSent: 500 },
  {
    id: 'IT1',
    type: 'inbound-rtp',
    kind: 'audio',
    jitter: over.jitter ?? 0.004,
    packetsLost: over.lost ?? 0,
    packetsReceived: over.received ?? 500,
  },
];

describe('call quality', () => {
  it('a clean network scores about 4.4 and raises no warning', () => {
    const q = summarizeStats(report());
    expect(q.rttMs).toBeCloseTo(20);
    expect(q.jitterMs).toBeCloseTo(4);
    expect(q.lossPct).toBe(0);
    expect(q.mos).toBeGreaterThan(4.3);
    expect(q.warnings).toEqual([]);
  });

  it('reads the RTT of the selected pair, not of another pair', () => {
    expect(summarizeStats(report({ rtt: 0.1 })).rttMs).toBeCloseTo(100);
  });

  it('falls back to the nominated succeeded pair when no transport names one', () => {
    const q = summarizeStats(report({ rtt: 0.05 }).filter((e) => e.type !== 'transport'));
    expect(q.rttMs).toBeCloseTo(50);
  });

  it('computes loss over the interval since the previous sample', () => {
    const first = summarizeStats(report({ lost: 50, received: 950 }));
    expect(first.lossPct).toBeCloseTo(5);
    // 100 more packets, none lost: the old burst no longer counts.
    const second = summarizeStats(report({ lost: 50, received: 1050 }), first.counters);
    expect(second.lossPct).toBe(0);
  });

  it('warns past 400 ms RTT, 30 ms jitter, 3 % loss and MOS 3.5', () => {
    const q = summarizeStats(report({ rtt: 0.8, jitter: 0.05, lost: 10, received: 90 }));
    expect(q.warnings).toEqual(['rtt', 'jitter', 'loss', 'mos']);
  });

  it('has no figures before any stats exist', () => {
    const q = summarizeStats([]);
    expect(q).toMatchObject({ rttMs: null, jitterMs: null, lossPct: null, mos: null, warnings: [] });
  });

  it('MOS falls with delay and loss and stays within 1…4.5', () => {
    const good = estimateMos({ rttMs: 20, jitterMs: 2, lossPct: 0 });
    const slow = estimateMos({ rttMs: 600, jitterMs: 2, lossPct: 0 });
    const lossy = estimateMos({ rttMs: 20, jitterMs: 2, lossPct: 10 });
    expect(good).toBeGreaterThan(slow);
    expect(good).toBeGreaterThan(lossy);
    expect(estimateMos({ rttMs: 1e6, jitterMs: 1e6, lossPct: 100 })).toBe(1);
    expect(estimateMos({ rttMs: Number.NaN, jitterMs: -1, lossPct: 0 })).toBeLessThanOrEqual(4.5);
  });
});

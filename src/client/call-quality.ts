/**
 * Connection quality of the agent's leg, from `RTCPeerConnection.getStats()`, with no DOM dependency: the stats
 * are read structurally, so Node tests can feed plain objects.
 */

/** One entry of an `RTCStatsReport`, read structurally. */
export interface StatsEntry {
  id: string;
  type: string;
  [key: string]: unknown;
}

/** Cumulative counters carried from one sample to the next, for per-interval loss. */
export interface QualityCounters {
  packetsLost: number;
  packetsReceived: number;
}

export type QualityWarning = 'rtt' | 'jitter' | 'loss' | 'mos';

export interface QualitySample {
  /** Round-trip time of the selected candidate pair. */
  rttMs: number | null;
  /** Jitter of the received audio. */
  jitterMs: number | null;
  /** Loss over the last interval (or since the start, for the first sample), in percent. */
  lossPct: number | null;
  packetsReceived: number | null;
  packetsLost: number | null;
  /** E-model estimate, 1…4.5. */
  mos: number | null;
  /** Which figures are past their thresholds. */
  warnings: QualityWarning[];
  counters: QualityCounters | null;
}

/** Past these, the console shows a warning. */
const QUALITY_THRESHOLDS = { rttMs: 400, jitterMs: 30, lossPct: 3, mos: 3.5 } as const;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The candidate pair in use: the transport's selected pair, else a nominated succeeded pair. */
function selectedPair(entries: StatsEntry[]): StatsEntry | undefined {
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const t of entries) {
    if (t.type !== 'transport' || typeof t.selectedCandidatePairId !== 'string') continue;
    const pair = byId.get(t.selectedCandidatePairId);
    if (pair) return pair;
  }
  return entries.find((e) => e.type === 'candidate-pair' && e.state === 'succeeded' && e.nominated === true);
}

/**
 * Reads RTT, jitter and loss from a stats report. `previous` (the counters of the last sample) makes loss a
 * per-interval figure, so an old burst of loss does not colour the whole call.
 */
export function summarizeStats(report: Iterable<StatsEntry>, previous?: QualityCounters | null): QualitySample {
  const entries = [...report];
  const pair = selectedPair(entries);
  const rttS = num(pair?.currentRoundTripTime);
  const inbound = entries.find((e) => e.type === 'inbound-rtp' && (e.kind === 'audio' || e.mediaType === 'audio'));
  const jitterS = num(inbound?.jitter);
  const lost = num(inbound?.packetsLost);
  const received = num(inbound?.packetsReceived);

  let lossPct: number | null = null;
  let counters: QualityCounters | null = null;
  if (lost !== null && received !== null) {
    counters = { packetsLost: lost, packetsReceived: received };
    const dLost = Math.max(0, lost - (previous?.packetsLost ?? 0));
    const dReceived = Math.max(0, received - (previous?.packetsReceived ?? 0));
    lossPct = dLost + dReceived > 0 ? (100 * dLost) / (dLost + dReceived) : 0;
  }
  const rttMs = rttS === null ? null : rttS * 1000;
  const jitterMs = jitterS === null ? null : jitterS * 1000;
  const mos =
    rttMs === null && jitterMs === null && lossPct === null
      ? null
      : estimateMos({ rttMs: rttMs ?? 0, jitterMs: jitterMs ?? 0, lossPct: lossPct ?? 0 });
  return {
    rttMs,
    jitterMs,
    lossPct,
    packetsReceived: received,
    packetsLost: lost,
    mos,
    warnings: qualityWarnings({ rttMs, jitterMs, lossPct, mos }),
    counters,
  };
}

function qualityWarnings(q: {
  rttMs: number | null;
  jitterMs: number | null;
  lossPct: number | null;
  mos: number | null;
}): QualityWarning[] {
  const w: QualityWarning[] = [];
  if (q.rttMs !== null && q.rttMs > QUALITY_THRESHOLDS.rttMs) w.push('rtt');
  if (q.jitterMs !== null && q.jitterMs > QUALITY_THRESHOLDS.jitterMs) w.push('jitter');
  if (q.lossPct !== null && q.lossPct > QUALITY_THRESHOLDS.lossPct) w.push('loss');
  if (q.mos !== null && q.mos < QUALITY_THRESHOLDS.mos) w.push('mos');
  return w;
}

/**
 * A simplified ITU-T G.107 E-model, the same one the media node reports (src/media/mos.ts), so the agent's and
 * the supervisor's figures agree:
 * one-way delay d = rtt/2 + 2·jitter + 10 ms; Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3);
 * Ie,eff = 95·Ppl / (Ppl + 25.1); R = 93.2 − Id − Ie,eff; MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R).
 * A trend indicator, not a perceptual measurement; a perfect network gives about 4.4.
 */
export function estimateMos(input: { rttMs: number; jitterMs: number; lossPct: number }): number {
  const pos = (x: number) => (Number.isFinite(x) && x > 0 ? x : 0);
  const loss = Math.min(100, pos(input.lossPct));
  const d = pos(input.rttMs) / 2 + 2 * pos(input.jitterMs) + 10;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ieEff = (95 * loss) / (loss + 25.1);
  const r = Math.min(100, Math.max(0, 93.2 - id - ieEff));
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100;
}

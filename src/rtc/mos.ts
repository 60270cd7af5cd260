/**
 * Listening-quality estimate from network figures: a simplified ITU-T G.107 E-model.
 *
 * - One-way delay d = rtt/2 + 2·jitter (jitter buffer) + 10 ms (codec framing and lookahead).
 * - Delay impairment Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3) (Cole & Rosenbluth's fit of G.107).
 * - Loss impairment Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl + Bpl) (G.107 §7.4 with random loss), with Ie = 0 and
 *   Bpl = 25.1: Opus with FEC/PLC is treated like G.711 with PLC (G.113 Appendix I), a conservative choice.
 * - R = 93.2 − Id − Ie,eff, clamped to 0…100; MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R) (G.107 Annex B).
 *
 * A perfect network gives ≈4.4 (the narrowband E-model ceiling); the result is a trend indicator for dashboards,
 * not a perceptual measurement.
 */
export interface MosInput {
  rttMs: number;
  jitterMs: number;
  /** Packet loss in percent (0…100). */
  lossPct: number;
}

export function estimateMos(input: MosInput): number {
  const rtt = finiteNonNegative(input.rttMs);
  const jitter = finiteNonNegative(input.jitterMs);
  const loss = Math.min(100, finiteNonNegative(input.lossPct));
  const d = rtt / 2 + 2 * jitter + 10;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ie = 0;
  const bpl = 25.1;
  const ieEff = ie + ((95 - ie) * loss) / (loss + bpl);
  const r = Math.min(100, Math.max(0, 93.2 - id - ieEff));
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100;
}

function finiteNonNegative(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

import { describe, expect, it } from 'vitest';
import {
  classifyFrame,
  DEFAULT_MARKER_SCHEME,
  decodeMarker,
  MarkerDetector,
  markerFrequencyAt,
  markerReport,
} from './markers.js';
import { newSynthState, type SynthState, synthesizeFrame } from './synth.js';

const scheme = DEFAULT_MARKER_SCHEME;

/**
 * What a marker generator sends from `fromMs` for `durationMs`, as the receiver would get it: delayed, resampled
 * to 16 kHz (what wrtc's sink delivers for WhatsApp-shaped Opus) and with noise; frames whose send time falls in
 * `drop` are lost.
 */
function receive(
  detector: MarkerDetector,
  opts: { fromMs: number; durationMs: number; delayMs: number; drop?: [number, number]; toneHz?: number },
): void {
  const state: SynthState = newSynthState();
  const frame48 = new Int16Array(480);
  const frame16 = new Float64Array(160);
  let seed = 7;
  for (let t = opts.fromMs; t < opts.fromMs + opts.durationMs; t += 10) {
    synthesizeFrame(frame48, t, 48000, opts.toneHz ?? 440, 8000, scheme, state);
    if (opts.drop && t >= opts.drop[0] && t < opts.drop[1]) {
      detector.push(null, t + opts.delayMs);
      continue;
    }
    for (let i = 0; i < 160; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      frame16[i] =
        ((frame48[3 * i] ?? 0) + (frame48[3 * i + 1] ?? 0) + (frame48[3 * i + 2] ?? 0)) / 3 +
        (seed / 2 ** 31 - 0.5) * 600;
    }
    const c = classifyFrame(frame16, 16000, scheme);
    detector.push(c.index, t + opts.delayMs);
  }
}

describe('marker scheme', () => {
  it('plays marker k in the first burstMs of slot k and the base tone after', () => {
    expect(markerFrequencyAt(12_300, scheme)).toBe(scheme.frequencies[123 % 16]);
    expect(markerFrequencyAt(12_349.9, scheme)).toBe(scheme.frequencies[123 % 16]);
    expect(markerFrequencyAt(12_350, scheme)).toBeUndefined();
  });

  it('decodes the latest slot with that index before the arrival', () => {
    expect(decodeMarker(123 % 16, 12_300 + 110, scheme)).toBe(123);
    // Up to N × interval of delay is unambiguous.
    expect(decodeMarker(123 % 16, 12_300 + 1_590, scheme)).toBe(123);
    expect(decodeMarker(123 % 16, 12_300 + 1_610, scheme)).toBe(139);
  });

  it('classifies a base-tone frame as no marker and silence as no marker', () => {
    const state = newSynthState();
    const f = new Int16Array(480);
    synthesizeFrame(f, 12_360, 48000, 440, 8000, scheme, state);
    expect(classifyFrame(f, 48000, scheme).index).toBeNull();
    expect(classifyFrame(new Int16Array(480), 48000, scheme).index).toBeNull();
  });
});

describe('marker detection over a synthetic path', () => {
  const t0 = 1_700_000_000_000;

  it('recovers every marker with a 93 ms delay, 16 kHz resampling and noise', () => {
    const detector = new MarkerDetector(scheme);
    receive(detector, { fromMs: t0, durationMs: 3000, delayMs: 93 });
    const report = markerReport(detector.detections(), { fromMs: t0, toMs: t0 + 3093, settleMs: 200 }, scheme);
    expect(report.missing).toEqual([]);
    expect(report.expected).toBeGreaterThanOrEqual(28);
    expect(report.clippedMs).toBe(0);
    expect(report.latencyMs?.median).toBeGreaterThanOrEqual(93);
    expect(report.latencyMs?.median).toBeLessThan(93 + 25);
  });

  it('reports exactly the markers lost in a 300 ms gap and the leading gap', () => {
    const detector = new MarkerDetector(scheme);
    receive(detector, { fromMs: t0, durationMs: 3000, delayMs: 120, drop: [t0 + 1000, t0 + 1300] });
    const k0 = t0 / scheme.intervalMs;
    const report = markerReport(detector.detections(), { fromMs: t0, toMs: t0 + 3120, settleMs: 200 }, scheme);
    expect(report.missing).toEqual([k0 + 10, k0 + 11, k0 + 12]);
    expect(report.clippedMs).toBe(300);

    const clippedStart = new MarkerDetector(scheme);
    receive(clippedStart, { fromMs: t0, durationMs: 2000, delayMs: 60, drop: [t0, t0 + 500] });
    const start = markerReport(clippedStart.detections(), { fromMs: t0, toMs: t0 + 2060, settleMs: 200 }, scheme);
    expect(start.missing).toEqual([k0, k0 + 1, k0 + 2, k0 + 3, k0 + 4]);
    expect(start.leadingGapMs).toBe(500);
    expect(start.leadingMissing).toBe(5);
    expect(report.leadingMissing).toBe(0); // lost mid-stream, not clipped at the start
  });

  it('leaves out markers the sender did not push on time, and counts them apart', () => {
    const detector = new MarkerDetector(scheme);
    // The sender stalled for 150 ms: nothing of [t0+1000, t0+1150) was sent, so nothing of it arrives.
    receive(detector, { fromMs: t0, durationMs: 3000, delayMs: 80, drop: [t0 + 1000, t0 + 1150] });
    const k0 = t0 / scheme.intervalMs;
    const window = { fromMs: t0, toMs: t0 + 3080, settleMs: 200 };
    expect(markerReport(detector.detections(), window, scheme).missing).toEqual([k0 + 10, k0 + 11]);
    const gaps = [{ fromMs: t0 + 1000, toMs: t0 + 1150 }];
    const report = markerReport(detector.detections(), { ...window, senderGaps: gaps }, scheme);
    expect(report.missing).toEqual([]);
    expect(report.notSentOnTime).toBe(2);
    // A gap only excludes the markers whose burst it overlaps: one after the burst (base tone) excludes none.
    const late = markerReport(
      detector.detections(),
      { ...window, senderGaps: [{ fromMs: t0 + 1260, toMs: t0 + 1290 }] },
      scheme,
    );
    expect(late.notSentOnTime).toBe(0);
    expect(late.missing).toEqual([k0 + 10, k0 + 11]);
  });

  it('does not expect markers still in flight', () => {
    const detector = new MarkerDetector(scheme);
    receive(detector, { fromMs: t0, durationMs: 1000, delayMs: 100 });
    // Report "now" = t0+1000: the last 100 ms of markers are in flight; settleMs covers them.
    const report = markerReport(detector.detections(), { fromMs: t0, toMs: t0 + 1000, settleMs: 300 }, scheme);
    expect(report.missing).toEqual([]);
  });

  it('merges a burst split by one misclassified frame', () => {
    const d = new MarkerDetector(scheme);
    const at = t0 + 110;
    d.push(3, at);
    d.push(3, at + 10);
    d.push(null, at + 20);
    d.push(3, at + 30);
    d.push(3, at + 40);
    d.push(null, at + 50);
    expect(d.detections()).toEqual([{ k: decodeMarker(3, at, scheme), at, frames: 4 }]);
  });
});

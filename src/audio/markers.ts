/**
 * The marker scheme that measures clipping (audio lost at the start of a call or across a leg swap).
 *
 * Time is cut into slots of `intervalMs` on the epoch clock ({@link nowMs}); slot k is marker number k. A sender in
 * marker mode plays, during the first `burstMs` of each slot, a burst at `frequencies[k mod N]`, and its base tone
 * for the rest of the slot. A receiver classifies each ~10 ms frame, groups frames of one frequency into a
 * detection, and recovers k as the latest slot with that frequency index that started before the detection — so
 * marker numbers are absolute, need no side channel between sender and receiver, and stay unambiguous while the
 * path delay is below N × intervalMs (1.6 s by default; the wrtc bridge adds ≈60 ms per direction).
 *
 * Frequencies are 200 Hz apart (two bins of a 10 ms frame), between 1 and 4 kHz: inside Opus wideband at
 * WhatsApp's `maxplaybackrate=16000`, clear of the 440/660 Hz base tones.
 */
import { meanSquare, toneShare } from './goertzel.js';

export interface MarkerScheme {
  /** Slot length: one marker per slot. @default 100 */
  intervalMs: number;
  /** Burst length at the start of each slot; the rest of the slot carries the base tone. @default 50 */
  burstMs: number;
  /** Burst frequency of marker k is `frequencies[k % frequencies.length]`. @default 1000, 1200 … 4000 Hz */
  frequencies: readonly number[];
}

export const DEFAULT_MARKER_SCHEME: MarkerScheme = Object.freeze({
  intervalMs: 100,
  burstMs: 50,
  frequencies: Object.freeze(Array.from({ length: 16 }, (_, i) => 1000 + 200 * i)),
});

export function markerScheme(opts: boolean | Partial<MarkerScheme> | undefined): MarkerScheme | undefined {
  if (!opts) return undefined;
  const scheme = opts === true ? DEFAULT_MARKER_SCHEME : { ...DEFAULT_MARKER_SCHEME, ...opts };
  if (!(scheme.burstMs > 0 && scheme.burstMs < scheme.intervalMs) || scheme.frequencies.length < 2) {
    throw new Error('marker scheme needs 0 < burstMs < intervalMs and at least two frequencies');
  }
  return scheme;
}

/** What a marker sender plays at epoch time `t`: the marker frequency during a burst, else undefined (base tone). */
export function markerFrequencyAt(t: number, scheme: MarkerScheme): number | undefined {
  const k = Math.floor(t / scheme.intervalMs);
  if (t - k * scheme.intervalMs >= scheme.burstMs) return undefined;
  return scheme.frequencies[mod(k, scheme.frequencies.length)];
}

/** The marker number (slot) for frequency index `index` detected at `arrivalMs`: the latest such slot before it. */
export function decodeMarker(index: number, arrivalMs: number, scheme: MarkerScheme): number {
  const n = scheme.frequencies.length;
  const k0 = Math.floor(arrivalMs / scheme.intervalMs);
  return k0 - mod(k0 - index, n);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

export interface FrameClassification {
  /** Index into `scheme.frequencies`, or null when the frame is not a marker burst. */
  index: number | null;
  share: number;
}

/**
 * Which marker burst, if any, fills this frame: the marker frequency with the largest energy share, when that
 * share is ≥ `minShare` and the frame is louder than `minRms`.
 */
export function classifyFrame(
  samples: ArrayLike<number>,
  sampleRate: number,
  scheme: MarkerScheme,
  opts: { minShare?: number; minRms?: number } = {},
): FrameClassification {
  const minRms = opts.minRms ?? 100;
  if (meanSquare(samples) < minRms * minRms) return { index: null, share: 0 };
  let best = -1;
  let bestShare = 0;
  for (const [i, hz] of scheme.frequencies.entries()) {
    if (hz >= sampleRate / 2) continue;
    const share = toneShare(samples, hz, sampleRate);
    if (share > bestShare) {
      bestShare = share;
      best = i;
    }
  }
  return bestShare >= (opts.minShare ?? 0.5) ? { index: best, share: bestShare } : { index: null, share: bestShare };
}

export interface MarkerDetection {
  /** Absolute marker number (slot). */
  k: number;
  /** Arrival time (epoch ms) of the first frame classified as this marker. */
  at: number;
  frames: number;
}

/**
 * Groups classified frames into detections. A detection needs `minFrames` consecutive frames (2 by default: a
 * 50 ms burst spans at least four whole 10 ms frames, so this survives jitter-buffer stretching).
 */
export class MarkerDetector {
  readonly scheme: MarkerScheme;
  readonly #minFrames: number;
  readonly #detections: MarkerDetection[] = [];
  #run: { index: number; at: number; frames: number } | undefined;
  readonly #maxDetections: number;

  constructor(scheme: MarkerScheme, opts: { minFrames?: number; maxDetections?: number } = {}) {
    this.scheme = scheme;
    this.#minFrames = opts.minFrames ?? 2;
    this.#maxDetections = opts.maxDetections ?? 100_000;
  }

  /** Feeds one frame's classification at its arrival time. */
  push(index: number | null, at: number): void {
    if (this.#run && this.#run.index === index) {
      this.#run.frames++;
      return;
    }
    this.#flush();
    this.#run = index === null ? undefined : { index, at, frames: 1 };
  }

  #flush(): void {
    const run = this.#run;
    this.#run = undefined;
    if (!run || run.frames < this.#minFrames) return;
    const k = decodeMarker(run.index, run.at, this.scheme);
    const last = this.#detections[this.#detections.length - 1];
    if (last && last.k === k) {
      last.frames += run.frames;
      return;
    }
    if (this.#detections.length >= this.#maxDetections) this.#detections.shift();
    this.#detections.push({ k, at: run.at, frames: run.frames });
  }

  /** Detections so far, including a burst still in progress if it is long enough. */
  detections(): MarkerDetection[] {
    const out = [...this.#detections];
    const run = this.#run;
    if (run && run.frames >= this.#minFrames) {
      const k = decodeMarker(run.index, run.at, this.scheme);
      if (out[out.length - 1]?.k !== k) out.push({ k, at: run.at, frames: run.frames });
    }
    return out;
  }
}

/** A stretch of epoch time [fromMs, toMs) whose audio the sender did not push on time (its own process stalled). */
export interface SenderGap {
  fromMs: number;
  toMs: number;
}

export interface MarkerReport {
  /** Marker numbers whose slot started in the window and whose burst the sender pushed on time. */
  expected: number;
  /**
   * Markers left out of `expected` because the sender itself skipped or delayed their burst (an event-loop stall in
   * the sending process, see {@link SenderGap}): nothing on the path could have delivered them.
   */
  notSentOnTime: number;
  received: number;
  /** Expected marker numbers that never arrived. */
  missing: number[];
  /**
   * Missing markers before the first one that arrived (all of them if none did): audio clipped at the start of the
   * window, as opposed to a marker lost mid-stream to packet loss or jitter.
   */
  leadingMissing: number;
  /** `missing.length × intervalMs`: audio lost in the window, at marker resolution. */
  clippedMs: number;
  /** Time from the window start to the first marker that arrived (its slot start), or null. */
  leadingGapMs: number | null;
  /** One-way delay estimates: detection arrival minus slot start (≈ path delay + up to one frame). */
  latencyMs: { min: number; median: number; max: number } | null;
}

/**
 * Compares detections with what a sender playing markers throughout [fromMs, toMs] sent. Slots that start after
 * `toMs − settleMs` are not expected yet (they may still be in flight); slots whose burst overlaps one of the
 * sender's `senderGaps` are not expected at all (counted in `notSentOnTime`).
 */
export function markerReport(
  detections: readonly MarkerDetection[],
  window: { fromMs: number; toMs: number; settleMs?: number; senderGaps?: readonly SenderGap[] },
  scheme: MarkerScheme,
): MarkerReport {
  const settle = window.settleMs ?? 500;
  const first = Math.ceil(window.fromMs / scheme.intervalMs);
  const last = Math.floor((window.toMs - settle) / scheme.intervalMs);
  const got = new Set(detections.map((d) => d.k));
  const gaps = window.senderGaps ?? [];
  const missing: number[] = [];
  let expected = 0;
  let notSentOnTime = 0;
  for (let k = first; k <= last; k++) {
    const burstFrom = k * scheme.intervalMs;
    const burstTo = burstFrom + scheme.burstMs;
    if (gaps.some((g) => g.fromMs < burstTo && g.toMs > burstFrom)) {
      notSentOnTime++;
      continue;
    }
    expected++;
    if (!got.has(k)) missing.push(k);
  }
  const inWindow = detections.filter((d) => d.k >= first && d.k <= last);
  const latencies = inWindow.map((d) => d.at - d.k * scheme.intervalMs).sort((a, b) => a - b);
  const firstReceived = inWindow[0];
  const firstK = inWindow.reduce((min, d) => Math.min(min, d.k), Number.POSITIVE_INFINITY);
  return {
    expected,
    notSentOnTime,
    received: expected - missing.length,
    missing,
    leadingMissing: missing.filter((k) => k < firstK).length,
    clippedMs: missing.length * scheme.intervalMs,
    leadingGapMs: firstReceived ? firstReceived.k * scheme.intervalMs - window.fromMs : null,
    latencyMs:
      latencies.length === 0
        ? null
        : {
            min: latencies[0] ?? 0,
            median: latencies[Math.floor(latencies.length / 2)] ?? 0,
            max: latencies[latencies.length - 1] ?? 0,
          },
  };
}

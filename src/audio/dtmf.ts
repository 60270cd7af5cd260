/**
 * In-band DTMF (ITU-T Q.23 dual tones): synthesis for the simulators and a Goertzel detector.
 *
 * Why in-band: wrtc exposes no RFC 4733 events in either direction (no RTCDTMFSender, no receive API; see
 * src/media/engines/wrtc/DTMF.md), but libwebrtc's jitter buffer (NetEq) renders received telephone-event packets as dual tones
 * into the decoded audio. Detecting tones on the decoded WhatsApp track therefore recovers the caller's keys, and
 * works the same for keys the caller's phone sends in-band.
 */
import { meanSquare } from './goertzel.js';

const LOW = [697, 770, 852, 941] as const;
const HIGH = [1209, 1336, 1477, 1633] as const;
const KEYS = ['123A', '456B', '789C', '*0#D'] as const;

export const DTMF_DIGITS = '0123456789*#ABCD';

/** The (low, high) frequency pair of a key, or undefined for anything else. */
export function dtmfFrequencies(digit: string): [number, number] | undefined {
  for (const [row, keys] of KEYS.entries()) {
    const col = keys.indexOf(digit.toUpperCase());
    if (col !== -1 && digit.length === 1) return [LOW[row] ?? 0, HIGH[col] ?? 0];
  }
  return undefined;
}

function power(samples: ArrayLike<number>, start: number, length: number, hz: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < start + length; i++) {
    const s0 = (samples[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (4 * Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2)) / (length * length);
}

/** Power near `hz`: the best of hz and hz ± 12 Hz, for tones a jitter buffer has stretched or bent slightly. */
function nearPower(samples: ArrayLike<number>, start: number, length: number, hz: number, sampleRate: number): number {
  return Math.max(
    power(samples, start, length, hz - 12, sampleRate),
    power(samples, start, length, hz, sampleRate),
    power(samples, start, length, hz + 12, sampleRate),
  );
}

function strongest(
  freqs: readonly number[],
  samples: ArrayLike<number>,
  start: number,
  length: number,
  sampleRate: number,
): { index: number; power: number; runnerUp: number } {
  let index = -1;
  let best = 0;
  let runnerUp = 0;
  for (const [i, hz] of freqs.entries()) {
    const p = nearPower(samples, start, length, hz, sampleRate);
    if (p > best) {
      runnerUp = best;
      best = p;
      index = i;
    } else if (p > runnerUp) runnerUp = p;
  }
  return { index, power: best, runnerUp };
}

export interface DtmfDetectOptions {
  /** Quieter windows are ignored (s16 RMS). @default 300 */
  minRms?: number;
}

/**
 * The key whose two tones fill this window, or null. Checks: each tone beats the others of its group by 5 dB,
 * the pair carries ≥ 40 % of the energy, and the twist (high/low level) is within ±8 dB. Use windows of ≥ 25 ms:
 * the low group is only 73 Hz apart.
 *
 * Tuned on tones rendered by libwebrtc's jitter buffer from Chromium's RFC 4733 events: those come out shorter than
 * sent (≈50–90 ms for 120 ms keys) and spectrally smeared by time-stretching, so a stricter share (60 %) or a
 * longer window (30 ms) missed keys.
 */
export function detectDtmfDigit(
  samples: ArrayLike<number>,
  sampleRate: number,
  start = 0,
  length = samples.length - start,
  opts: DtmfDetectOptions = {},
): string | null {
  const ms = meanSquare(samples, start, length);
  const minRms = opts.minRms ?? 300;
  if (ms < minRms * minRms) return null;
  const low = strongest(LOW, samples, start, length, sampleRate);
  const high = strongest(HIGH, samples, start, length, sampleRate);
  if (low.index < 0 || high.index < 0) return null;
  if (low.power < 3 * low.runnerUp || high.power < 3 * high.runnerUp) return null;
  if ((low.power + high.power) / (2 * ms) < 0.4) return null;
  const twist = high.power / low.power;
  if (twist < 0.16 || twist > 6.3) return null;
  return KEYS[low.index]?.[high.index] ?? null;
}

export interface DtmfEvent {
  digit: string;
  /** Epoch ms of the frame that confirmed the key. */
  at: number;
}

/**
 * Turns a stream of audio frames into key presses: analyses the last 25 ms at every frame, reports a key once it
 * has been seen in two consecutive windows, and reports it again only after 40 ms without it.
 */
export class DtmfDetector {
  readonly #onDigit: (e: DtmfEvent) => void;
  readonly #opts: DtmfDetectOptions;
  #buf = new Float64Array(0);
  #rate = 0;
  #fill = 0;
  #candidate: string | null = null;
  #hits = 0;
  #reported: string | null = null;
  #quiet = 0;

  constructor(onDigit: (e: DtmfEvent) => void, opts: DtmfDetectOptions = {}) {
    this.#onDigit = onDigit;
    this.#opts = opts;
  }

  /** Feeds one mono frame (any rate, typically 10 ms). */
  push(frame: ArrayLike<number>, sampleRate: number, at: number): void {
    const windowLength = Math.round(sampleRate * 0.025);
    if (sampleRate !== this.#rate || this.#buf.length !== windowLength) {
      this.#rate = sampleRate;
      this.#buf = new Float64Array(windowLength);
      this.#fill = 0;
    }
    const buf = this.#buf;
    const n = Math.min(frame.length, buf.length);
    buf.copyWithin(0, n);
    for (let i = 0; i < n; i++) buf[buf.length - n + i] = frame[frame.length - n + i] ?? 0;
    this.#fill = Math.min(buf.length, this.#fill + n);
    if (this.#fill < buf.length) return;
    const digit = detectDtmfDigit(buf, sampleRate, 0, buf.length, this.#opts);
    if (digit === null) {
      // Re-arm only after 40 ms without the key (Q.24's minimum pause): a jitter buffer can drop a rendered tone for
      // a frame or two, which must not count as a second press.
      if (++this.#quiet >= 4) this.#reported = null;
      this.#candidate = null;
      this.#hits = 0;
      return;
    }
    this.#quiet = 0;
    this.#hits = digit === this.#candidate ? this.#hits + 1 : 1;
    this.#candidate = digit;
    if (this.#hits >= 2 && this.#reported !== digit) {
      this.#reported = digit;
      this.#onDigit({ digit, at });
    }
  }
}

export interface DtmfSegment {
  digit: string;
  startMs: number;
  endMs: number;
}

/** Lays out `digits` from `startMs`: `toneMs` of each key, `gapMs` of silence after it. Unknown characters are skipped. */
export function dtmfSchedule(digits: string, startMs: number, toneMs = 120, gapMs = 80): DtmfSegment[] {
  const out: DtmfSegment[] = [];
  let t = startMs;
  for (const d of digits) {
    if (!dtmfFrequencies(d)) continue;
    out.push({ digit: d.toUpperCase(), startMs: t, endMs: t + toneMs });
    t += toneMs + gapMs;
  }
  return out;
}

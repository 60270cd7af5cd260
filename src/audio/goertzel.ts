/**
 * Pure DSP on PCM sample buffers: Goertzel tone power, RMS and a Goertzel frequency sweep. No allocation in the
 * per-frame paths; samples may be any numeric array (Int16Array from wrtc, Float32Array, plain arrays in tests).
 */

/**
 * Squared amplitude of `freqHz` in `samples[start, start + length)`: a sine of amplitude A that fills the window
 * gives ≈ A² (exactly A² when the window holds a whole number of cycles).
 */
export function goertzelPower(
  samples: ArrayLike<number>,
  freqHz: number,
  sampleRate: number,
  start = 0,
  length = samples.length - start,
): number {
  if (length <= 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const s0 = (samples[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (4 * Math.max(0, power)) / (length * length);
}

/** Mean square of the window. */
export function meanSquare(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  if (length <= 0) return 0;
  let sum = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const v = samples[i] ?? 0;
    sum += v * v;
  }
  return sum / length;
}

export function rms(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  return Math.sqrt(meanSquare(samples, start, length));
}

/**
 * Fraction of the window's energy carried by `freqHz` (0…1, ≈1 for a pure tone filling the window). A sine of
 * amplitude A has mean square A²/2, hence the factor 2.
 */
export function toneShare(
  samples: ArrayLike<number>,
  freqHz: number,
  sampleRate: number,
  start = 0,
  length = samples.length - start,
): number {
  const ms = meanSquare(samples, start, length);
  if (ms === 0) return 0;
  return Math.min(1, goertzelPower(samples, freqHz, sampleRate, start, length) / (2 * ms));
}

export interface DominantFrequency {
  hz: number;
  /** Energy share of that frequency, see {@link toneShare}. */
  share: number;
}

export interface SweepOptions {
  /** @default 100 */
  minHz?: number;
  /** @default 4000 */
  maxHz?: number;
  /**
   * Coarse step; never more than half the window's bin width (sampleRate / length), or a narrow line between two
   * steps would be missed. The peak is then refined to 1 Hz. @default 10
   */
  stepHz?: number;
}

/**
 * The strongest frequency in the window by Goertzel sweep (coarse, then refined to 1 Hz around the peak).
 * Returns null for silence. Cost grows with length²: sweep windows of 20–250 ms, not seconds.
 */
export function dominantFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  opts: SweepOptions = {},
): DominantFrequency | null {
  const minHz = opts.minHz ?? 100;
  const maxHz = Math.min(opts.maxHz ?? 4000, sampleRate / 2 - 1);
  const n = samples.length;
  const ms = meanSquare(samples);
  if (ms === 0 || n < 8) return null;
  const step = Math.max(0.5, Math.min(opts.stepHz ?? 10, sampleRate / n / 2));
  let bestHz = minHz;
  let best = -1;
  for (let f = minHz; f <= maxHz; f += step) {
    const p = goertzelPower(samples, f, sampleRate);
    if (p > best) {
      best = p;
      bestHz = f;
    }
  }
  const center = Math.round(bestHz);
  const reach = Math.ceil(step);
  for (let f = Math.max(minHz, center - reach); f <= Math.min(maxHz, center + reach); f += 1) {
    const p = goertzelPower(samples, f, sampleRate);
    if (p > best) {
      best = p;
      bestHz = f;
    }
  }
  return { hz: Math.round(bestHz), share: Math.min(1, best / (2 * ms)) };
}

/**
 * The frequency heard most of the time: the window is cut into `chunkMs` chunks, each chunk's dominant frequency is
 * found (chunks with less than `minShare` of their energy in one tone are skipped), and the most common value
 * (±`toleranceHz`) wins. Robust to short bursts of other tones (markers) and to the phase jumps a jitter buffer
 * introduces, which smear one long sweep.
 */
export function prevalentFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  opts: SweepOptions & { chunkMs?: number; minShare?: number; toleranceHz?: number } = {},
): DominantFrequency | null {
  const chunk = Math.max(8, Math.round((sampleRate * (opts.chunkMs ?? 20)) / 1000));
  const tolerance = opts.toleranceHz ?? 3;
  const found: DominantFrequency[] = [];
  const buf = new Float64Array(chunk);
  for (let start = 0; start + chunk <= samples.length; start += chunk) {
    for (let i = 0; i < chunk; i++) buf[i] = samples[start + i] ?? 0;
    const d = dominantFrequency(buf, sampleRate, opts);
    if (d && d.share >= (opts.minShare ?? 0.5)) found.push(d);
  }
  let winner: DominantFrequency[] = [];
  for (const d of found) {
    const near = found.filter((o) => Math.abs(o.hz - d.hz) <= tolerance);
    if (near.length > winner.length) winner = near;
  }
  if (winner.length === 0) return null;
  const hzs = winner.map((d) => d.hz).sort((a, b) => a - b);
  const shares = winner.reduce((acc, d) => acc + d.share, 0) / winner.length;
  return { hz: hzs[Math.floor(hzs.length / 2)] ?? 0, share: shares };
}

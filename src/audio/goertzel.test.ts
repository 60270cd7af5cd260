import { describe, expect, it } from 'vitest';
import { dominantFrequency, goertzelPower, prevalentFrequency, rms, toneShare } from './goertzel.js';

const sine = (hz: number, sampleRate: number, n: number, amp = 1000, phase = 0): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => amp * Math.sin(phase + (2 * Math.PI * hz * i) / sampleRate));

describe('goertzel', () => {
  it('returns A² for a bin-centred sine and ~0 for another bin', () => {
    const x = sine(1000, 48000, 480, 1000);
    expect(goertzelPower(x, 1000, 48000)).toBeCloseTo(1_000_000, -3);
    expect(goertzelPower(x, 1200, 48000)).toBeLessThan(1);
  });

  it('toneShare is ≈1 for a pure tone and ≈½ for an equal two-tone mix', () => {
    const a = sine(1000, 16000, 160);
    expect(toneShare(a, 1000, 16000)).toBeGreaterThan(0.99);
    const b = sine(2000, 16000, 160);
    const mix = a.map((v, i) => v + (b[i] ?? 0));
    expect(toneShare(mix, 1000, 16000)).toBeCloseTo(0.5, 1);
    expect(toneShare(new Float64Array(160), 1000, 16000)).toBe(0);
  });

  it('rms of a sine is A/√2', () => {
    expect(rms(sine(440, 48000, 48000, 1000))).toBeCloseTo(1000 / Math.SQRT2, 0);
  });
});

describe('dominantFrequency', () => {
  it.each([
    [440, 48000],
    [660, 48000],
    [440, 16000],
    [1234, 16000],
    [3300, 8000],
  ])('finds %d Hz at %d Hz sampling within 2 Hz', (hz, sr) => {
    const found = dominantFrequency(sine(hz, sr, sr / 4, 3000, 0.3), sr);
    expect(found?.hz).toBeGreaterThanOrEqual(hz - 2);
    expect(found?.hz).toBeLessThanOrEqual(hz + 2);
    expect(found?.share).toBeGreaterThan(0.8);
  });

  it('picks the stronger of two tones, survives noise, and returns null for silence', () => {
    const sr = 16000;
    const strong = sine(660, sr, 4000, 4000);
    const weak = sine(440, sr, 4000, 1500);
    let seed = 1;
    const noise = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31 - 0.5) * 1000;
    };
    const x = strong.map((v, i) => v + (weak[i] ?? 0) + noise());
    expect(dominantFrequency(x, sr)?.hz).toBeCloseTo(660, -1);
    expect(dominantFrequency(new Float64Array(4000), sr)).toBeNull();
  });
});

describe('prevalentFrequency', () => {
  it('finds the base tone under marker bursts and phase jumps', () => {
    const sr = 16000;
    const x = new Float64Array(sr);
    let phase = 0;
    for (let i = 0; i < sr; i++) {
      const inBurst = i % 1600 < 800; // 50 ms bursts every 100 ms
      const hz = inBurst ? 1000 + 200 * Math.floor(i / 1600) : 523;
      x[i] = 3000 * Math.sin(phase);
      phase += (2 * Math.PI * hz) / sr;
      if (i % 2000 === 0) phase += 1.3; // jitter-buffer splice
    }
    const found = prevalentFrequency(x, sr);
    expect(found?.hz).toBeGreaterThanOrEqual(521);
    expect(found?.hz).toBeLessThanOrEqual(525);
  });

  it('returns null for silence and noise', () => {
    expect(prevalentFrequency(new Float64Array(8000), 16000)).toBeNull();
    let seed = 3;
    const noise = Float64Array.from({ length: 8000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31 - 0.5) * 3000;
    });
    expect(prevalentFrequency(noise, 16000)).toBeNull();
  });
});

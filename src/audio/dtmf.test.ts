import { describe, expect, it } from 'vitest';
import { DTMF_DIGITS, DtmfDetector, type DtmfEvent, detectDtmfDigit, dtmfFrequencies, dtmfSchedule } from './dtmf.js';
import { DEFAULT_MARKER_SCHEME } from './markers.js';
import { newSynthState, synthesizeFrame } from './synth.js';

function dualTone(digit: string, sampleRate: number, ms: number, amp = 6000, noise = 0): Float64Array {
  const [lo, hi] = dtmfFrequencies(digit) ?? [0, 0];
  let seed = 11;
  return Float64Array.from({ length: Math.round((sampleRate * ms) / 1000) }, (_, i) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (
      amp * 0.5 * (Math.sin((2 * Math.PI * lo * i) / sampleRate) + Math.sin((2 * Math.PI * hi * i) / sampleRate)) +
      (seed / 2 ** 31 - 0.5) * noise
    );
  });
}

/** Feeds `signal` to a detector in 10 ms frames, as a sink would. */
function feed(signal: Float64Array, sampleRate: number): DtmfEvent[] {
  const out: DtmfEvent[] = [];
  const d = new DtmfDetector((e) => out.push(e));
  const frame = sampleRate / 100;
  for (let i = 0; i + frame <= signal.length; i += frame) d.push(signal.subarray(i, i + frame), sampleRate, i / frame);
  return out;
}

describe('DTMF', () => {
  it('maps keys to Q.23 frequencies', () => {
    expect(dtmfFrequencies('1')).toEqual([697, 1209]);
    expect(dtmfFrequencies('#')).toEqual([941, 1477]);
    expect(dtmfFrequencies('d')).toEqual([941, 1633]);
    expect(dtmfFrequencies('x')).toBeUndefined();
    expect(dtmfFrequencies('12')).toBeUndefined();
  });

  it.each([8000, 16000, 48000])('detects every key in a 30 ms window at %d Hz', (sr) => {
    for (const digit of DTMF_DIGITS) expect(detectDtmfDigit(dualTone(digit, sr, 30, 6000, 500), sr)).toBe(digit);
  });

  it('rejects single tones, speech-like mixes, silence and heavy twist', () => {
    const sr = 16000;
    const n = 480;
    const single = Float64Array.from({ length: n }, (_, i) => 6000 * Math.sin((2 * Math.PI * 697 * i) / sr));
    expect(detectDtmfDigit(single, sr)).toBeNull();
    const tone440 = Float64Array.from({ length: n }, (_, i) => 6000 * Math.sin((2 * Math.PI * 440 * i) / sr));
    expect(detectDtmfDigit(tone440, sr)).toBeNull();
    expect(detectDtmfDigit(new Float64Array(n), sr)).toBeNull();
    const twisted = Float64Array.from(
      { length: n },
      (_, i) => 6000 * Math.sin((2 * Math.PI * 697 * i) / sr) + 400 * Math.sin((2 * Math.PI * 1209 * i) / sr),
    );
    expect(detectDtmfDigit(twisted, sr)).toBeNull();
  });

  it('reports each press once, and a repeated key again after a gap', () => {
    const sr = 16000;
    const gap = new Float64Array(sr / 10);
    const signal = Float64Array.from([
      ...dualTone('1', sr, 120),
      ...gap,
      ...dualTone('1', sr, 120),
      ...gap,
      ...dualTone('#', sr, 120),
      ...gap,
    ]);
    expect(feed(signal, sr).map((e) => e.digit)).toEqual(['1', '1', '#']);
  });

  it.each([440, 660, 880])('finds no key in 5 s of the %d Hz test tone with markers', (toneHz) => {
    const keys: string[] = [];
    const d = new DtmfDetector((e) => keys.push(e.digit));
    const state = newSynthState();
    const frame = new Int16Array(160);
    for (let t = 1_700_000_000_000; t < 1_700_000_005_000; t += 10) {
      synthesizeFrame(frame, t, 16000, toneHz, 8000, DEFAULT_MARKER_SCHEME, state);
      d.push(frame, 16000, t);
    }
    expect(keys).toEqual([]);
  });

  it('ignores a 20 ms blip', () => {
    const sr = 16000;
    expect(feed(Float64Array.from([...dualTone('5', sr, 20), ...new Float64Array(1600)]), sr)).toEqual([]);
  });

  it('schedules keys back to back and skips unknown characters', () => {
    expect(dtmfSchedule('1x2', 1000, 100, 50)).toEqual([
      { digit: '1', startMs: 1000, endMs: 1100 },
      { digit: '2', startMs: 1150, endMs: 1250 },
    ]);
  });
});

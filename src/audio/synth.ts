import type { MarkerScheme } from './markers.js';

export interface SynthState {
  /** Phase of the base tone (radians); it runs on through marker bursts, so tone segments stay coherent. */
  phase: number;
  /** Phase of the marker oscillator. */
  markerPhase: number;
}

export function newSynthState(): SynthState {
  return { phase: 0, markerPhase: 0 };
}

/** Cross-fade length at burst edges: long enough to avoid clicks, short next to a 50 ms burst. */
const RAMP_MS = 2;

/**
 * Fills `out` with one frame of the generator's signal starting at epoch time `frameStartMs`: a sine at `toneHz`,
 * cross-faded (2 ms raised-cosine ramps) into the marker frequency during marker bursts when `scheme` is given.
 * The base oscillator never stops, so the tone between bursts is one coherent sinusoid (a sharp spectral line for
 * the dominant-frequency sweep) and nothing clicks. Pure apart from `state`.
 */
export function synthesizeFrame(
  out: Int16Array,
  frameStartMs: number,
  sampleRate: number,
  toneHz: number,
  amplitude: number,
  scheme: MarkerScheme | undefined,
  state: SynthState,
): void {
  const msPerSample = 1000 / sampleRate;
  const baseStep = (2 * Math.PI * toneHz) / sampleRate;
  let phase = state.phase;
  let markerPhase = state.markerPhase;
  for (let i = 0; i < out.length; i++) {
    let w = 0;
    if (scheme) {
      const t = frameStartMs + i * msPerSample;
      const k = Math.floor(t / scheme.intervalMs);
      const inSlot = t - k * scheme.intervalMs;
      if (inSlot < scheme.burstMs) {
        const edge = Math.min(inSlot, scheme.burstMs - inSlot);
        w = edge >= RAMP_MS ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / RAMP_MS);
        const n = scheme.frequencies.length;
        const hz = scheme.frequencies[((k % n) + n) % n] ?? toneHz;
        markerPhase += (2 * Math.PI * hz) / sampleRate;
      }
    }
    const v = w === 0 ? Math.sin(phase) : (1 - w) * Math.sin(phase) + w * Math.sin(markerPhase);
    out[i] = Math.round(amplitude * v);
    phase += baseStep;
  }
  state.phase = phase % (2 * Math.PI);
  state.markerPhase = markerPhase % (2 * Math.PI);
}

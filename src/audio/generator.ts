import { nowMs } from '../rtc/clock.js';
import { ClockedTrack } from '../rtc/clocked-track.js';
import { FrameClock } from '../rtc/frame-clock.js';
import type { WrtcTrack } from '../rtc/wrtc.js';
import { type DtmfSegment, dtmfFrequencies, dtmfSchedule } from './dtmf.js';
import { type MarkerScheme, markerScheme, type SenderGap } from './markers.js';
import { newSynthState, type SynthState, synthesizeFrame } from './synth.js';

/** The PCM format every generator feeds wrtc: 48 kHz mono s16 in 10 ms frames. */
const GENERATOR_SAMPLE_RATE = 48_000;
const FRAME_MS = 10;
const FRAME_SAMPLES = (GENERATOR_SAMPLE_RATE * FRAME_MS) / 1000;

/**
 * A frame pushed this much after its nominal start counts as late: the receiver's jitter buffer has likely played
 * concealment in its place already. Loopback paths run with a jitter buffer of a few tens of ms.
 */
const LATE_FRAME_MS = 30;
/** How many gaps a generator remembers (the oldest are dropped). */
const MAX_GAPS = 256;

export interface AudioGeneratorOptions {
  /** Base tone. @default 440 */
  toneHz?: number;
  /** Peak amplitude as a fraction of full scale. @default 0.25 */
  amplitude?: number;
  /** Play numbered markers (see markers.ts); `true` for the default scheme. @default false */
  markers?: boolean | Partial<MarkerScheme>;
  /** Frame clock to run on. @default the process-wide 10 ms clock */
  clock?: FrameClock;
  /** Start pushing frames at once. @default true */
  autoStart?: boolean;
}

/**
 * A tone (and optional marker) generator feeding a wrtc `RTCAudioSource`, driven by a drift-free frame clock.
 * `track` is what to add to a peer connection. Phase-continuous across frames and frequency changes, so the
 * signal has no clicks for Opus to smear.
 */
export class AudioGenerator {
  readonly toneHz: number;
  readonly markerScheme: MarkerScheme | undefined;
  readonly #feed: ClockedTrack;
  readonly #clock: FrameClock;
  readonly #amplitude: number;
  // onData copies the samples synchronously into libwebrtc, so one buffer is reused for every frame.
  readonly #buffer = new Int16Array(FRAME_SAMPLES);
  readonly #synth: SynthState = newSynthState();
  #framesSent = 0;
  #startedAt: number | null = null;
  #dtmf: DtmfSegment[] = [];
  #lastFrameStart: number | null = null;
  readonly #gaps: SenderGap[] = [];
  #dtmfPhases = [0, 0];
  /** A tone that stands in for the base tone for a while (an announcement the far end plays over the caller). */
  #overlay: { hz: number; startMs: number; endMs: number } | undefined;

  static create(opts: AudioGeneratorOptions = {}): AudioGenerator {
    return new AudioGenerator(opts);
  }

  private constructor(opts: AudioGeneratorOptions) {
    this.toneHz = opts.toneHz ?? 440;
    this.#amplitude = Math.round(32767 * Math.min(1, Math.max(0, opts.amplitude ?? 0.25)));
    this.markerScheme = markerScheme(opts.markers);
    this.#clock = opts.clock ?? FrameClock.shared({ frameMs: FRAME_MS });
    this.#feed = new ClockedTrack(this.#clock, (t) => this.#pushFrame(t));
    if (opts.autoStart ?? true) this.start();
  }

  /** What to add to a peer connection. */
  get track(): WrtcTrack {
    return this.#feed.track;
  }

  get closed(): boolean {
    return this.#feed.closed;
  }

  get running(): boolean {
    return this.#feed.running;
  }

  get framesSent(): number {
    return this.#framesSent;
  }

  /**
   * Stretches of audio this generator did not push on time: frames its clock skipped after an event-loop stall, or
   * pushed more than 30 ms late. A receiver's marker report leaves them out (nothing downstream could deliver them)
   * and counts them apart, so a stall in the sending process is not blamed on the path.
   */
  gaps(): readonly SenderGap[] {
    return this.#gaps;
  }

  /** Epoch ms of the first frame pushed since the last start(), or null. */
  get startedAt(): number | null {
    return this.#startedAt;
  }

  start(): void {
    if (!this.#feed.startable) return;
    this.#startedAt = null;
    this.#lastFrameStart = null;
    this.#feed.start();
  }

  /** Stops pushing frames (the track stays live and silent: wrtc then sends no RTP at all). */
  stop(): void {
    this.#feed.stop();
  }

  /** Stops the clock subscription and the track. Idempotent. */
  close(): void {
    this.#feed.close();
  }

  /** Plays `hz` instead of the tone (and markers) for `ms` from now; returns when it ends (epoch ms). */
  playTone(hz: number, ms: number): number {
    const startMs = nowMs();
    this.#overlay = { hz, startMs, endMs: startMs + ms };
    return startMs + ms;
  }

  /**
   * Plays keys as in-band DTMF (dual tones, Q.23) instead of the tone: `toneMs` per key, `gapMs` of silence after
   * each; the tone resumes afterwards. Returns when the last key ends (epoch ms). This is in-band audio, not RFC 4733
   * events: wrtc cannot send those (see src/media/engines/wrtc/DTMF.md).
   */
  playDtmf(digits: string, opts: { toneMs?: number; gapMs?: number } = {}): number {
    const start = Math.max(nowMs(), this.#dtmf[this.#dtmf.length - 1]?.endMs ?? 0) + (opts.gapMs ?? 80);
    const schedule = dtmfSchedule(digits, start, opts.toneMs ?? 120, opts.gapMs ?? 80);
    this.#dtmf.push(...schedule);
    return schedule[schedule.length - 1]?.endMs ?? start;
  }

  #pushFrame(frameStartMs: number): void {
    if (this.#feed.closed) return;
    this.#startedAt ??= frameStartMs;
    this.#noteTiming(frameStartMs);
    const buf = this.#buffer;
    const frameEnd = frameStartMs + FRAME_MS;
    while (this.#dtmf.length > 0 && (this.#dtmf[0]?.endMs ?? 0) + 100 <= frameStartMs) this.#dtmf.shift();
    const first = this.#dtmf[0];
    if (first && first.startMs - 100 < frameEnd) this.#dtmfFrame(buf, frameStartMs);
    else {
      const o = this.#overlay;
      const over = o !== undefined && frameStartMs >= o.startMs && frameStartMs < o.endMs;
      synthesizeFrame(
        buf,
        frameStartMs,
        GENERATOR_SAMPLE_RATE,
        over ? o.hz : this.toneHz,
        this.#amplitude,
        over ? undefined : this.markerScheme,
        this.#synth,
      );
    }
    this.#feed.source.onData({
      samples: buf,
      sampleRate: GENERATOR_SAMPLE_RATE,
      bitsPerSample: 16,
      channelCount: 1,
      numberOfFrames: FRAME_SAMPLES,
    });
    this.#framesSent++;
  }

  #noteTiming(frameStartMs: number): void {
    const last = this.#lastFrameStart;
    this.#lastFrameStart = frameStartMs;
    if (last !== null && frameStartMs > last + FRAME_MS) this.#addGap(last + FRAME_MS, frameStartMs); // skipped
    if (this.#clock.now() - frameStartMs > LATE_FRAME_MS) this.#addGap(frameStartMs, frameStartMs + FRAME_MS); // late
  }

  #addGap(fromMs: number, toMs: number): void {
    const prev = this.#gaps[this.#gaps.length - 1];
    if (prev && prev.toMs >= fromMs) {
      prev.toMs = Math.max(prev.toMs, toMs);
      return;
    }
    if (this.#gaps.length >= MAX_GAPS) this.#gaps.shift();
    this.#gaps.push({ fromMs, toMs });
  }

  /** DTMF keys and the silence around them (100 ms before the first key, gaps, 100 ms after the last). */
  #dtmfFrame(buf: Int16Array, frameStartMs: number): void {
    const msPerSample = 1000 / GENERATOR_SAMPLE_RATE;
    const amp = this.#amplitude * 0.7;
    for (let i = 0; i < buf.length; i++) {
      const t = frameStartMs + i * msPerSample;
      const seg = this.#dtmf.find((d) => t >= d.startMs && t < d.endMs);
      const pair = seg ? dtmfFrequencies(seg.digit) : undefined;
      if (!pair) {
        buf[i] = 0;
        continue;
      }
      const [lo, hi] = pair;
      const p0 = this.#dtmfPhases[0] ?? 0;
      const p1 = this.#dtmfPhases[1] ?? 0;
      buf[i] = Math.round(amp * 0.5 * (Math.sin(p0) + Math.sin(p1)));
      this.#dtmfPhases[0] = (p0 + (2 * Math.PI * lo) / GENERATOR_SAMPLE_RATE) % (2 * Math.PI);
      this.#dtmfPhases[1] = (p1 + (2 * Math.PI * hi) / GENERATOR_SAMPLE_RATE) % (2 * Math.PI);
    }
  }
}

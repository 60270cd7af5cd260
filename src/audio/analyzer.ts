import { nowMs } from '../rtc/clock.js';
import { type WrtcAudioData, type WrtcAudioSink, type WrtcTrack, wrtc } from '../rtc/wrtc.js';
import { meanSquare, prevalentFrequency, toneShare } from './goertzel.js';
import {
  classifyFrame,
  type MarkerDetection,
  MarkerDetector,
  type MarkerReport,
  type MarkerScheme,
  markerReport,
  markerScheme,
  type SenderGap,
} from './markers.js';

export interface AudioAnalyzerOptions {
  /** Tones to track (first/last time seen, frame count), e.g. the caller's and the agent's. @default [] */
  watchHz?: readonly number[];
  /** Decode markers with this scheme; `true` for the default scheme. @default false */
  markers?: boolean | Partial<MarkerScheme>;
  /** Frames quieter than this RMS (s16 units) count as silence. @default 100 (≈ −50 dBFS) */
  silenceRms?: number;
  /** A watched tone or marker must carry at least this share of a frame's energy. @default 0.5 */
  minShare?: number;
  /** How much recent audio to keep for dominantFrequency() and rms(). @default 1000 */
  historyMs?: number;
}

export interface ToneStats {
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  frames: number;
  /**
   * Where the tone was first and last heard, counted in frames received (the audio's own time: a delivery delay in
   * this process does not change it, so the silence between two tones can be told to the frame).
   */
  firstFrame: number | null;
  lastFrame: number | null;
}

/** How long {@link drainAnalysis} waits. */
const ANALYSIS_DRAIN_MS = 500;

/**
 * Waits for frames already received to be analysed before a report is taken. The sink hands each frame to the event
 * loop, and a busy process (20 peers analysing 100 frames/s each) runs a few hundred ms behind: a report taken at
 * once would miss the last markers of its window although they arrived. Take `until` first, then drain, then report.
 */
export function drainAnalysis(ms = ANALYSIS_DRAIN_MS): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The window a report covers (epoch ms); see {@link AudioAnalyzer.report}. */
export interface ReportWindow {
  since?: number | undefined;
  until?: number | undefined;
  settleMs?: number | undefined;
  senderGaps?: readonly SenderGap[] | undefined;
}

/** What one direction of a call received, in the shape every peer (caller, node agent) reports. */
export interface InboundAudioReport {
  /** At least one non-silent frame arrived. */
  receivedAudio: boolean;
  framesReceived: number;
  /** RMS of the last `historyMs` (s16 units). */
  rms: number;
  /** Strongest frequency of the last `historyMs`, null when silent. */
  dominantHz: number | null;
  /** Epoch ms of the first non-silent frame. */
  firstAudioAt: number | null;
  /** First non-silent frame at or after `since`, minus `since` (null without `since` or audio). */
  timeToFirstAudioMs: number | null;
  /** Per watched frequency (key: Hz). */
  tones: Record<string, ToneStats>;
  /** Marker accounting over [since, now] when markers are decoded. */
  markers?: MarkerReport;
}

/**
 * Listens to a received track through `RTCAudioSink` and measures what arrives: RMS, first audio, watched tones,
 * markers, and (on demand) the dominant frequency over recent history. Handles any sample rate and channel count
 * wrtc delivers (the sink follows the decoder: 16 kHz mono for WhatsApp-shaped Opus, 48 kHz otherwise); only the
 * first channel is analysed. Runs JS per frame (≈100/s): a test and load tool, not a production path.
 */
export class AudioAnalyzer {
  readonly #sink: WrtcAudioSink;
  readonly #silenceRms: number;
  readonly #minShare: number;
  readonly #historyMs: number;
  readonly #watch: Map<number, ToneStats>;
  readonly #detector: MarkerDetector | undefined;
  #ring = new Float32Array(0);
  #ringRate = 0;
  #ringPos = 0;
  #ringFill = 0;
  #frame = new Float32Array(0);
  #framesReceived = 0;
  #firstFrameAt: number | null = null;
  readonly #audioTimes: number[] = [];
  #firstAudioAt: number | null = null;
  #closed = false;
  #error: unknown;

  static create(track: WrtcTrack, opts: AudioAnalyzerOptions = {}): AudioAnalyzer {
    return new AudioAnalyzer(track, opts);
  }

  private constructor(track: WrtcTrack, opts: AudioAnalyzerOptions) {
    this.#silenceRms = opts.silenceRms ?? 100;
    this.#minShare = opts.minShare ?? 0.5;
    this.#historyMs = opts.historyMs ?? 1000;
    this.#watch = new Map(
      (opts.watchHz ?? []).map((hz) => [
        hz,
        { firstSeenAt: null, lastSeenAt: null, frames: 0, firstFrame: null, lastFrame: null },
      ]),
    );
    const scheme = markerScheme(opts.markers);
    this.#detector = scheme ? new MarkerDetector(scheme) : undefined;
    this.#sink = new wrtc.nonstandard.RTCAudioSink(track);
    this.#sink.ondata = (data) => {
      try {
        this.#onData(data, nowMs());
      } catch (err) {
        // Never let an analysis bug become an uncaught exception inside wrtc's callback.
        this.#error ??= err;
      }
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get framesReceived(): number {
    return this.#framesReceived;
  }

  get firstFrameAt(): number | null {
    return this.#firstFrameAt;
  }

  get firstAudioAt(): number | null {
    return this.#firstAudioAt;
  }

  /** The first exception thrown while analysing, if any (tests assert it is undefined). */
  get error(): unknown {
    return this.#error;
  }

  tone(hz: number): ToneStats {
    const s = this.#watch.get(hz);
    return s ? { ...s } : { firstSeenAt: null, lastSeenAt: null, frames: 0, firstFrame: null, lastFrame: null };
  }

  markerDetections(): MarkerDetection[] {
    return this.#detector?.detections() ?? [];
  }

  /** Feeds PCM directly (for unit tests and non-wrtc sources); `at` defaults to now. */
  ingest(data: WrtcAudioData, at: number = nowMs()): void {
    this.#onData(data, at);
  }

  #onData(data: WrtcAudioData, at: number): void {
    if (this.#closed) return;
    const channels = data.channelCount ?? 1;
    const frames = data.numberOfFrames ?? Math.floor(data.samples.length / channels);
    const rate = data.sampleRate;
    if (frames <= 0 || rate <= 0) return;
    if (this.#frame.length !== frames) this.#frame = new Float32Array(frames);
    const frame = this.#frame;
    for (let i = 0; i < frames; i++) frame[i] = data.samples[i * channels] ?? 0;
    this.#framesReceived++;
    this.#firstFrameAt ??= at;
    this.#remember(frame, rate);

    const ms = meanSquare(frame);
    const loud = ms >= this.#silenceRms * this.#silenceRms;
    if (loud) {
      this.#firstAudioAt ??= at;
      if (this.#audioTimes.length < 1_000_000) this.#audioTimes.push(at);
    }
    for (const [hz, stats] of this.#watch) {
      if (!loud || hz >= rate / 2) continue;
      if (toneShare(frame, hz, rate) >= this.#minShare) {
        stats.firstSeenAt ??= at;
        stats.lastSeenAt = at;
        stats.firstFrame ??= this.#framesReceived;
        stats.lastFrame = this.#framesReceived;
        stats.frames++;
      }
    }
    if (this.#detector) {
      const c = classifyFrame(frame, rate, this.#detector.scheme, {
        minShare: this.#minShare,
        minRms: this.#silenceRms,
      });
      this.#detector.push(c.index, at);
    }
  }

  #remember(frame: Float32Array, rate: number): void {
    if (rate !== this.#ringRate) {
      this.#ringRate = rate;
      this.#ring = new Float32Array(Math.ceil((rate * this.#historyMs) / 1000));
      this.#ringPos = 0;
      this.#ringFill = 0;
    }
    const ring = this.#ring;
    for (let i = 0; i < frame.length; i++) {
      ring[this.#ringPos] = frame[i] ?? 0;
      this.#ringPos = (this.#ringPos + 1) % ring.length;
    }
    this.#ringFill = Math.min(ring.length, this.#ringFill + frame.length);
  }

  /**
   * The longest stretch inside [since, until] (epoch ms) with no non-silent frame, edges included: what a listener
   * heard as silence (queue tests: a waiting caller must never hear more than a second of it).
   */
  longestSilenceMs(since: number, until: number): number {
    let last = since;
    let longest = 0;
    for (const t of this.#audioTimes) {
      if (t < since) continue;
      if (t > until) break;
      longest = Math.max(longest, t - last);
      last = t;
    }
    return Math.max(longest, until - last);
  }

  /** The most recent `windowMs` of audio (oldest first) and its sample rate. */
  recent(windowMs = this.#historyMs): { samples: Float32Array; sampleRate: number } {
    const n = Math.min(this.#ringFill, Math.floor((this.#ringRate * windowMs) / 1000));
    const out = new Float32Array(n);
    const ring = this.#ring;
    for (let i = 0; i < n; i++) out[i] = ring[(this.#ringPos - n + i + ring.length) % ring.length] ?? 0;
    return { samples: out, sampleRate: this.#ringRate };
  }

  rms(windowMs = this.#historyMs): number {
    return Math.sqrt(meanSquare(this.recent(windowMs).samples));
  }

  /**
   * The frequency heard most of the last `windowMs` (per-20 ms dominant tone, most common value; marker bursts and
   * jitter-buffer phase jumps do not move it), or null when silent or tone-less.
   */
  dominantHz(windowMs = this.#historyMs): number | null {
    const { samples, sampleRate } = this.recent(windowMs);
    if (samples.length === 0 || Math.sqrt(meanSquare(samples)) < this.#silenceRms) return null;
    return prevalentFrequency(samples, sampleRate)?.hz ?? null;
  }

  /**
   * The report for this direction. `since` (epoch ms, e.g. the accept instant) anchors timeToFirstAudioMs and the
   * marker window; markers sent in the last `settleMs` are not expected yet, nor those the sender did not push on
   * time (`senderGaps`, from the sending generator's `gaps()`).
   */
  report(opts: ReportWindow = {}): InboundAudioReport {
    const since = opts.since;
    const firstAfter = since === undefined ? undefined : this.#audioTimes.find((t) => t >= since);
    const tones: Record<string, ToneStats> = {};
    for (const [hz, s] of this.#watch) tones[String(hz)] = { ...s };
    const report: InboundAudioReport = {
      receivedAudio: this.#firstAudioAt !== null,
      framesReceived: this.#framesReceived,
      rms: Math.round(this.rms()),
      dominantHz: this.dominantHz(),
      firstAudioAt: this.#firstAudioAt,
      timeToFirstAudioMs: since === undefined || firstAfter === undefined ? null : firstAfter - since,
      tones,
    };
    if (this.#detector && since !== undefined) {
      report.markers = markerReport(
        this.#detector.detections(),
        {
          fromMs: since,
          toMs: opts.until ?? nowMs(),
          ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
          ...(opts.senderGaps ? { senderGaps: opts.senderGaps } : {}),
        },
        this.#detector.scheme,
      );
    }
    return report;
  }

  /** Stops the sink. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.ondata = null;
    this.#sink.stop();
  }
}

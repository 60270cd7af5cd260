import type { AgentClient } from '../../../src/client/agent-client.js';
import {
  type QualityCounters,
  type QualitySample,
  type StatsEntry,
  summarizeStats,
} from '../../../src/client/call-quality.js';
import type { RtcCandidateInit } from '../../../src/shared/protocol.js';

/** Browser audio processing. On for real use; tests that check levels turn it off (it eats steady tones). */
export interface AudioProcessing {
  echoCancellation: boolean;
  noiseSuppression: boolean;
  autoGainControl: boolean;
}
export const DEFAULT_PROCESSING: AudioProcessing = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

export type MicProblem = 'denied' | 'missing' | 'busy' | 'insecure' | 'other';

/** The microphone could not be opened; `message` says what to do about it. */
export class MicError extends Error {
  override readonly name = 'MicError';
  constructor(
    readonly problem: MicProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Opens the microphone, turning getUserMedia's failures into a {@link MicError} an agent can act on. */
export async function acquireMicrophone(processing: AudioProcessing = DEFAULT_PROCESSING): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MicError(
      'insecure',
      'This page cannot use a microphone: open the console over HTTPS (or on localhost) in a current browser.',
    );
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: { ...processing }, video: false });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new MicError(
        'denied',
        'Microphone access is blocked. Allow the microphone for this site (the icon in the address bar), then take the next call.',
      );
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      throw new MicError(
        'missing',
        'No microphone was found. Plug in a headset or microphone, then take the next call.',
      );
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      throw new MicError(
        'busy',
        'The microphone is in use by another application or failed to start. Close the other app and try again.',
      );
    }
    throw new MicError('other', `The microphone could not be opened (${(err as Error).message || name}).`);
  }
}

type MediaPhase = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface MediaSnapshot {
  phase: MediaPhase;
  muted: boolean;
  quality: QualitySample | null;
  /** Why media failed, in words. */
  error: string | null;
}

export interface CallMediaOptions {
  callId: string;
  mic: MediaStream;
  client: AgentClient;
  /** From GET /api/config when the server provides them; none by default (host candidates only). */
  iceServers?: RTCIceServer[];
  onChange: (snapshot: MediaSnapshot) => void;
  /** @default 2_000 */
  statsIntervalMs?: number;
  /** How many times a failed connection is renegotiated before giving up. @default 2 */
  maxRenegotiations?: number;
}

/** Ack errors after which another offer cannot help. */
const FATAL_OFFER_ERRORS = new Set(['call-ended', 'not-your-call', 'unknown-call', 'token-expired']);

/**
 * The agent leg in the browser: the microphone, one RTCPeerConnection to the media node (the browser offers, the
 * server answers; ICE trickles both ways over the agent socket), the caller's audio played by an `<audio>` element
 * (Chromium gives WebAudio only zeros unless a media element plays the stream), level meters and quality stats.
 * A repeated offer replaces the server's agent leg, which is how a reload or a reconnection resumes a call.
 */
export class CallMedia {
  readonly callId: string;
  readonly #opts: CallMediaOptions;
  #pc: RTCPeerConnection | undefined;
  #generation = 0;
  #renegotiations = 0;
  /** Local candidates wait until the server acknowledged the offer they belong to. */
  #offerAcked = false;
  #localQueue: (RtcCandidateInit | null)[] = [];
  /** Remote candidates wait until the answer is applied. */
  #remoteQueue: (RtcCandidateInit | null)[] = [];
  #audioEl: HTMLAudioElement;
  /** Plays a supervisor's whisper (the second m-line). */
  #whisperEl: HTMLAudioElement;
  #audioCtx: AudioContext | undefined;
  #micAnalyser: AnalyserNode | undefined;
  #callerAnalyser: AnalyserNode | undefined;
  #levelBuf = new Float32Array(1024);
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #counters: QualityCounters | null = null;
  #snapshot: MediaSnapshot = { phase: 'connecting', muted: false, quality: null, error: null };
  #closed = false;

  constructor(opts: CallMediaOptions) {
    this.#opts = opts;
    this.callId = opts.callId;
    this.#audioEl = document.createElement('audio');
    this.#audioEl.autoplay = true;
    this.#audioEl.dataset.testid = 'remote-audio';
    this.#audioEl.dataset.callId = opts.callId;
    this.#audioEl.style.display = 'none';
    document.body.append(this.#audioEl);
    this.#whisperEl = document.createElement('audio');
    this.#whisperEl.autoplay = true;
    this.#whisperEl.dataset.testid = 'whisper-audio';
    this.#whisperEl.dataset.callId = opts.callId;
    this.#whisperEl.style.display = 'none';
    document.body.append(this.#whisperEl);
    try {
      this.#audioCtx = new AudioContext();
      void this.#audioCtx.resume().catch(() => undefined);
      this.#micAnalyser = this.#analyserFor(opts.mic);
    } catch {
      // No WebAudio: the call still works, only the meters stay flat.
    }
  }

  get snapshot(): MediaSnapshot {
    return this.#snapshot;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Creates a fresh peer connection and sends its offer (first connection, reload, reconnection, failure). */
  async negotiate(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#pc?.close();
    this.#offerAcked = false;
    this.#localQueue = [];
    this.#remoteQueue = [];
    this.#counters = null;
    this.#update({ phase: this.#snapshot.phase === 'connecting' ? 'connecting' : 'reconnecting', error: null });

    const pc = new RTCPeerConnection({ iceServers: this.#opts.iceServers ?? [] });
    this.#pc = pc;
    const current = () => !this.#closed && generation === this.#generation;
    for (const track of this.#opts.mic.getAudioTracks()) pc.addTrack(track, this.#opts.mic);
    // A second m-line receives a supervisor's whisper (the media node routes nothing to it otherwise).
    pc.addTransceiver('audio', { direction: 'recvonly' });

    pc.onicecandidate = (e) => {
      if (!current()) return;
      const c = e.candidate ? toCandidateInit(e.candidate) : null;
      if (this.#offerAcked) void this.#opts.client.sendCandidate(this.callId, c);
      else this.#localQueue.push(c);
    };
    pc.ontrack = (e) => {
      if (!current()) return;
      if (pc.getTransceivers().indexOf(e.transceiver) === 1) {
        this.#whisperEl.srcObject = new MediaStream([e.track]);
        void this.#whisperEl.play().catch(() => undefined);
        return;
      }
      // Its own stream: the node may name both of its tracks in one stream id.
      const stream = new MediaStream([e.track]);
      this.#audioEl.srcObject = stream;
      void this.#audioEl.play().catch(() => undefined);
      this.#callerAnalyser = this.#analyserFor(stream);
    };
    pc.onconnectionstatechange = () => {
      if (!current()) return;
      switch (pc.connectionState) {
        case 'connected':
          this.#renegotiations = 0;
          this.#update({ phase: 'connected', error: null });
          break;
        case 'disconnected':
          this.#update({ phase: 'reconnecting' }); // ICE often recovers by itself
          break;
        case 'failed':
          void this.#recover('The audio connection failed.');
          break;
      }
    };

    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
    } catch (err) {
      if (current()) this.#update({ phase: 'failed', error: `Could not prepare audio: ${(err as Error).message}` });
      return;
    }
    if (!current()) return;
    const res = await this.#opts.client.sendOffer(this.callId, pc.localDescription?.sdp ?? '');
    if (!current()) return;
    if (!res.ok) {
      if (FATAL_OFFER_ERRORS.has(res.error)) this.#update({ phase: 'failed', error: res.message });
      else void this.#recover(res.message);
      return;
    }
    this.#offerAcked = true;
    for (const c of this.#localQueue.splice(0)) void this.#opts.client.sendCandidate(this.callId, c);
    this.#startStats();
  }

  /** `rtc:answer` for this call. */
  async handleAnswer(sdp: string): Promise<void> {
    const pc = this.#pc;
    // An answer to an offer this connection no longer waits for (a stale one after renegotiation) is dropped.
    if (!pc || this.#closed || pc.signalingState !== 'have-local-offer') return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
      for (const c of this.#remoteQueue.splice(0)) await this.#addRemote(pc, c);
    } catch (err) {
      void this.#recover(`The server's audio answer was not usable: ${(err as Error).message}`);
    }
  }

  /** `rtc:candidate` for this call. */
  async handleCandidate(candidate: RtcCandidateInit | null): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#closed) return;
    if (!pc.remoteDescription) {
      this.#remoteQueue.push(candidate);
      return;
    }
    await this.#addRemote(pc, candidate);
  }

  setMuted(muted: boolean): void {
    for (const t of this.#opts.mic.getAudioTracks()) t.enabled = !muted;
    this.#update({ muted });
  }

  /** Microphone level, 0…1 (silence while muted). */
  micLevel(): number {
    return this.#snapshot.muted ? 0 : this.#level(this.#micAnalyser);
  }

  /** Caller's level, 0…1. */
  callerLevel(): number {
    return this.#level(this.#callerAnalyser);
  }

  /** Ends everything this call holds: connection, microphone, audio element, timers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#statsTimer !== undefined) clearInterval(this.#statsTimer);
    this.#pc?.close();
    this.#pc = undefined;
    for (const t of this.#opts.mic.getTracks()) t.stop();
    this.#audioEl.srcObject = null;
    this.#audioEl.remove();
    this.#whisperEl.srcObject = null;
    this.#whisperEl.remove();
    void this.#audioCtx?.close().catch(() => undefined);
    this.#update({ phase: 'closed' });
  }

  async #recover(why: string): Promise<void> {
    if (this.#closed) return;
    const max = this.#opts.maxRenegotiations ?? 2;
    if (this.#renegotiations >= max) {
      this.#update({ phase: 'failed', error: `${why} Hang up and ask the caller to call again if it persists.` });
      return;
    }
    this.#renegotiations++;
    this.#update({ phase: 'reconnecting', error: null });
    await new Promise((r) => setTimeout(r, 500 * this.#renegotiations));
    await this.negotiate();
  }

  async #addRemote(pc: RTCPeerConnection, c: RtcCandidateInit | null): Promise<void> {
    try {
      // null: the server has no more candidates (end-of-candidates).
      await pc.addIceCandidate(c ?? undefined);
    } catch {
      // A candidate for an address family this browser cannot use is not an error worth showing.
    }
  }

  #startStats(): void {
    if (this.#statsTimer !== undefined) return;
    this.#statsTimer = setInterval(() => void this.#sampleStats(), this.#opts.statsIntervalMs ?? 2_000);
  }

  async #sampleStats(): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#closed) return;
    try {
      const report = await pc.getStats();
      const entries: StatsEntry[] = [];
      report.forEach((s: StatsEntry) => {
        entries.push(s);
      });
      const quality = summarizeStats(entries, this.#counters);
      this.#counters = quality.counters;
      this.#update({ quality });
    } catch {
      // The connection closed between two samples.
    }
  }

  #analyserFor(stream: MediaStream): AnalyserNode | undefined {
    if (!this.#audioCtx) return undefined;
    try {
      const analyser = this.#audioCtx.createAnalyser();
      analyser.fftSize = 1024;
      this.#audioCtx.createMediaStreamSource(stream).connect(analyser);
      return analyser;
    } catch {
      return undefined;
    }
  }

  /** RMS of the last window, mapped from −60…0 dBFS to 0…1. */
  #level(analyser: AnalyserNode | undefined): number {
    if (!analyser) return 0;
    analyser.getFloatTimeDomainData(this.#levelBuf);
    let sum = 0;
    for (const v of this.#levelBuf) sum += v * v;
    const rms = Math.sqrt(sum / this.#levelBuf.length);
    if (rms <= 0) return 0;
    const db = 20 * Math.log10(rms);
    return Math.min(1, Math.max(0, (db + 60) / 60));
  }

  #update(patch: Partial<MediaSnapshot>): void {
    if (this.#closed && patch.phase !== 'closed') return;
    this.#snapshot = { ...this.#snapshot, ...patch };
    this.#opts.onChange(this.#snapshot);
  }
}

function toCandidateInit(c: RTCIceCandidate): RtcCandidateInit {
  return {
    candidate: c.candidate,
    sdpMid: c.sdpMid,
    sdpMLineIndex: c.sdpMLineIndex,
    usernameFragment: c.usernameFragment,
  };
}

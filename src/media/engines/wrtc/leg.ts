import type { NetworkFilter } from '../../../rtc/cidr.js';
import { TypedEmitter } from '../../../rtc/emitter.js';
import type { IceCandidateMessage, LegState } from '../../../rtc/engine.js';
import type { MediaLogger } from '../../../rtc/log.js';
import { EMPTY_LEG_STATS, type LegStats, legStatsFromReport } from '../../../rtc/stats.js';
import {
  type WrtcIceCandidateEvent,
  type WrtcIceServer,
  type WrtcPeerConnection,
  type WrtcTrack,
  type WrtcTransceiver,
  waitForGathering,
  whatsAppCodecCapabilities,
  wrtc,
} from '../../../rtc/wrtc.js';
import { MediaError } from '../../errors.js';
import { normalizeSdp } from '../../sdp/lines.js';
import { audioSection, parseSdp, sdpLogFields } from '../../sdp/parse.js';
import { addCandidates, filterSdpCandidates } from '../../sdp/rewrite.js';
import { CandidateGate } from '../candidate-gate.js';
import { usableOffer } from '../sdp-checks.js';

export type LegKind = 'whatsapp' | 'agent';

export interface MediaLegOptions {
  kind: LegKind;
  iceServers: WrtcIceServer[];
  portRange?: { min: number; max: number };
  networks: NetworkFilter;
  announcedIp?: string;
  logger: MediaLogger;
}

export interface AnswerOptions {
  /**
   * Complete (non-trickle) answer: wait for ICE gathering, bounded by `gatherTimeoutMs`, and return the
   * description with its candidates. Otherwise return at once and trickle candidates as 'candidate' events.
   */
  complete: boolean;
  gatherTimeoutMs?: number;
  /**
   * With `complete`, when only host candidates can come (no ICE servers): answer once candidates have stopped
   * arriving for this long, instead of waiting for libwebrtc to declare gathering complete. Host UDP candidates of
   * every interface arrive together, but the last gathering phase (TCP, which yields nothing a WhatsApp answer
   * keeps) often holds `complete` back by another ≈50 ms.
   */
  hostSettleMs?: number;
  /** What to send on the audio transceiver (set before createAnswer). */
  sendTrack: WrtcTrack | null;
  /** Rewrites the answer; applied before setLocalDescription and again to the final (gathered) description. */
  shape?: (sdp: string) => string;
}

type MediaLegEvents = {
  state: [LegState];
  candidate: [IceCandidateMessage];
};

/**
 * One peer connection of a call bridge, answering one offer with one audio transceiver. Owns the connection's
 * listeners and closes idempotently. Candidates outside the allowed networks are neither sent nor accepted.
 */
export class MediaLeg extends TypedEmitter<MediaLegEvents> {
  readonly kind: LegKind;
  readonly #pc: WrtcPeerConnection;
  readonly #networks: NetworkFilter;
  readonly #announcedIp: string | undefined;
  readonly #log: MediaLogger;
  #transceiver: WrtcTransceiver | undefined;
  #state: LegState = 'new';
  #closed = false;
  readonly #candidates: CandidateGate;
  /** When the last local candidate event came (kept or dropped), ms; null before the first. */
  #lastLocalCandidateAt: number | null = null;
  readonly #onIceCandidate = (e: WrtcIceCandidateEvent): void =>
    this.#guard('icecandidate', () => this.#localCandidate(e));
  readonly #onStateChange = (): void => this.#guard('connectionstatechange', () => this.#updateState());

  static create(opts: MediaLegOptions): MediaLeg {
    return new MediaLeg(opts);
  }

  private constructor(opts: MediaLegOptions) {
    super((event, err) => opts.logger.error({ err, event, leg: opts.kind }, 'media leg listener threw'));
    this.kind = opts.kind;
    this.#networks = opts.networks;
    this.#announcedIp = opts.announcedIp;
    this.#log = opts.logger;
    this.#candidates = new CandidateGate(opts.networks, opts.announcedIp, (c) => {
      if (!this.#closed) this.safeEmit('candidate', c);
    });
    try {
      this.#pc = new wrtc.RTCPeerConnection({
        iceServers: opts.iceServers,
        bundlePolicy: 'max-bundle',
        rtcpMuxPolicy: 'require',
        ...(opts.portRange ? { portRange: opts.portRange } : {}),
      });
    } catch (err) {
      throw new MediaError('webrtc-failed', `could not create a peer connection: ${String(err)}`, { cause: err });
    }
    this.#pc.addEventListener('icecandidate', this.#onIceCandidate);
    this.#pc.addEventListener('connectionstatechange', this.#onStateChange);
  }

  get state(): LegState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The audio track received on this leg (live after the offer was applied). */
  get remoteTrack(): WrtcTrack | null {
    return this.#transceiver?.receiver.track ?? null;
  }

  /**
   * Applies the offer (already validated by the call) and returns our answer. Throws {@link MediaError}
   * `sdp-invalid` (wrtc refuses the offer), `no-usable-candidates` or `media-closed`.
   */
  async answer(offerSdp: string, opts: AnswerOptions): Promise<string> {
    this.#assertOpen();
    const offer = usableOffer(offerSdp, this.kind, this.#networks);
    this.#log.debug({ leg: this.kind, offer: sdpLogFields(offerSdp) }, 'applying offer');
    await this.#step('set the remote offer', 'sdp-invalid', () =>
      this.#pc.setRemoteDescription({ type: 'offer', sdp: offer }),
    );
    const mid = audioSection(parseSdp(offer))?.mid;
    const transceivers = this.#pc.getTransceivers();
    const audio = transceivers.find((t) => mid !== undefined && t.mid === mid) ?? transceivers[0];
    if (!audio) throw new MediaError('sdp-invalid', `the ${this.kind} offer produced no audio transceiver`);
    this.#transceiver = audio;
    for (const t of transceivers) if (t !== audio && !t.stopped) t.direction = 'inactive';
    // sendrecv must be set before createAnswer, or the answer is recvonly.
    audio.direction = 'sendrecv';
    const shaped = await this.#describeLocal('answer', opts);
    this.#addQueuedRemote();
    // A trickle answer is the SDP we set: its candidates follow as events.
    return this.#finish('answer', opts.complete ? await this.#gathered('answer', shaped, opts) : shaped, opts);
  }

  /**
   * Makes a complete offer (business-initiated WhatsApp call): one sendrecv audio transceiver with Opus and
   * telephone-event/8000 only, ICE gathering awaited (Meta has no trickle), shaped by `shape`. The answer comes
   * later through {@link applyAnswer}. Throws {@link MediaError} `webrtc-failed` or `media-closed`.
   */
  async offer(opts: Omit<AnswerOptions, 'complete'>): Promise<string> {
    this.#assertOpen();
    const audio = this.#pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.#transceiver = audio;
    audio.setCodecPreferences(whatsAppCodecCapabilities());
    const shaped = await this.#describeLocal('offer', opts);
    return this.#finish('offer', await this.#gathered('offer', shaped, opts), opts);
  }

  /** Applies the remote answer to {@link offer}. Throws {@link MediaError} `sdp-invalid` or `media-closed`. */
  async applyAnswer(answerSdp: string): Promise<void> {
    this.#assertOpen();
    const answer = filterSdpCandidates(normalizeSdp(answerSdp), { allowedNetworks: this.#networks });
    await this.#step('set the remote answer', 'sdp-invalid', () =>
      this.#pc.setRemoteDescription({ type: 'answer', sdp: answer }),
    );
    this.#addQueuedRemote();
  }

  /** Replaces what the audio transceiver sends (null: nothing). */
  async replaceSendTrack(track: WrtcTrack | null): Promise<void> {
    if (this.#closed || !this.#transceiver) return;
    await this.#transceiver.sender.replaceTrack(track);
  }

  /**
   * Emits the local candidates held back so far, then every new one as it is gathered. Held until the answer has
   * been handed out, so that no candidate reaches the remote before the answer does.
   */
  releaseCandidates(): void {
    this.#candidates.release();
  }

  /**
   * Adds a remote (trickled) candidate. Never throws: garbage, candidates outside the allowed networks and
   * candidates wrtc refuses are logged and reported as `false`. Candidates that arrive before the offer is applied
   * are queued.
   */
  async addRemoteCandidate(input: unknown): Promise<boolean> {
    if (this.#closed) return false;
    const c = this.#candidates.remote(input);
    if (c === false)
      this.#log.debug({ leg: this.kind }, 'ignoring a malformed remote candidate or one outside allowedNetworks');
    if (typeof c === 'boolean') return c;
    try {
      await this.#pc.addIceCandidate({
        candidate: c.candidate,
        // Everything is bundled on the audio transceiver: a candidate without a mid belongs to it.
        sdpMid: c.sdpMid ?? this.#transceiver?.mid ?? null,
        sdpMLineIndex: c.sdpMLineIndex,
      });
      return true;
    } catch (err) {
      this.#log.debug({ leg: this.kind, err: String(err) }, 'wrtc refused a remote candidate');
      return false;
    }
  }

  async getStats(): Promise<LegStats> {
    if (this.#closed) return { ...EMPTY_LEG_STATS };
    try {
      return legStatsFromReport(await this.#pc.getStats());
    } catch (err) {
      this.#log.debug({ leg: this.kind, err: String(err) }, 'getStats failed');
      return { ...EMPTY_LEG_STATS };
    }
  }

  /** Closes the peer connection. Idempotent; emits 'state' closed once, then drops every listener. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pc.removeEventListener('icecandidate', this.#onIceCandidate);
    this.#pc.removeEventListener('connectionstatechange', this.#onStateChange);
    try {
      this.#pc.close();
    } catch (err) {
      this.#log.warn({ leg: this.kind, err: String(err) }, 'closing the peer connection threw');
    }
    this.#candidates.clear();
    if (this.#candidates.dropped > 0)
      this.#log.debug(
        { leg: this.kind, dropped: this.#candidates.dropped },
        'local candidates dropped by allowedNetworks',
      );
    this.#state = 'closed';
    this.safeEmit('state', 'closed');
    this.removeAllListeners();
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaError('media-closed', `the ${this.kind} leg was closed`);
  }

  async #step<T>(what: string, code: 'sdp-invalid' | 'webrtc-failed', fn: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.#assertOpen();
      const message = err instanceof Error ? err.message : String(err);
      throw new MediaError(code, `could not ${what} on the ${this.kind} leg: ${message}`, { cause: err });
    }
    this.#assertOpen();
    return result;
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err, leg: this.kind, what }, 'media leg event handler threw');
    }
  }

  #localCandidate(e: WrtcIceCandidateEvent): void {
    if (this.#closed || !e.candidate || !e.candidate.candidate) return;
    this.#lastLocalCandidateAt = performance.now();
    this.#candidates.local(e.candidate.candidate, e.candidate.sdpMid, e.candidate.sdpMLineIndex);
  }

  /** Attaches the send track, creates our description, shapes it and sets it as the local one. */
  async #describeLocal(type: 'offer' | 'answer', opts: Omit<AnswerOptions, 'complete'>): Promise<string> {
    const audio = this.#transceiver;
    if (opts.sendTrack && audio)
      await this.#step('attach the send track', 'webrtc-failed', () => audio.sender.replaceTrack(opts.sendTrack));
    const created = await this.#step(`create the ${type}`, 'webrtc-failed', () =>
      type === 'offer' ? this.#pc.createOffer() : this.#pc.createAnswer(),
    );
    const shaped = opts.shape ? opts.shape(created.sdp) : created.sdp;
    await this.#step(`set the local ${type}`, 'webrtc-failed', () =>
      this.#pc.setLocalDescription({ type, sdp: shaped }),
    );
    return shaped;
  }

  /** Waits for ICE gathering (bounded) and returns the local description with the candidates gathered. */
  async #gathered(type: 'offer' | 'answer', shaped: string, opts: Omit<AnswerOptions, 'complete'>): Promise<string> {
    const settleMs = opts.hostSettleMs;
    const gathered = await waitForGathering(
      this.#pc,
      opts.gatherTimeoutMs ?? 2000,
      settleMs === undefined
        ? undefined
        : {
            settleMs,
            quiet: () => ({
              haveCandidates: this.#candidates.held.length > 0,
              quietForMs: this.#lastLocalCandidateAt === null ? 0 : performance.now() - this.#lastLocalCandidateAt,
            }),
          },
    );
    this.#assertOpen();
    if (gathered === 'timeout')
      this.#log.warn(
        { leg: this.kind, gatherTimeoutMs: opts.gatherTimeoutMs },
        `ICE gathering timed out; the ${type} carries the candidates gathered so far`,
      );
    // Reading `localDescription` while the signaling thread still adds candidates to it races inside libwebrtc and
    // can crash the process (SdpSerialize; node-webrtc#696): read it only when nothing is being gathered; otherwise
    // add the candidates we were given.
    this.#log.debug({ leg: this.kind, gathered }, `ICE gathering for the ${type} over`);
    return gathered === 'complete' && this.#pc.iceGatheringState === 'complete'
      ? (this.#pc.localDescription?.sdp ?? shaped)
      : addCandidates(
          shaped,
          this.#candidates.held.map((c) => c.candidate),
        );
  }

  /** Shapes the description again, or filters it by the allowed networks when there is no `shape` (which filters
   * candidates by its own rules, e.g. UDP only for WhatsApp). */
  #finish(type: 'offer' | 'answer', local: string, opts: Omit<AnswerOptions, 'complete'>): string {
    const out = opts.shape
      ? opts.shape(local)
      : filterSdpCandidates(local, { allowedNetworks: this.#networks, announcedIp: this.#announcedIp });
    this.#log.debug({ leg: this.kind, [type]: sdpLogFields(out) }, `${type} ready`);
    return out;
  }

  #addQueuedRemote(): void {
    for (const c of this.#candidates.remoteReady()) void this.addRemoteCandidate(c);
  }

  #updateState(): void {
    if (this.#closed) return;
    const next = this.#pc.connectionState;
    if (next === this.#state) return;
    this.#log.debug({ leg: this.kind, from: this.#state, to: next }, 'leg state');
    this.#state = next;
    this.safeEmit('state', next);
  }
}

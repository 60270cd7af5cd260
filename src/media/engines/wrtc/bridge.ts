import { type ResolvedCallOptions, resolveCallOptions } from '../../../rtc/call-options.js';
import { nowMs } from '../../../rtc/clock.js';
import { TypedEmitter } from '../../../rtc/emitter.js';
import type {
  CallMedia,
  CallMediaEvents,
  CallMediaOptions,
  CallMediaStats,
  LegState,
  MediaFeature,
  OpusClip,
  OpusPacketSink,
  RouteTable,
} from '../../../rtc/engine.js';
import { CALLER } from '../../../rtc/engine.js';
import { emitLegDown, emitLegState, emitWaState } from '../../../rtc/leg-events.js';
import { callLogger, type MediaLogger } from '../../../rtc/log.js';
import type { WrtcTrack } from '../../../rtc/wrtc.js';
import { MediaError } from '../../errors.js';
import { mungeWhatsAppAnswer, mungeWhatsAppOffer } from '../../sdp/rewrite.js';
import { assertBusinessOffer, assertMetaAnswer, assertOffer, assertWhatsAppAnswer } from '../sdp-checks.js';
import { DtmfTap } from './dtmf-tap.js';
import { MediaLeg } from './leg.js';
import { SilenceSource } from './silence.js';

/** How long host candidates must have stopped arriving before the WhatsApp answer goes out without waiting for
 * libwebrtc's "gathering complete" (see AnswerOptions.hostSettleMs). */
const HOST_SETTLE_MS = 10;

/**
 * One call's media: a WhatsApp leg that answers Meta's offer (complete answer, full ICE agent, DTLS client) and an
 * agent leg that answers the agent browser's offer (trickle), with audio relayed both ways by handing each leg's
 * received track to the other leg's sender (libwebrtc decodes and re-encodes; no JS runs per frame).
 *
 * Caller → agent flows as soon as both legs are up. Agent → caller flows only after {@link startAgentAudio}
 * (call it when Meta's `accept` returned 200); until then, and whenever there is no connected agent leg, the
 * WhatsApp leg sends silence. A new agent offer (reload, reconnect) replaces the agent leg.
 */
export class CallBridge extends TypedEmitter<CallMediaEvents> implements CallMedia {
  /** Our answer for Meta's `pre_accept` and `accept` (the same SDP for both); empty on a business-initiated call. */
  readonly waAnswerSdp: string;
  /** Business-initiated: our complete offer for Graph `connect`. */
  readonly waOfferSdp: string | undefined;
  readonly #opts: ResolvedOptions;
  readonly #log: MediaLogger;
  readonly #wa: MediaLeg;
  readonly #silence: SilenceSource;
  readonly #dtmf: DtmfTap | undefined;
  readonly #agentLegId: string;
  #agent: MediaLeg | undefined;
  #pendingAgent: MediaLeg | undefined;
  #agentGeneration = 0;
  #agentAudioStartedAt: number | null = null;
  #waSendTrack: WrtcTrack | null;
  #sendChain: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Builds the WhatsApp leg and its answer. Throws {@link MediaError}: `sdp-invalid` (Meta's offer is broken),
   * `no-usable-candidates` (nothing reachable inside `allowedNetworks`, or no local candidate inside them),
   * `webrtc-failed`. Nothing is left open when it throws.
   */
  static create(opts: CallMediaOptions): Promise<CallBridge> {
    return CallBridge.#build(opts, 'answer');
  }

  /**
   * Business-initiated call: builds the WhatsApp leg as the offerer and its complete offer (actpass, Opus 111,
   * telephone-event 126, gathered candidates, no trickle); Meta's answer follows through {@link applyWaAnswer}.
   * Meta's side is ICE-lite, so this leg is the controlling agent; Meta's `setup:active` makes it the DTLS server.
   * Throws {@link MediaError} like {@link create}; nothing is left open when it throws.
   */
  static createOutbound(opts: Omit<CallMediaOptions, 'offerSdp'>): Promise<CallBridge> {
    return CallBridge.#build({ ...opts, offerSdp: '' }, 'offer');
  }

  /** The WhatsApp leg and its description: the answer to Meta's offer, or our offer for `connect`. */
  static async #build(opts: CallMediaOptions, role: 'answer' | 'offer'): Promise<CallBridge> {
    const resolved = resolveOptions(opts);
    const log = callLogger(resolved.logger, 'bridge', opts.callId);
    if (role === 'answer') assertOffer(opts.offerSdp, 'whatsapp', { requireCandidates: true });
    const silence = new SilenceSource();
    let wa: MediaLeg | undefined;
    try {
      wa = MediaLeg.create({ kind: 'whatsapp', ...resolved.legOptions, logger: log });
      const started = nowMs();
      const shapeOptions = { allowedNetworks: resolved.networks, announcedIp: resolved.announcedIp };
      const common = {
        // With no STUN/TURN server only host candidates can come, and they all come at once.
        ...(resolved.legOptions.iceServers.length === 0 ? { hostSettleMs: HOST_SETTLE_MS } : {}),
        sendTrack: silence.track,
      };
      let local: { answer?: string; offer?: string };
      if (role === 'answer') {
        const answer = await wa.answer(opts.offerSdp, {
          ...common,
          complete: true,
          gatherTimeoutMs: resolved.gatherTimeoutMs,
          shape: (sdp) => mungeWhatsAppAnswer(sdp, shapeOptions),
        });
        assertWhatsAppAnswer(answer, resolved.networks, 'allowedNetworks');
        local = { answer };
      } else {
        const offer = await wa.offer({
          ...common,
          gatherTimeoutMs: resolved.outboundGatherTimeoutMs,
          shape: (sdp) => mungeWhatsAppOffer(sdp, shapeOptions),
        });
        assertBusinessOffer(offer);
        local = { offer };
      }
      log.info({ [`${role}Ms`]: Math.round(nowMs() - started) }, `WhatsApp ${role} ready`);
      return new CallBridge(resolved, log, wa, silence, local);
    } catch (err) {
      wa?.close();
      silence.close();
      throw err;
    }
  }

  private constructor(
    opts: ResolvedOptions,
    log: MediaLogger,
    wa: MediaLeg,
    silence: SilenceSource,
    local: { answer?: string; offer?: string },
  ) {
    super((event, err) => log.error({ err, event }, 'bridge listener threw'));
    this.#opts = opts;
    this.#log = log;
    this.#wa = wa;
    this.#silence = silence;
    this.#waSendTrack = silence.track;
    this.waAnswerSdp = local.answer ?? '';
    this.waOfferSdp = local.offer;
    this.#agentLegId = opts.agentLegId;
    wa.on('state', (state) => this.#onWaState(state));
    const track = wa.remoteTrack;
    if (opts.detectDtmf && track) {
      this.#dtmf = new DtmfTap(track, (e) => this.safeEmit('dtmf', e), log);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get waState(): LegState {
    return this.#wa.state;
  }

  /** The current agent leg's state, or `none` when there is none. */
  get agentState(): LegState | 'none' {
    return this.#agent?.state ?? 'none';
  }

  /** Epoch ms of the first startAgentAudio() call, or null. */
  get agentAudioStartedAt(): number | null {
    return this.#agentAudioStartedAt;
  }

  /** What the WhatsApp leg sends now: the agent's audio, silence, or nothing (before connection / accept). */
  get waSending(): 'agent' | 'silence' | 'nothing' {
    if (this.#agent && this.#waSendTrack === this.#agent.remoteTrack) return 'agent';
    return this.#silence.running ? 'silence' : 'nothing';
  }

  /**
   * Answers an agent browser's offer and makes that leg the agent leg; returns the answer at once (candidates
   * follow as 'agent-candidate' events). A later offer replaces the leg: the old one is closed and the new one
   * takes over both directions, which is how a reloaded tab gets the call's audio back. A broken offer leaves the
   * current leg untouched. Throws {@link MediaError} `sdp-invalid`, `media-closed`, `agent-offer-superseded`.
   */
  async acceptAgentOffer(offerSdp: string): Promise<string> {
    if (this.#closed) throw new MediaError('media-closed', 'the call bridge is closed');
    // Validate first: a broken offer must neither touch the current leg nor supersede a good pending one.
    assertOffer(offerSdp, 'agent');
    const generation = ++this.#agentGeneration;
    const leg = MediaLeg.create({ kind: 'agent', ...this.#opts.legOptions, logger: this.#log });
    this.#pendingAgent?.close();
    this.#pendingAgent = leg;
    let answer: string;
    try {
      answer = await leg.answer(offerSdp, { complete: false, sendTrack: this.#wa.remoteTrack });
    } catch (err) {
      leg.close();
      if (this.#pendingAgent === leg) this.#pendingAgent = undefined;
      if (generation !== this.#agentGeneration && !this.#closed) {
        throw new MediaError('agent-offer-superseded', 'a newer agent offer replaced this one', { cause: err });
      }
      throw err;
    }
    if (this.#closed) {
      leg.close();
      throw new MediaError('media-closed', 'the call bridge closed while answering the agent');
    }
    if (generation !== this.#agentGeneration) {
      leg.close();
      throw new MediaError('agent-offer-superseded', 'a newer agent offer replaced this one');
    }
    this.#pendingAgent = undefined;
    const previous = this.#agent;
    this.#agent = leg;
    leg.on('state', (state) => this.#onAgentState(leg, state));
    leg.on('candidate', (c) => {
      this.safeEmit('agent-candidate', c);
      this.safeEmit('leg-candidate', { legId: this.#agentLegId, candidate: c });
    });
    if (previous) {
      this.#log.info({}, 'agent leg replaced by a new offer');
      previous.close();
    }
    this.#updateWaSend();
    // Let the caller send the answer before the first candidate goes out.
    setImmediate(() => leg.releaseCandidates());
    return answer;
  }

  /**
   * Adds a candidate trickled by the agent's browser to the newest agent leg. Never throws: garbage, candidates
   * outside `allowedNetworks`, candidates without an agent leg resolve to `false`.
   */
  async addAgentCandidate(candidate: unknown): Promise<boolean> {
    const leg = this.#pendingAgent ?? this.#agent;
    if (this.#closed || !leg) {
      this.#log.debug({}, 'agent candidate without an agent leg ignored');
      return false;
    }
    return leg.addRemoteCandidate(candidate);
  }

  /**
   * Starts sending the agent's audio to WhatsApp (call it once Meta's `accept` returned 200). Idempotent. Until an
   * agent leg is connected, silence keeps flowing instead.
   */
  startAgentAudio(): void {
    if (this.#closed || this.#agentAudioStartedAt !== null) return;
    this.#agentAudioStartedAt = nowMs();
    this.#log.info({ agentState: this.agentState }, 'agent audio started');
    this.#updateWaSend();
  }

  /**
   * Business-initiated: applies Meta's answer (from the connect webhook) to the WhatsApp leg. Throws
   * {@link MediaError} `sdp-invalid` (checked first, see validateMetaAnswer) or `media-closed`.
   */
  async applyWaAnswer(sdp: string): Promise<void> {
    if (this.#closed) throw new MediaError('media-closed', 'the call bridge is closed');
    if (this.waOfferSdp === undefined) throw new MediaError('sdp-invalid', 'this bridge answered an offer itself');
    assertMetaAnswer(sdp);
    await this.#wa.applyAnswer(sdp);
  }

  /** Closes the agent leg (agent hung up or left) without ending the call; WhatsApp gets silence. */
  closeAgentLeg(): void {
    const leg = this.#agent;
    if (!leg) return;
    this.#agent = undefined;
    leg.close();
    emitLegDown(this, this.#agentLegId, true, 'closed');
    this.#updateWaSend();
  }

  /** Only the agent leg exists on this engine. */
  acceptLegOffer(legId: string, offerSdp: string): Promise<string> {
    if (legId !== this.#agentLegId)
      return Promise.reject(unsupported('browser-legs', `a second browser leg (${legId})`));
    return this.acceptAgentOffer(offerSdp);
  }

  addLegCandidate(legId: string, candidate: unknown): Promise<boolean> {
    if (legId !== this.#agentLegId) return Promise.resolve(false);
    return this.addAgentCandidate(candidate);
  }

  closeLeg(legId: string): void {
    if (legId === this.#agentLegId) this.closeAgentLeg();
  }

  /** Only the default table (caller ⇄ agent leg) is possible here; anything else throws `unsupported`. */
  setRoutes(routes: RouteTable): void {
    const agentHears = routes[this.#agentLegId] ?? [];
    const callerHears = routes[CALLER] ?? [];
    const others = Object.entries(routes).filter(
      ([sink, src]) => sink !== CALLER && sink !== this.#agentLegId && src.length > 0,
    );
    const isDefault =
      others.length === 0 && agentHears.every((s) => s === CALLER) && callerHears.every((s) => s === this.#agentLegId);
    if (!isDefault) throw unsupported('routing', 'a routing table other than caller ⇄ agent');
  }

  play(_playId: string, _clips: OpusClip[], _loop: boolean, _thenLoop?: OpusClip[]): void {
    throw unsupported('player', 'playing prompts or music');
  }

  stopPlay(): void {}

  record(sinks: { caller: OpusPacketSink; agents: OpusPacketSink } | null): void {
    if (sinks) throw unsupported('recording', 'recording');
  }

  async getStats(): Promise<CallMediaStats> {
    const [whatsapp, agent] = await Promise.all([this.#wa.getStats(), this.#agent?.getStats() ?? null]);
    return { whatsapp, agent };
  }

  /** Closes both legs and the silence source. Idempotent; emits 'closed' once. */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#agentGeneration++;
    this.#pendingAgent?.close();
    this.#pendingAgent = undefined;
    this.#agent?.close();
    this.#agent = undefined;
    this.#dtmf?.close();
    this.#wa.close();
    this.#silence.close();
    this.#log.info({ reason }, 'call bridge closed');
    this.safeEmit('closed', { reason });
    this.removeAllListeners();
  }

  #onWaState(state: LegState): void {
    if (this.#closed) return;
    emitWaState(this, state);
    this.#updateWaSend();
  }

  #onAgentState(leg: MediaLeg, state: LegState): void {
    if (this.#closed || leg !== this.#agent) return;
    if (state === 'failed') {
      this.#agent = undefined;
      leg.close();
    }
    emitLegState(this, this.#agentLegId, true, state);
    this.#updateWaSend();
  }

  /** Puts the right track on the WhatsApp sender and runs silence only when it is what is being sent. */
  #updateWaSend(): void {
    if (this.#closed) return;
    const agent = this.#agent;
    const agentTrack =
      this.#agentAudioStartedAt !== null && agent?.state === 'connected' ? (agent.remoteTrack ?? undefined) : undefined;
    const target = agentTrack ?? this.#silence.track;
    const silenceWanted =
      target === this.#silence.track &&
      this.#wa.state === 'connected' &&
      (this.#opts.silenceBeforeAccept || this.#agentAudioStartedAt !== null);
    if (silenceWanted) this.#silence.start();
    if (target !== this.#waSendTrack) {
      this.#waSendTrack = target;
      const wa = this.#wa;
      this.#sendChain = this.#sendChain
        .then(() => wa.replaceSendTrack(target))
        .catch((err: unknown) => this.#log.warn({ err: String(err) }, 'replaceTrack on the WhatsApp leg failed'));
      this.#log.debug({ sending: agentTrack ? 'agent' : 'silence' }, 'WhatsApp leg send track switched');
    }
    if (!silenceWanted) this.#silence.stop();
  }
}

/** What this engine cannot do (said once at start by the media node). */
export const WRTC_LACKS: readonly MediaFeature[] = ['browser-legs', 'routing', 'player', 'recording', 'rfc4733-dtmf'];

function unsupported(feature: MediaFeature, what: string): MediaError {
  return new MediaError(
    'unsupported',
    `the wrtc media engine cannot do ${what} (${feature}); set MEDIA_ENGINE=forward`,
  );
}

interface ResolvedOptions extends ResolvedCallOptions {
  detectDtmf: boolean;
}

function resolveOptions(opts: CallMediaOptions): ResolvedOptions {
  return { ...resolveCallOptions(opts, 'CallBridge.create'), detectDtmf: opts.detectDtmf ?? false };
}

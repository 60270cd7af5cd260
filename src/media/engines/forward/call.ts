import { nowMs } from '../../../rtc/clock.js';
import { TypedEmitter } from '../../../rtc/emitter.js';
import {
  CALLER,
  type CallMedia,
  type CallMediaEvents,
  type CallMediaOptions,
  type CallMediaStats,
  type LegState,
  type OpusClip,
  type OpusPacketSink,
  PLAYER,
  type RouteTable,
} from '../../../rtc/engine.js';
import { FrameClock } from '../../../rtc/frame-clock.js';
import { emitLegDown, emitLegState, emitWaState } from '../../../rtc/leg-events.js';
import { callLogger, type MediaLogger } from '../../../rtc/log.js';
import { MediaError } from '../../errors.js';
import { OPUS_SILENCE_FRAME } from '../../opus/prompts.js';
import { TelephoneEventDeduper } from '../../opus/telephone-event.js';
import { mungeWhatsAppAnswer, mungeWhatsAppOffer } from '../../sdp/rewrite.js';
import { assertBusinessOffer, assertMetaAnswer, assertOffer, assertWhatsAppAnswer } from '../sdp-checks.js';
import { ForwardLeg, type ResolvedForwardOptions, resolveForwardOptions } from './leg.js';
import { ClipPlayer, LocalSource } from './player.js';
import { checkRoutes, defaultRoutes, type Fanout, fanoutOf } from './routes.js';
import { parseRtp } from './rtp.js';
import { createSide, randomSsrc, readRtcp, type Side, sendRtcp, sideStats } from './side.js';

/** Without a forwarded packet for this long, the caller gets silence frames instead. */
const CALLER_QUIET_MS = 60;
const RTCP_EVERY_MS = 1000;

/**
 * One call on the forwarding engine: a small switch between the WhatsApp leg, browser legs and a player. Opus RTP
 * is forwarded without decoding, re-stamped per receiver (our SSRC, continuous sequence numbers and timestamps across
 * source switches, header extensions stripped, payload type mapped); telephone-events are read for DTMF and never
 * forwarded; every leg is read whether routed or not; the caller gets Opus silence whenever nothing reaches it.
 */
export class ForwardCall extends TypedEmitter<CallMediaEvents> implements CallMedia {
  readonly waAnswerSdp: string;
  readonly waOfferSdp: string | undefined;
  readonly #log: MediaLogger;
  readonly #o: ResolvedForwardOptions;
  readonly #wa: Side;
  readonly #legs = new Map<string, Side>();
  readonly #pending = new Map<string, ForwardLeg>();
  readonly #dtmf = new TelephoneEventDeduper();
  readonly #silence = new LocalSource();
  readonly #player: ClipPlayer;
  readonly #stopClock: () => void;
  readonly #rtcpTimer: NodeJS.Timeout;
  #routes: RouteTable | undefined;
  /** Rebuilt whenever the table or the legs change. */
  #fanout: Fanout = new Map();
  #agentAudioStartedAt: number | null = null;
  #recording: { caller: OpusPacketSink; agents: OpusPacketSink } | undefined;
  #closed = false;

  static create(opts: CallMediaOptions): Promise<ForwardCall> {
    return ForwardCall.#build(opts, 'answer');
  }

  /**
   * Business-initiated call: the WhatsApp leg makes a complete offer (actpass, Opus 111, telephone-event 126, no
   * trickle); Meta's answer follows through {@link applyWaAnswer}. Meta's side is ICE-lite: we are controlling.
   */
  static createOutbound(opts: Omit<CallMediaOptions, 'offerSdp'>): Promise<ForwardCall> {
    return ForwardCall.#build({ ...opts, offerSdp: '' }, 'offer');
  }

  /** The WhatsApp leg and its description: the answer to Meta's offer, or our offer for `connect`. */
  static async #build(opts: CallMediaOptions, role: 'answer' | 'offer'): Promise<ForwardCall> {
    const o = resolveForwardOptions(opts);
    const log = callLogger(o.logger, 'forward', opts.callId);
    if (role === 'answer') assertOffer(opts.offerSdp, 'whatsapp', { requireCandidates: true });
    const leg = new ForwardLeg({ ...o.legOptions, id: CALLER, logger: log });
    try {
      const ssrc = randomSsrc();
      const shapeOptions = { allowedNetworks: o.networks, announcedIp: o.announcedIp };
      if (role === 'offer') {
        const offer = mungeWhatsAppOffer(
          await leg.offer({ gatherTimeoutMs: o.outboundGatherTimeoutMs, ssrc }),
          shapeOptions,
        );
        assertBusinessOffer(offer);
        return new ForwardCall(o, log, leg, ssrc, { offer });
      }
      const raw = await leg.answer(opts.offerSdp, {
        complete: true,
        gatherTimeoutMs: o.gatherTimeoutMs,
        ssrcs: [ssrc],
      });
      const answer = mungeWhatsAppAnswer(raw, shapeOptions);
      assertWhatsAppAnswer(answer, o.networks, 'MEDIA_ALLOWED_NETWORKS');
      return new ForwardCall(o, log, leg, ssrc, { answer });
    } catch (err) {
      leg.close();
      throw err;
    }
  }

  /** Business-initiated: applies Meta's answer to the WhatsApp leg (checked first, see validateMetaAnswer). */
  async applyWaAnswer(sdp: string): Promise<void> {
    if (this.#closed) throw new MediaError('media-closed', 'the call is closed');
    if (this.waOfferSdp === undefined) throw new MediaError('sdp-invalid', 'this call answered an offer itself');
    assertMetaAnswer(sdp);
    this.#wa.leg.applyAnswer(sdp);
  }

  private constructor(
    o: ResolvedForwardOptions,
    log: MediaLogger,
    leg: ForwardLeg,
    ssrc: number,
    local: { answer?: string; offer?: string },
  ) {
    super((event, err) => log.error({ err, event }, 'forward call listener threw'));
    this.#o = o;
    this.#log = log;
    this.waAnswerSdp = local.answer ?? '';
    this.waOfferSdp = local.offer;
    this.#player = new ClipPlayer(log, (playId) => this.safeEmit('play-ended', { playId }));
    this.#wa = this.#side(CALLER, leg, [ssrc]);
    leg.on('state', (s) => this.#onWaState(s));
    this.#rebuildFanout();
    this.#stopClock = FrameClock.shared({ frameMs: 20 }).subscribe((at) => this.#tick(at));
    this.#rtcpTimer = setInterval(() => this.#sendRtcp(), RTCP_EVERY_MS);
    this.#rtcpTimer.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get waState(): LegState {
    return this.#wa.leg.state;
  }

  get agentState(): LegState | 'none' {
    return this.#legs.get(this.#o.agentLegId)?.leg.state ?? 'none';
  }

  /** What the caller is meant to hear now (the route's source when it is live, else silence or nothing). */
  get waSending(): 'agent' | 'silence' | 'player' | 'leg' | 'nothing' {
    const source = this.#effectiveRoutes()[CALLER]?.[0];
    if (source === PLAYER && this.#player.playing) return 'player';
    if (source !== undefined && this.#legs.get(source)?.leg.state === 'connected') {
      return source === this.#o.agentLegId ? 'agent' : 'leg';
    }
    return this.#wa.leg.state === 'connected' && this.#silenceAllowed() ? 'silence' : 'nothing';
  }

  #silenceAllowed(): boolean {
    return this.#o.silenceBeforeAccept || this.#agentAudioStartedAt !== null || this.#routes !== undefined;
  }

  acceptAgentOffer(offerSdp: string): Promise<string> {
    return this.acceptLegOffer(this.#o.agentLegId, offerSdp);
  }

  addAgentCandidate(candidate: unknown): Promise<boolean> {
    return this.addLegCandidate(this.#o.agentLegId, candidate);
  }

  startAgentAudio(): void {
    if (this.#closed || this.#agentAudioStartedAt !== null) return;
    this.#agentAudioStartedAt = nowMs();
    this.#log.info({ agentState: this.agentState }, 'agent audio started');
    this.#rebuildFanout();
  }

  closeAgentLeg(): void {
    this.closeLeg(this.#o.agentLegId);
  }

  /**
   * Answers a browser leg's offer (trickle: candidates follow as events). A later offer for the same leg replaces it
   * once answered (reload, take-over); a broken offer leaves the current leg untouched.
   */
  async acceptLegOffer(legId: string, offerSdp: string): Promise<string> {
    if (this.#closed) throw new MediaError('media-closed', 'the call is closed');
    assertOffer(offerSdp, legId);
    const leg = new ForwardLeg({ ...this.#o.legOptions, id: legId, logger: this.#log });
    this.#pending.get(legId)?.close();
    this.#pending.set(legId, leg);
    const ssrcs = [randomSsrc(), randomSsrc(), randomSsrc(), randomSsrc()];
    let answer: string;
    try {
      answer = await leg.answer(offerSdp, { complete: false, gatherTimeoutMs: this.#o.gatherTimeoutMs, ssrcs });
    } catch (err) {
      leg.close();
      if (this.#pending.get(legId) === leg) this.#pending.delete(legId);
      else if (!this.#closed)
        throw new MediaError('agent-offer-superseded', 'a newer offer replaced this one', { cause: err });
      throw err;
    }
    if (this.#closed) {
      leg.close();
      throw new MediaError('media-closed', 'the call closed while answering the browser');
    }
    if (this.#pending.get(legId) !== leg) {
      leg.close();
      throw new MediaError('agent-offer-superseded', 'a newer offer replaced this one');
    }
    this.#pending.delete(legId);
    const previous = this.#legs.get(legId);
    const side = this.#side(legId, leg, ssrcs);
    this.#legs.set(legId, side);
    leg.on('state', (s) => this.#onLegState(side, s));
    leg.on('candidate', (c) => {
      if (legId === this.#o.agentLegId) this.safeEmit('agent-candidate', c);
      this.safeEmit('leg-candidate', { legId, candidate: c });
    });
    if (previous) {
      const which = legId === this.#o.agentLegId ? 'agent' : 'browser';
      this.#log.info({ legId }, `${which} leg replaced by a new offer`);
      previous.leg.close();
    }
    this.#rebuildFanout();
    // Let the caller send the answer before the first candidate goes out.
    setImmediate(() => leg.releaseCandidates());
    return answer;
  }

  async addLegCandidate(legId: string, candidate: unknown): Promise<boolean> {
    const leg = this.#pending.get(legId) ?? this.#legs.get(legId)?.leg;
    if (this.#closed || !leg) return false;
    return leg.addRemoteCandidate(candidate);
  }

  closeLeg(legId: string): void {
    this.#pending.get(legId)?.close();
    this.#pending.delete(legId);
    const side = this.#legs.get(legId);
    if (!side) return;
    this.#legs.delete(legId);
    side.leg.close();
    this.#rebuildFanout();
    emitLegDown(this, legId, legId === this.#o.agentLegId, 'closed');
  }

  setRoutes(routes: RouteTable): void {
    if (this.#closed) return;
    const table = checkRoutes(routes);
    this.#routes = table;
    this.#rebuildFanout();
    this.#log.info({ routes: table }, 'routing table set');
  }

  play(playId: string, clips: OpusClip[], loop: boolean, thenLoop?: OpusClip[]): void {
    if (!this.#closed) this.#player.play(playId, clips, loop, thenLoop);
  }

  stopPlay(): void {
    this.#player.stop();
  }

  record(sinks: { caller: OpusPacketSink; agents: OpusPacketSink } | null): void {
    this.#recording = sinks ?? undefined;
  }

  async getStats(): Promise<CallMediaStats> {
    const agent = this.#legs.get(this.#o.agentLegId);
    return { whatsapp: sideStats(this.#wa), agent: agent ? sideStats(agent) : null };
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopClock();
    clearInterval(this.#rtcpTimer);
    this.#player.stop();
    for (const leg of this.#pending.values()) leg.close();
    this.#pending.clear();
    for (const side of this.#legs.values()) side.leg.close();
    this.#legs.clear();
    this.#wa.leg.close();
    this.#recording = undefined;
    this.#log.info({ reason }, 'forward call closed');
    this.safeEmit('closed', { reason });
    this.removeAllListeners();
  }

  #side(id: string, leg: ForwardLeg, ssrcs: number[]): Side {
    const side = createSide(id, leg, ssrcs);
    leg.on('rtp', (buf, index) => this.#onRtp(side, buf, index));
    leg.on('rtcp', (buf) => {
      if (!this.#closed) readRtcp(side, buf, nowMs());
    });
    return side;
  }

  /** The table in force: the explicit one, or today's default (agent hears caller; caller hears agent after accept). */
  #effectiveRoutes(): RouteTable {
    return this.#routes ?? defaultRoutes(this.#o.agentLegId, this.#agentAudioStartedAt !== null);
  }

  #rebuildFanout(): void {
    this.#fanout = fanoutOf(this.#effectiveRoutes());
  }

  #sinkSide(sink: string): Side | undefined {
    return sink === CALLER ? this.#wa : this.#legs.get(sink);
  }

  #onRtp(side: Side, buf: Buffer, index: number): void {
    if (this.#closed || index !== side.inIndex) return;
    const h = parseRtp(buf);
    if (!h) return;
    const now = nowMs();
    if (h.payloadType === side.dtmfPt) {
      // Telephone-events are never forwarded as audio; keys count from the WhatsApp leg's connection on.
      if (side === this.#wa) {
        const payload = buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
        for (const { digit, endLost } of this.#dtmf.push(payload, h.timestamp)) {
          this.#log.info({ digit, endLost }, 'DTMF key (RFC 4733)');
          this.safeEmit('dtmf', { digit, at: Date.now() });
        }
      }
      return;
    }
    if (h.payloadType !== side.opusPt) return;
    side.inbound.update(h, buf.length, now);
    const payload = buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
    if (side === this.#wa) this.#recording?.caller.write(payload, h.timestamp);
    const targets = this.#fanout.get(side.id);
    if (!targets) return; // read and dropped
    for (const { sink, slot } of targets) {
      const to = this.#sinkSide(sink);
      if (!to || to === side) continue;
      this.#sendTo(to, slot, side.source, h, payload, now, side.id);
    }
  }

  #sendTo(
    to: Side,
    slot: number,
    source: object,
    h: { marker: boolean; sequence: number; timestamp: number },
    payload: Buffer,
    now: number,
    from: string,
  ): void {
    const out = to.outs[slot];
    if (!out || to.leg.state !== 'connected') return;
    const packet = out.stream.rewrite(source, { ...h, payloadType: out.pt }, payload, now);
    to.leg.send(out.index, packet);
    if (to === this.#wa && from !== 'silence') this.#recording?.agents.write(payload, packet.readUInt32BE(4));
  }

  /** Every 20 ms: the player's next frame to whoever hears it; silence to the caller when nothing else reaches it. */
  #tick(_frameAt: number): void {
    if (this.#closed) return;
    const now = nowMs();
    const frame = this.#player.next();
    const targets = frame && this.#fanout.get(PLAYER);
    if (frame && targets) {
      const source = this.#player.source;
      const h = source.header();
      for (const { sink, slot } of targets) {
        const to = this.#sinkSide(sink);
        if (to) this.#sendTo(to, slot, source, h, frame, now, PLAYER);
      }
    }
    const out = this.#wa.outs[0];
    if (!out || this.#wa.leg.state !== 'connected') return;
    if (!this.#silenceAllowed()) return;
    if (now - out.stream.lastSentAt >= CALLER_QUIET_MS || out.stream.packets === 0) {
      this.#sendTo(this.#wa, 0, this.#silence, this.#silence.header(), OPUS_SILENCE_FRAME, now, 'silence');
    }
  }

  #sendRtcp(): void {
    if (this.#closed) return;
    const now = nowMs();
    for (const side of [this.#wa, ...this.#legs.values()]) sendRtcp(side, now);
  }

  #onWaState(state: LegState): void {
    if (!this.#closed) emitWaState(this, state);
  }

  #onLegState(side: Side, state: LegState): void {
    if (this.#closed || this.#legs.get(side.id) !== side) return;
    if (state === 'failed') {
      this.#legs.delete(side.id);
      side.leg.close();
      this.#rebuildFanout();
    }
    emitLegState(this, side.id, side.id === this.#o.agentLegId, state);
  }
}

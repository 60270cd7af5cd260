import { randomInt } from 'node:crypto';
import { type CallLegOptions, type ResolvedCallOptions, resolveCallOptions } from '../../../rtc/call-options.js';
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
  type OpusFrameSource,
  type OpusPacketSink,
  PLAYER,
  type RouteTable,
} from '../../../rtc/engine.js';
import { FrameClock } from '../../../rtc/frame-clock.js';
import { bindAddressFor } from '../../../rtc/interfaces.js';
import { childLogger, type MediaLogger } from '../../../rtc/log.js';
import { estimateMos } from '../../../rtc/mos.js';
import { EMPTY_LEG_STATS, type LegStats } from '../../../rtc/stats.js';
import { MediaError } from '../../errors.js';
import { TelephoneEventDeduper } from '../../opus/telephone-event.js';
import { mungeWhatsAppAnswer, validateOffer } from '../../sdp.js';
import { mungeWhatsAppOffer, validateBusinessOffer, validateMetaAnswer } from '../../sdp-outbound.js';
import { assertWhatsAppAnswer } from '../answer-check.js';
import { ForwardLeg } from './leg.js';
import { buildReceiverReport, buildSenderReport, parseRtcp, rttFromReport } from './rtcp.js';
import { InboundStats, OPUS_FRAME_TICKS, OutboundStream, parseRtp } from './rtp.js';

/** The 3-byte Opus packet for 20 ms of silence (TOC: CELT FB 20 ms, one frame; RFC 6716). */
export const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

/** Without a forwarded packet for this long, the caller gets silence frames instead. */
const CALLER_QUIET_MS = 60;
const RTCP_EVERY_MS = 1000;

/** One sending side of a call: the WhatsApp leg or a browser leg, with its streams and receive statistics. */
interface Side {
  id: string;
  leg: ForwardLeg;
  /** One outbound stream per audio m-line we send on (a browser hears N sources on N tracks). */
  outs: { index: number; stream: OutboundStream; pt: number }[];
  /** The m-line we receive the remote's audio on. */
  inIndex: number;
  opusPt: number;
  dtmfPt: number | undefined;
  inbound: InboundStats;
  /** Changes when a new offer replaces the leg: a new source for every receiver. */
  source: object;
  rttMs: number | null;
  remoteFractionLost: number;
}

/** A player or silence as a source: its own continuous numbering. */
class LocalSource {
  sequence = randomInt(0, 0x8000);
  timestamp = randomInt(0, 0x7fffffff);
  header(): { marker: boolean; payloadType: number; sequence: number; timestamp: number } {
    const h = { marker: false, payloadType: 0, sequence: this.sequence, timestamp: this.timestamp };
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + OPUS_FRAME_TICKS) >>> 0;
    return h;
  }
}

interface Playing {
  playId: string;
  clips: OpusClip[];
  loop: boolean;
  /** Looped once `clips` have played (from the next frame on). */
  thenLoop: OpusClip[] | undefined;
  index: number;
  current: OpusFrameSource | undefined;
}

/**
 * One call on the forwarding engine: a small switch between the WhatsApp leg, browser legs and a player. Opus RTP
 * is forwarded without decoding, re-stamped per receiver (our SSRC, continuous sequence numbers and timestamps across
 * source switches, header extensions stripped, payload type mapped); telephone-events are read for DTMF and never
 * forwarded; every leg is read whether routed or not; the caller gets Opus silence whenever nothing reaches it.
 */
/** The longest wait for the WhatsApp leg's candidates before a business-initiated offer goes out. */
const OUTBOUND_GATHER_MS = 8000;

export class ForwardCall extends TypedEmitter<CallMediaEvents> implements CallMedia {
  readonly waAnswerSdp: string;
  readonly waOfferSdp: string | undefined;
  readonly #log: MediaLogger;
  readonly #o: Resolved;
  readonly #wa: Side;
  readonly #legs = new Map<string, Side>();
  readonly #pending = new Map<string, ForwardLeg>();
  readonly #dtmf = new TelephoneEventDeduper();
  readonly #silence = new LocalSource();
  readonly #playerSource = new LocalSource();
  readonly #stopClock: () => void;
  readonly #rtcpTimer: NodeJS.Timeout;
  #routes: RouteTable | undefined;
  /** source id → [sink id, slot] pairs, rebuilt whenever the table or the legs change. */
  #fanout = new Map<string, { sink: string; slot: number }[]>();
  #agentAudioStartedAt: number | null = null;
  #playing: Playing | undefined;
  #recording: { caller: OpusPacketSink; agents: OpusPacketSink } | undefined;
  #closed = false;

  static async create(opts: CallMediaOptions): Promise<ForwardCall> {
    const o = resolve(opts);
    const log = childLogger(
      o.logger,
      opts.callId ? { callId: opts.callId, component: 'forward' } : { component: 'forward' },
    );
    const check = validateOffer(opts.offerSdp, { requireCandidates: true });
    if (!check.ok) {
      throw new MediaError('sdp-invalid', `invalid whatsapp offer: ${check.errors.join('; ')}`, {
        details: check.errors,
      });
    }
    const leg = new ForwardLeg({ ...o.legOptions, id: CALLER, logger: log });
    try {
      const ssrc = randomSsrc();
      const raw = await leg.answer(opts.offerSdp, {
        complete: true,
        gatherTimeoutMs: o.gatherTimeoutMs,
        ssrcs: [ssrc],
      });
      const answer = mungeWhatsAppAnswer(raw, { allowedNetworks: o.networks, announcedIp: o.announcedIp });
      assertWhatsAppAnswer(answer, o.networks, 'MEDIA_ALLOWED_NETWORKS');
      return new ForwardCall(o, log, leg, ssrc, { answer });
    } catch (err) {
      leg.close();
      throw err;
    }
  }

  /**
   * Business-initiated call: the WhatsApp leg makes a complete offer (actpass, Opus 111, telephone-event 126, no
   * trickle); Meta's answer follows through {@link applyWaAnswer}. Meta's side is ICE-lite: we are controlling.
   */
  static async createOutbound(opts: Omit<CallMediaOptions, 'offerSdp'>): Promise<ForwardCall> {
    const o = resolve({ ...opts, offerSdp: '' });
    const log = childLogger(
      o.logger,
      opts.callId ? { callId: opts.callId, component: 'forward' } : { component: 'forward' },
    );
    const leg = new ForwardLeg({ ...o.legOptions, id: CALLER, logger: log });
    try {
      const ssrc = randomSsrc();
      // The user's phone has not rung yet: a loaded host may take longer to gather than an answer may wait.
      const raw = await leg.offer({ gatherTimeoutMs: Math.max(o.gatherTimeoutMs, OUTBOUND_GATHER_MS), ssrc });
      const offer = mungeWhatsAppOffer(raw, { allowedNetworks: o.networks, announcedIp: o.announcedIp });
      const valid = validateBusinessOffer(offer);
      if (!valid.ok) {
        const noCandidates = valid.errors.some((e) => e.startsWith('no ICE candidates'));
        throw new MediaError(
          noCandidates ? 'no-usable-candidates' : 'webrtc-failed',
          `our offer would be refused by WhatsApp: ${valid.errors.join('; ')}`,
          { details: valid.errors },
        );
      }
      return new ForwardCall(o, log, leg, ssrc, { offer });
    } catch (err) {
      leg.close();
      throw err;
    }
  }

  /** Business-initiated: applies Meta's answer to the WhatsApp leg (checked first, see validateMetaAnswer). */
  async applyWaAnswer(sdp: string): Promise<void> {
    if (this.#closed) throw new MediaError('media-closed', 'the call is closed');
    if (this.waOfferSdp === undefined) throw new MediaError('sdp-invalid', 'this call answered an offer itself');
    const check = validateMetaAnswer(sdp);
    if (!check.ok) {
      throw new MediaError('sdp-invalid', `unusable answer from WhatsApp: ${check.errors.join('; ')}`, {
        details: check.errors,
      });
    }
    this.#wa.leg.applyAnswer(sdp);
  }

  private constructor(
    o: Resolved,
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
    if (source === PLAYER && this.#playing) return 'player';
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
    const check = validateOffer(offerSdp);
    if (!check.ok) {
      throw new MediaError('sdp-invalid', `invalid ${legId} offer: ${check.errors.join('; ')}`, {
        details: check.errors,
      });
    }
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
    if (legId === this.#o.agentLegId) this.safeEmit('agent-disconnected', { reason: 'closed' });
    this.safeEmit('leg-down', { legId, reason: 'closed' });
  }

  setRoutes(routes: RouteTable): void {
    if (this.#closed) return;
    const table: RouteTable = {};
    for (const [sink, sources] of Object.entries(routes)) {
      if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')) {
        throw new MediaError('sdp-invalid', `route for ${sink} must be a list of source ids`);
      }
      table[sink] = sink === CALLER ? sources.slice(0, 1) : [...sources];
    }
    this.#routes = table;
    this.#rebuildFanout();
    this.#log.info({ routes: table }, 'routing table set');
  }

  play(playId: string, clips: OpusClip[], loop: boolean, thenLoop?: OpusClip[]): void {
    if (this.#closed) return;
    this.#stopPlaying();
    this.#playing = { playId, clips, loop, thenLoop, index: 0, current: undefined };
    this.#log.info(
      { playId, clips: clips.map((c) => c.name), loop, thenLoop: thenLoop?.map((c) => c.name) },
      'playing',
    );
  }

  stopPlay(): void {
    this.#stopPlaying();
  }

  record(sinks: { caller: OpusPacketSink; agents: OpusPacketSink } | null): void {
    this.#recording = sinks ?? undefined;
  }

  async getStats(): Promise<CallMediaStats> {
    const agent = this.#legs.get(this.#o.agentLegId);
    return { whatsapp: this.#statsOf(this.#wa), agent: agent ? this.#statsOf(agent) : null };
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopClock();
    clearInterval(this.#rtcpTimer);
    this.#stopPlaying();
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
    const audio = leg.audio;
    const outs: Side['outs'] = [];
    for (const [index, a] of audio.entries()) {
      if (a.send) outs.push({ index, stream: new OutboundStream(ssrcs[outs.length] ?? randomSsrc()), pt: a.opusPt });
    }
    const inIndex = Math.max(
      0,
      audio.findIndex((a) => a.receive),
    );
    const side: Side = {
      id,
      leg,
      outs,
      inIndex,
      opusPt: audio[inIndex]?.opusPt ?? 111,
      dtmfPt: audio[inIndex]?.dtmfPt,
      inbound: new InboundStats(),
      source: {},
      rttMs: null,
      remoteFractionLost: 0,
    };
    leg.on('rtp', (buf, index) => this.#onRtp(side, buf, index));
    leg.on('rtcp', (buf) => this.#onRtcp(side, buf));
    return side;
  }

  /** The table in force: the explicit one, or today's default (agent hears caller; caller hears agent after accept). */
  #effectiveRoutes(): RouteTable {
    if (this.#routes) return this.#routes;
    const agent = this.#o.agentLegId;
    return { [agent]: [CALLER], [CALLER]: this.#agentAudioStartedAt !== null ? [agent] : [] };
  }

  #rebuildFanout(): void {
    const fanout = new Map<string, { sink: string; slot: number }[]>();
    for (const [sink, sources] of Object.entries(this.#effectiveRoutes())) {
      for (const [slot, source] of sources.entries()) {
        const list = fanout.get(source) ?? [];
        list.push({ sink, slot });
        fanout.set(source, list);
      }
    }
    this.#fanout = fanout;
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

  #onRtcp(side: Side, buf: Buffer): void {
    if (this.#closed) return;
    const now = nowMs();
    const reading = parseRtcp(buf);
    for (const sr of reading.senderReports) {
      if (sr.ssrc === side.inbound.ssrc) {
        side.inbound.lastSr = sr.ntpMiddle;
        side.inbound.lastSrAt = now;
      }
    }
    for (const r of reading.reports) {
      if (!side.outs.some((o) => o.stream.ssrc === r.ssrc)) continue;
      const rtt = rttFromReport(r.lsr, r.dlsr, now);
      if (rtt !== undefined) side.rttMs = rtt;
      side.remoteFractionLost = r.fractionLost;
    }
  }

  /** Every 20 ms: the player's next frame to whoever hears it; silence to the caller when nothing else reaches it. */
  #tick(_frameAt: number): void {
    if (this.#closed) return;
    const now = nowMs();
    const frame = this.#nextPlayerFrame();
    if (frame) {
      const targets = this.#fanout.get(PLAYER);
      if (targets) {
        const h = this.#playerSource.header();
        for (const { sink, slot } of targets) {
          const to = this.#sinkSide(sink);
          if (to) this.#sendTo(to, slot, this.#playerSource, h, frame, now, PLAYER);
        }
      }
    }
    const out = this.#wa.outs[0];
    if (!out || this.#wa.leg.state !== 'connected') return;
    if (!this.#silenceAllowed()) return;
    if (now - out.stream.lastSentAt >= CALLER_QUIET_MS || out.stream.packets === 0) {
      this.#sendTo(this.#wa, 0, this.#silence, this.#silence.header(), OPUS_SILENCE, now, 'silence');
    }
  }

  #nextPlayerFrame(): Buffer | null {
    const p = this.#playing;
    if (!p) return null;
    for (let guard = 0; guard <= p.clips.length; guard++) {
      if (!p.current) {
        const clip = p.clips[p.index];
        if (!clip) break;
        try {
          p.current = clip.open();
        } catch (err) {
          this.#log.warn({ clip: clip.name, err: String(err) }, 'a clip could not be opened; skipped');
          p.index++;
          continue;
        }
      }
      const frame = p.current.next();
      if (frame) return frame;
      p.current.close?.();
      p.current = undefined;
      p.index++;
      if (p.index >= p.clips.length && p.loop) p.index = 0;
    }
    // Every clip played (or none could be opened); what follows starts in this same 20 ms slot.
    this.#playing = p.thenLoop
      ? { playId: `${p.playId}.then`, clips: p.thenLoop, loop: true, thenLoop: undefined, index: 0, current: undefined }
      : undefined;
    this.safeEmit('play-ended', { playId: p.playId });
    return this.#playing ? this.#nextPlayerFrame() : null;
  }

  #stopPlaying(): void {
    this.#playing?.current?.close?.();
    this.#playing = undefined;
  }

  #sendRtcp(): void {
    if (this.#closed) return;
    const now = nowMs();
    for (const side of [this.#wa, ...this.#legs.values()]) {
      if (side.leg.state !== 'connected') continue;
      const first = side.outs[0];
      const inbound = side.inbound.received > 0 ? side.inbound : undefined;
      for (const out of side.outs) {
        if (out.stream.packets > 0)
          side.leg.send(out.index, buildSenderReport(out.stream, out === first ? inbound : undefined, now));
      }
      if (inbound && (!first || first.stream.packets === 0)) {
        side.leg.send(side.inIndex, buildReceiverReport(first?.stream.ssrc ?? 1, inbound, now));
      }
    }
  }

  #statsOf(side: Side): LegStats {
    if (side.leg.closed) return { ...EMPTY_LEG_STATS };
    const inb = side.inbound;
    const rttMs = side.rttMs ?? side.leg.rttMs();
    const jitterMs = inb.jitter / 48;
    const fractionLost = inb.expected > 0 ? inb.lost / inb.expected : 0;
    return {
      rttMs,
      jitterMs,
      packetsLost: inb.lost,
      packetsReceived: inb.received,
      packetsSent: side.outs.reduce((n, o) => n + o.stream.packets, 0),
      fractionLost,
      bytesSent: side.outs.reduce((n, o) => n + o.stream.octets + 12 * o.stream.packets, 0),
      bytesReceived: inb.bytes,
      mos: inb.received > 0 ? estimateMos({ rttMs: rttMs ?? 0, jitterMs, lossPct: fractionLost * 100 }) : null,
      candidatePair: side.leg.candidatePair(),
    };
  }

  #onWaState(state: LegState): void {
    if (this.#closed) return;
    if (state === 'connected') this.safeEmit('wa-connected');
    else if (state === 'disconnected') this.safeEmit('wa-disconnected');
    else if (state === 'failed')
      this.safeEmit('failed', { leg: 'whatsapp', reason: 'ICE or DTLS failed on the WhatsApp leg' });
  }

  #onLegState(side: Side, state: LegState): void {
    if (this.#closed || this.#legs.get(side.id) !== side) return;
    const legId = side.id;
    const isAgent = legId === this.#o.agentLegId;
    if (state === 'connected') {
      if (isAgent) this.safeEmit('agent-connected');
      this.safeEmit('leg-connected', { legId });
    } else if (state === 'disconnected') {
      if (isAgent) this.safeEmit('agent-disconnected', { reason: 'disconnected' });
      this.safeEmit('leg-down', { legId, reason: 'disconnected' });
    } else if (state === 'failed') {
      this.#legs.delete(legId);
      side.leg.close();
      this.#rebuildFanout();
      if (isAgent) {
        this.safeEmit('failed', { leg: 'agent', reason: 'ICE or DTLS failed on the agent leg' });
        this.safeEmit('agent-disconnected', { reason: 'failed' });
      }
      this.safeEmit('leg-down', { legId, reason: 'failed' });
    }
  }
}

function randomSsrc(): number {
  return randomInt(1, 0xffffffff);
}

interface Resolved extends ResolvedCallOptions {
  legOptions: CallLegOptions & { bindAddress?: string };
}

function resolve(opts: CallMediaOptions): Resolved {
  const common = resolveCallOptions(opts, 'ForwardCall.create');
  const bindAddress = bindAddressFor(common.networks);
  return { ...common, legOptions: { ...common.legOptions, ...(bindAddress ? { bindAddress } : {}) } };
}

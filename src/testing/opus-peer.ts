/**
 * A load-rig peer that never decodes: a node-datachannel peer connection (libjuice ICE, DTLS-SRTP in native code)
 * that sends numbered, pre-encoded Opus packets on a drift-free 20 ms clock and checks what arrives byte for byte
 * (see numbered-opus.ts). One process of these can drive a hundred calls or more against a media process on the
 * other core, where wrtc peers (decode, analyse) manage a dozen.
 *
 * Shapes:
 * - `caller`: offers like WhatsApp: session `a=ice-lite`, `a=group:BUNDLE audio`, one `m=audio` with Opus 111 and
 *   telephone-event/8000 126, `a=setup:actpass`, a complete offer (its candidate a gate: offer-gate.ts). It fits the
 *   simulator's `SimCaller`. Like the wrtc caller it is really a full ICE agent (libjuice has no lite mode), so
 *   against a bridge the two agents settle the role conflict by RFC 8445's rule.
 * - `agent`: offers like the console's browser (`mid 0`, Opus 111, trickle): fits `TestAgent`'s peer (offerSdp,
 *   trickle, applyAnswer, addCandidate) and the media node's `leg.offer`.
 * - {@link OpusRigPeer.answer}: answers another rig peer's offer directly (the no-bridge baseline).
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { buildRtp } from '../media/engines/forward/rtp.js';
import { keyPressPackets } from '../media/opus/telephone-event.js';
import { DriftFreeTicker } from '../media/opus/ticker.js';
import { normalizeSdp } from '../media/sdp/lines.js';
import { validateWhatsAppAnswer } from '../media/sdp/validate.js';
import { LOOPBACK_NETWORKS, NetworkFilter } from '../rtc/cidr.js';
import type { IceCandidateMessage } from '../rtc/engine.js';
import { OfferGate } from '../sim/offer-gate.js';
import { epochMs, type NumberedReceiver, type NumberedReport, NumberedSender } from './numbered-opus.js';
import { RigInbox } from './rig-inbox.js';

type PeerConnection = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Track = ReturnType<PeerConnection['addTrack']>;

export type RigShape = 'caller' | 'agent';

export interface OpusRigPeerOptions {
  /** One-frame Opus packets to cycle through (e.g. encodeToneFrames(440)). */
  frames: readonly Buffer[];
  /** Identifies this peer's stream in the markers. @default random */
  stream?: number;
  /** Start sending at once (true) or only after {@link startSending}. @default true */
  send?: boolean;
  /**
   * A caller's offer says `a=ice-lite` like WhatsApp's. The peer is a full ICE agent all the same (libjuice has no
   * lite mode), so both sides then start as controlling and settle it by RFC 8445's role-conflict rule. @default true
   */
  iceLite?: boolean;
  /** @default 111 */
  opusPt?: number;
  /** @default 126 */
  dtmfPt?: number;
  /** Local address to bind. @default 127.0.0.1 */
  bindAddress?: string;
  /** Longest wait for ICE gathering of a complete offer or answer. @default 3000 */
  gatherTimeoutMs?: number;
  /** The shared 20 ms clock. @default DriftFreeTicker.shared */
  ticker?: DriftFreeTicker;
  name?: string;
}

let loggerSet = false;

/** One rig peer; see the file comment. `close()` is idempotent and stops its timer subscription. */
export class OpusRigPeer {
  readonly sender: NumberedSender;
  /** What this peer received: numbered streams, clips, digits, counters. */
  readonly inbox: RigInbox;
  readonly shape: RigShape | 'answer';
  readonly #pc: PeerConnection;
  readonly #track: Track;
  readonly #ssrc = randomInt(1, 0xffff_ffff);
  readonly #opusPt: number;
  readonly #iceLite: boolean;
  readonly #dtmfPt: number;
  readonly #ticker: DriftFreeTicker;
  readonly #networks = new NetworkFilter(LOOPBACK_NETWORKS);
  readonly #pendingEvents: { payload: Buffer; marker: boolean; timestamp: number; dueAt: number }[] = [];
  /** An offerer's advertised address (see offer-gate.ts). */
  #gate: OfferGate | undefined;
  readonly #bindAddress: string;
  #offerSdp = '';
  #state = 'new';
  /** Every state the connection went through (for a clear error when it does not connect). */
  readonly #states: string[] = [];
  #seq = randomInt(0, 0x8000);
  #timestamp = randomInt(0, 0x7fff_ffff);
  #stopTicker: (() => void) | undefined;
  #sink: ((c: IceCandidateMessage) => void) | undefined;
  #held: IceCandidateMessage[] = [];
  #closed = false;
  #remoteSet = false;
  #answer: string | undefined;
  #queued: IceCandidateMessage[] = [];
  #acceptedAt: number | null = null;
  /** A peer that offers in `shape` (see the file comment). */
  static async offer(shape: RigShape, opts: OpusRigPeerOptions): Promise<OpusRigPeer> {
    const peer = new OpusRigPeer(shape, opts, shape === 'caller' ? 'audio' : '0');
    try {
      await peer.#makeOffer(opts.gatherTimeoutMs ?? 3000);
      return peer;
    } catch (err) {
      peer.close();
      throw err;
    }
  }

  /** A peer that answers `offerSdp` (complete answer); resolves with the peer and its answer. */
  static async answer(offerSdp: string, opts: OpusRigPeerOptions): Promise<{ peer: OpusRigPeer; answerSdp: string }> {
    const mid = /a=mid:(\S+)/.exec(offerSdp)?.[1] ?? '0';
    const peer = new OpusRigPeer('answer', opts, mid);
    try {
      const gathered = peer.#gathered(opts.gatherTimeoutMs ?? 3000);
      peer.#pc.setRemoteDescription(offerSdp, 'offer');
      peer.#remoteSet = true;
      peer.#pc.setLocalDescription('answer');
      await gathered;
      const sdp = peer.#pc.localDescription()?.sdp;
      if (!sdp) throw new Error('no local answer after gathering');
      return { peer, answerSdp: sdp };
    } catch (err) {
      peer.close();
      throw err;
    }
  }

  private constructor(shape: RigShape | 'answer', opts: OpusRigPeerOptions, mid: string) {
    if (!loggerSet) {
      loggerSet = true;
      nodeDataChannel.initLogger('Fatal', () => {});
    }
    this.shape = shape;
    this.#bindAddress = opts.bindAddress ?? '127.0.0.1';
    this.#iceLite = opts.iceLite ?? true;
    this.#opusPt = opts.opusPt ?? 111;
    this.#dtmfPt = opts.dtmfPt ?? 126;
    this.inbox = new RigInbox(this.#dtmfPt);
    this.#ticker = opts.ticker ?? DriftFreeTicker.shared;
    this.sender = new NumberedSender(opts.stream ?? randomInt(1, 0xffff_ffff), opts.frames);
    this.#pc = new nodeDataChannel.PeerConnection(opts.name ?? `rig-${shape}`, {
      iceServers: [],
      disableAutoNegotiation: true,
      bindAddress: this.#bindAddress,
    });
    this.#pc.onStateChange((s) => {
      this.#state = s;
      this.#states.push(s);
    });
    this.#pc.onLocalCandidate((candidate, sdpMid) => {
      const c = { candidate, sdpMid, sdpMLineIndex: 0 };
      if (this.#sink) this.#sink(this.#gated(c));
      else this.#held.push(c);
    });
    const audio = new nodeDataChannel.Audio(mid, 'SendRecv');
    audio.addOpusCodec(this.#opusPt, 'minptime=10;useinbandfec=1');
    audio.addAudioCodec(this.#dtmfPt, 'telephone-event/8000');
    if (shape === 'caller') audio.addSSRC(this.#ssrc, 'WhatsAppAudioStream1', 'WhatsAppStream', 'WhatsAppTrack1');
    else audio.addSSRC(this.#ssrc, `rig-${this.sender.stream}`, 'rig', `rig-track-${this.sender.stream}`);
    this.#track = this.#pc.addTrack(audio);
    this.#track.onMessage((msg) => {
      if (!this.#closed) this.inbox.take(msg);
    });
    if (opts.send ?? true) this.startSending();
  }

  /** The offer to give the far side (complete, loopback candidates only; `a=ice-lite` for a caller). */
  get offerSdp(): string {
    return this.#offerSdp;
  }

  /** Peer connection state as libdatachannel reports it (`connected` = ICE and DTLS up). */
  get state(): string {
    return this.#closed ? 'closed' : this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get acceptedAt(): number | null {
    return this.#acceptedAt;
  }

  /** Sends local candidates (trickled after a complete offer they are duplicates, which ICE ignores). */
  trickle(sink: (c: IceCandidateMessage) => void): void {
    this.#sink = sink;
    for (const c of this.#held.splice(0)) sink(this.#gated(c));
  }

  #gated(c: IceCandidateMessage): IceCandidateMessage {
    return this.#gate ? { ...c, candidate: this.#gate.candidate(c.candidate, this.#bindAddress) } : c;
  }

  /**
   * Applies the far side's answer. A caller checks it like WhatsApp does (validateWhatsAppAnswer) and takes the
   * same answer twice (pre_accept, then accept) as one; a different second answer is refused.
   */
  async applyAnswer(sdp: string): Promise<void> {
    if (this.#closed) throw new Error('the rig peer is closed');
    if (this.shape === 'caller') {
      if (this.#answer !== undefined) {
        if (normalizeSdp(sdp) === this.#answer) return;
        throw new Error('the answer differs from the one applied before (accept must match pre_accept)');
      }
      const check = validateWhatsAppAnswer(sdp);
      if (!check.ok) throw new Error(`WhatsApp would refuse this answer: ${check.errors.join('; ')}`);
      this.#answer = normalizeSdp(sdp);
    }
    this.#pc.setRemoteDescription(sdp, 'answer');
    this.#remoteSet = true;
    for (const c of this.#queued.splice(0)) await this.addCandidate(c);
  }

  async addCandidate(c: IceCandidateMessage): Promise<boolean> {
    if (this.#closed) return false;
    const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
    const address = line.split(' ')[4];
    if (!address || !this.#networks.allows(address)) return false;
    if (!this.#remoteSet) {
      // libdatachannel refuses candidates before the remote description (and then the description itself).
      this.#queued.push(c);
      return true;
    }
    try {
      this.#pc.addRemoteCandidate(line, c.sdpMid ?? '0');
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves when ICE and DTLS are up and the track is open. */
  async waitConnected(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.#state === 'connected' && this.#track.isOpen())) {
      const states = this.#states.join(' → ') || 'new';
      if (this.#closed) throw new Error(`the ${this.shape} rig peer was closed before connecting (${states})`);
      if (this.#state === 'failed') throw new Error(`the ${this.shape} rig peer's connection failed (${states})`);
      if (Date.now() > deadline) {
        const open = this.#track.isOpen();
        throw new Error(
          `the ${this.shape} rig peer did not connect within ${timeoutMs} ms (${states}; track open: ${open})`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Starts sending a numbered packet every 20 ms (packets before the track opens are counted as sent and lost). */
  startSending(): void {
    if (this.#stopTicker || this.#closed) return;
    this.#stopTicker = this.#ticker.subscribe(() => this.#sendFrame());
  }

  stopSending(): void {
    this.#stopTicker?.();
    this.#stopTicker = undefined;
  }

  /**
   * Presses keys as RFC 4733 telephone-events in the audio stream (marker, one timestamp per key, growing duration,
   * three end packets), 100 ms per key and 100 ms apart. Resolves when the last key's packets are queued.
   */
  async sendDtmf(digits: string, opts: { durationMs?: number; gapMs?: number } = {}): Promise<void> {
    const duration = opts.durationMs ?? 100;
    const gap = opts.gapMs ?? 100;
    const start = epochMs();
    let at = start;
    for (const d of digits) {
      // Each key's timestamp is the audio clock at its start, so every key press has its own.
      const timestamp = (this.#timestamp + Math.round((at - start) * 48)) >>> 0;
      for (const p of keyPressPackets(d, { timestamp, durationMs: duration })) {
        this.#pendingEvents.push({ ...p, dueAt: at + p.offsetMs });
      }
      at += duration + gap;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, at - epochMs())));
  }

  /** Counts and checks the numbered packets of `sender` from now on (see {@link RigInbox.expect}). */
  expect(sender: NumberedSender): NumberedReceiver {
    return this.inbox.expect(sender);
  }

  /** What arrived from `sender` over a window (see NumberedReceiver.report). */
  report(sender: NumberedSender, window: { since: number; until: number; settleMs?: number }): NumberedReport {
    return this.expect(sender).report(window);
  }

  // SimCaller
  markAccepted(at: number = epochMs()): void {
    this.#acceptedAt ??= at;
  }

  /** Packets (silence included) arrived in the last 2 s: what WhatsApp's no-media watchdog looks at. */
  receivingAudio(): boolean {
    return this.inbox.receivingAudio();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopSending();
    this.#gate?.close();
    try {
      this.#track.close();
    } catch {
      // already closed
    }
    try {
      this.#pc.close();
    } catch {
      // already closed
    }
  }

  async #makeOffer(gatherTimeoutMs: number): Promise<void> {
    const gathered = this.#gathered(gatherTimeoutMs);
    this.#pc.setLocalDescription('offer');
    this.#gate = await OfferGate.open(this.#bindAddress);
    await gathered;
    const sdp = this.#pc.localDescription()?.sdp;
    if (!sdp) throw new Error('no local offer after gathering');
    this.#offerSdp = this.#gate.shape(this.shape === 'caller' ? likeMeta(sdp, this.#iceLite) : sdp, this.#bindAddress);
  }

  #gathered(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#pc.onGatheringStateChange((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  #sendFrame(): void {
    if (this.#closed) return;
    const now = epochMs();
    const payload = this.sender.next(now);
    this.#timestamp = (this.#timestamp + 960) >>> 0;
    if (!this.#track.isOpen()) return;
    this.#send(false, this.#opusPt, this.#timestamp, payload);
    while (this.#pendingEvents.length > 0 && (this.#pendingEvents[0] as { dueAt: number }).dueAt <= now + 10) {
      const e = this.#pendingEvents.shift() as { payload: Buffer; marker: boolean; timestamp: number };
      this.#send(e.marker, this.#dtmfPt, e.timestamp, e.payload);
    }
  }

  #send(marker: boolean, payloadType: number, timestamp: number, payload: Buffer): void {
    const sequence = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    try {
      this.#track.sendMessageBinary(buildRtp({ marker, payloadType, sequence, timestamp, ssrc: this.#ssrc }, payload));
    } catch {
      // The track closed between the check and the send.
    }
  }
}

/** node-datachannel's offer shaped like WhatsApp's: session-level `a=ice-lite`, loopback candidates only. */
function likeMeta(sdp: string, iceLite: boolean): string {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const out: string[] = [];
  let inserted = false;
  for (const l of lines) {
    if (!inserted && l.startsWith('m=')) {
      if (iceLite) out.push('a=ice-lite');
      inserted = true;
    }
    if (l === 'a=ice-options:trickle' || l.startsWith('a=ice-options:')) continue;
    out.push(l);
  }
  return `${out.join('\r\n')}\r\n`;
}

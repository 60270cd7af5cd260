import nodeDataChannel from 'node-datachannel';
import sdpTransform from 'sdp-transform';
import { type CallLegOptions, type ResolvedCallOptions, resolveCallOptions } from '../../../rtc/call-options.js';
import type { NetworkFilter } from '../../../rtc/cidr.js';
import { TypedEmitter } from '../../../rtc/emitter.js';
import type { CallMediaOptions, IceCandidateMessage, LegState } from '../../../rtc/engine.js';
import { bindAddressFor } from '../../../rtc/interfaces.js';
import type { MediaLogger } from '../../../rtc/log.js';
import { gatheringComplete } from '../../../rtc/ndc-gathering.js';
import type { WrtcIceServer } from '../../../rtc/wrtc.js';
import { MediaError } from '../../errors.js';
import { normalizeSdp } from '../../sdp/lines.js';
import { filterSdpCandidates, withoutCandidates } from '../../sdp/rewrite.js';
import { CandidateGate } from '../candidate-gate.js';
import { usableOffer } from '../sdp-checks.js';
import { isRtcp } from './rtp.js';

type Ndc = typeof nodeDataChannel;
type PeerConnection = InstanceType<Ndc['PeerConnection']>;
type Track = ReturnType<PeerConnection['addTrack']>;

export interface ForwardLegOptions {
  /** For logs: `caller` or a browser leg id. */
  id: string;
  iceServers: WrtcIceServer[];
  portRange?: { min: number; max: number };
  /** The one local address to bind (inside allowedNetworks). @default every interface */
  bindAddress?: string;
  networks: NetworkFilter;
  announcedIp?: string;
  logger: MediaLogger;
}

/** A forwarding call's options, checked: its legs bind the one local address inside the allowed networks. */
export interface ResolvedForwardOptions extends ResolvedCallOptions {
  legOptions: CallLegOptions & { bindAddress?: string };
}

export function resolveForwardOptions(opts: CallMediaOptions): ResolvedForwardOptions {
  const common = resolveCallOptions(opts, 'ForwardCall.create');
  const bindAddress = bindAddressFor(common.networks);
  return { ...common, legOptions: { ...common.legOptions, ...(bindAddress ? { bindAddress } : {}) } };
}

/** What the offer negotiated on one audio m-line. */
export interface NegotiatedAudio {
  mid: string;
  opusPt: number;
  /** telephone-event/8000 payload type, when offered. */
  dtmfPt: number | undefined;
  /** Whether we send on it (the remote receives). */
  send: boolean;
  /** Whether we receive on it. */
  receive: boolean;
}

type ForwardLegEvents = {
  state: [LegState];
  candidate: [IceCandidateMessage];
  /** A decrypted RTP packet received on audio m-line `index`. */
  rtp: [Buffer, number];
  /** A decrypted RTCP packet. */
  rtcp: [Buffer, number];
};

/** Where libdatachannel's own log lines go (errors only): the first leg's logger. */
let libraryLog: MediaLogger | undefined;

/** STUN/TURN URLs in the form libdatachannel takes (`stun:host:port`, `turn:user:pass@host:port`). */
function ndcIceServers(servers: WrtcIceServer[]): string[] {
  const out: string[] = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      if (url.startsWith('turn') && s.username) {
        const [scheme, rest] = [url.slice(0, url.indexOf(':')), url.slice(url.indexOf(':') + 1)];
        out.push(`${scheme}:${encodeURIComponent(s.username)}:${encodeURIComponent(s.credential ?? '')}@${rest}`);
      } else out.push(url);
    }
  }
  return out;
}

/**
 * One peer connection of a forwarding call (node-datachannel: libjuice ICE, DTLS and SRTP in native code). It
 * answers an offer with an answer built explicitly (Opus and telephone-event on the offer's payload types, our own
 * SSRC, no copied extmap or msid: libwebrtc drops packets of an answer that copies them) and hands every decrypted
 * packet to JS. Closes idempotently.
 */
export class ForwardLeg extends TypedEmitter<ForwardLegEvents> {
  readonly id: string;
  readonly #pc: PeerConnection;
  readonly #o: ForwardLegOptions;
  readonly #tracks: Track[] = [];
  #audio: NegotiatedAudio[] = [];
  #state: LegState = 'new';
  #closed = false;
  readonly #candidates: CandidateGate;

  constructor(opts: ForwardLegOptions) {
    super((event, err) => opts.logger.error({ err, event, leg: opts.id }, 'forward leg listener threw'));
    this.id = opts.id;
    this.#o = opts;
    this.#candidates = new CandidateGate(opts.networks, opts.announcedIp, (c) => {
      if (!this.#closed) this.safeEmit('candidate', c);
    });
    if (!libraryLog) {
      // libdatachannel logs to stdout by default; keep it to errors, through our logger.
      libraryLog = opts.logger;
      nodeDataChannel.initLogger('Error', (level, message) => libraryLog?.warn({ level, message }, 'libdatachannel'));
    }
    try {
      this.#pc = new nodeDataChannel.PeerConnection(opts.id, {
        iceServers: ndcIceServers(opts.iceServers),
        disableAutoNegotiation: true,
        ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}),
        ...(opts.portRange ? { portRangeBegin: opts.portRange.min, portRangeEnd: opts.portRange.max } : {}),
      });
    } catch (err) {
      throw new MediaError('webrtc-failed', `could not create a peer connection: ${String(err)}`, { cause: err });
    }
    this.#pc.onStateChange((s) => this.#guard(() => this.#onState(s)));
  }

  get state(): LegState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The audio m-lines as negotiated by the last answer. */
  get audio(): readonly NegotiatedAudio[] {
    return this.#audio;
  }

  /**
   * Applies `offerSdp` (already validated by the caller) and returns our answer, with our SSRC `ssrcs[i]` on the
   * i-th audio m-line we send on. A complete answer waits for gathering (bounded) and carries the candidates; a
   * trickle answer returns at once and emits 'candidate' events.
   */
  async answer(
    offerSdp: string,
    opts: { complete: boolean; gatherTimeoutMs: number; ssrcs: number[] },
  ): Promise<string> {
    this.#assertOpen();
    const offer = usableOffer(offerSdp, this.id, this.#o.networks);
    const audio = negotiate(offer);
    if (audio.length === 0) throw new MediaError('sdp-invalid', `the ${this.id} offer has no audio section with Opus`);
    this.#audio = audio;
    if (!opts.complete) {
      this.#pc.onLocalCandidate((candidate, mid) => this.#guard(() => this.#candidates.local(candidate, mid, 0)));
    }
    const gathered = gatheringComplete(this.#pc, opts.gatherTimeoutMs);
    try {
      this.#pc.setRemoteDescription(offer, 'offer');
      let sendIndex = 0;
      for (const [index, a] of audio.entries()) {
        const dir = a.send && a.receive ? 'SendRecv' : a.send ? 'SendOnly' : a.receive ? 'RecvOnly' : 'Inactive';
        const media = new nodeDataChannel.Audio(a.mid, dir);
        media.addOpusCodec(a.opusPt, 'minptime=10;useinbandfec=1');
        if (a.dtmfPt !== undefined) media.addAudioCodec(a.dtmfPt, 'telephone-event/8000');
        if (a.send) {
          const ssrc = opts.ssrcs[sendIndex++] ?? opts.ssrcs[0]!;
          media.addSSRC(ssrc, 'bridge', 'bridge', `bridge-${a.mid}`);
        }
        const track = this.#pc.addTrack(media);
        track.onMessage((msg) => {
          if (this.#closed) return;
          const buf = msg as Buffer;
          this.safeEmit(isRtcp(buf) ? 'rtcp' : 'rtp', buf, index);
        });
        this.#tracks.push(track);
      }
      this.#pc.setLocalDescription('answer');
    } catch (err) {
      throw new MediaError('sdp-invalid', `could not answer the ${this.id} offer: ${String(err)}`, { cause: err });
    }
    this.#addQueuedRemote();
    if (opts.complete) await gathered;
    this.#assertOpen();
    const local = this.#pc.localDescription()?.sdp;
    if (!local) throw new MediaError('webrtc-failed', `no local description on the ${this.id} leg`);
    // Candidates of a trickle answer go out as events.
    return opts.complete ? local : withoutCandidates(local);
  }

  /**
   * Makes a complete offer with one sendrecv audio m-line (`mid` audio): Opus on 111 and telephone-event/8000 on 126,
   * our SSRC, ICE gathering awaited (bounded). The answer comes through {@link applyAnswer}.
   */
  async offer(opts: { gatherTimeoutMs: number; ssrc: number }): Promise<string> {
    this.#assertOpen();
    this.#audio = [{ mid: 'audio', opusPt: 111, dtmfPt: 126, send: true, receive: true }];
    const gathered = gatheringComplete(this.#pc, opts.gatherTimeoutMs);
    try {
      const media = new nodeDataChannel.Audio('audio', 'SendRecv');
      media.addOpusCodec(111, 'minptime=10;useinbandfec=1');
      media.addAudioCodec(126, 'telephone-event/8000');
      media.addSSRC(opts.ssrc, 'bridge', 'bridge', 'bridge-audio');
      const track = this.#pc.addTrack(media);
      track.onMessage((msg) => {
        if (this.#closed) return;
        const buf = msg as Buffer;
        this.safeEmit(isRtcp(buf) ? 'rtcp' : 'rtp', buf, 0);
      });
      this.#tracks.push(track);
      this.#pc.setLocalDescription('offer');
    } catch (err) {
      throw new MediaError('webrtc-failed', `could not make the ${this.id} offer: ${String(err)}`, { cause: err });
    }
    await gathered;
    this.#assertOpen();
    const local = this.#pc.localDescription()?.sdp;
    if (!local) throw new MediaError('webrtc-failed', `no local description on the ${this.id} leg`);
    return local;
  }

  /** Applies the remote answer to {@link offer}. Throws {@link MediaError} `sdp-invalid`. */
  applyAnswer(answerSdp: string): void {
    this.#assertOpen();
    const answer = filterSdpCandidates(normalizeSdp(answerSdp), { allowedNetworks: this.#o.networks });
    try {
      this.#pc.setRemoteDescription(answer, 'answer');
    } catch (err) {
      throw new MediaError('sdp-invalid', `could not apply the ${this.id} answer: ${String(err)}`, { cause: err });
    }
    this.#addQueuedRemote();
  }

  /**
   * Emits the local candidates held back so far, then every new one as it is gathered: held until the answer has
   * been handed out, so that no candidate reaches the browser before the answer does.
   */
  releaseCandidates(): void {
    this.#candidates.release();
  }

  /** Sends one RTP or RTCP packet on audio m-line `index`; false when the track is not open. */
  send(index: number, packet: Buffer): boolean {
    const track = this.#tracks[index];
    if (this.#closed || !track || !track.isOpen()) return false;
    try {
      return track.sendMessageBinary(packet);
    } catch {
      return false;
    }
  }

  /** Adds a trickled remote candidate. Never throws: garbage and candidates outside the networks give false. */
  addRemoteCandidate(input: unknown): boolean {
    if (this.#closed) return false;
    const c = this.#candidates.remote(input);
    if (typeof c === 'boolean') return c;
    try {
      const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
      this.#pc.addRemoteCandidate(line, c.sdpMid ?? this.#audio[0]?.mid ?? '0');
      return true;
    } catch (err) {
      this.#o.logger.debug({ leg: this.id, err: String(err) }, 'a remote candidate was refused');
      return false;
    }
  }

  /** ICE round-trip time (ms), when known. */
  rttMs(): number | null {
    if (this.#closed) return null;
    try {
      const rtt = this.#pc.rtt();
      return rtt >= 0 ? rtt : null;
    } catch {
      return null;
    }
  }

  candidatePair(): { local: string; remote: string; localType: string; remoteType: string } | null {
    if (this.#closed) return null;
    try {
      const p = this.#pc.getSelectedCandidatePair();
      if (!p) return null;
      return {
        local: `${p.local.address}:${p.local.port}`,
        remote: `${p.remote.address}:${p.remote.port}`,
        localType: p.local.type,
        remoteType: p.remote.type,
      };
    } catch {
      return null;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#tracks) {
      try {
        t.close();
      } catch {
        // already closed
      }
    }
    try {
      this.#pc.close();
    } catch (err) {
      this.#o.logger.warn({ leg: this.id, err: String(err) }, 'closing the peer connection threw');
    }
    this.#candidates.clear();
    this.#state = 'closed';
    this.safeEmit('state', 'closed');
    this.removeAllListeners();
  }

  #onState(s: string): void {
    if (this.#closed) return;
    const next = s as LegState;
    if (next === this.#state) return;
    this.#o.logger.debug({ leg: this.id, from: this.#state, to: next }, 'leg state');
    this.#state = next;
    this.safeEmit('state', next);
  }

  #addQueuedRemote(): void {
    for (const c of this.#candidates.remoteReady()) this.addRemoteCandidate(c);
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaError('media-closed', `the ${this.id} leg was closed`);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.logger.error({ err, leg: this.id }, 'forward leg callback threw');
    }
  }
}

/** The audio m-lines of an offer that carry Opus, with their payload types and directions (seen from us). */
function negotiate(offerSdp: string): NegotiatedAudio[] {
  const parsed = sdpTransform.parse(offerSdp);
  const out: NegotiatedAudio[] = [];
  for (const m of parsed.media) {
    if (m.type !== 'audio' || m.port === 0) continue;
    const opus = m.rtp.find((r) => r.codec.toLowerCase() === 'opus' && r.rate === 48000);
    if (!opus) continue;
    const dtmf = m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 8000);
    const dir = m.direction ?? parsed.direction ?? 'sendrecv';
    out.push({
      mid: m.mid !== undefined ? String(m.mid) : String(out.length),
      opusPt: opus.payload,
      dtmfPt: dtmf?.payload,
      send: dir === 'sendrecv' || dir === 'recvonly',
      receive: dir === 'sendrecv' || dir === 'sendonly',
    });
  }
  return out;
}

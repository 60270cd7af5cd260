/**
 * A test peer that does not decode: node-datachannel with one sendrecv Opus + telephone-event m-line (and optionally
 * a second recvonly one, like the console), sending numbered payloads on a 20 ms clock and keeping every RTP header
 * it receives, so tests can check at the far side what the switch did to each packet (SSRC, sequence numbers,
 * timestamps, payload type, payload bytes).
 */
import nodeDataChannel from 'node-datachannel';
import { parseRtp } from '../media/engines/forward/rtp.js';
import type { IceCandidateMessage } from '../rtc/engine.js';
import { gatheringComplete } from '../rtc/ndc-gathering.js';
import { OfferGate } from '../sim/offer-gate.js';

type PeerConnection = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Track = ReturnType<PeerConnection['addTrack']>;

export interface ReceivedPacket {
  track: number;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
  /** performance.now() at arrival. */
  at: number;
  /** Had a header extension (the switch must strip them). */
  extension: boolean;
}

export interface RawPeerOptions {
  /** Add a recvonly audio m-line (a console offers sendrecv + recvonly). @default false */
  secondTrack?: boolean;
  /** Add `a=ice-lite` to the offer like Meta. @default false */
  iceLite?: boolean;
  /** mid of the first m-line. @default 'audio' (Meta's) */
  mid?: string;
}

export class RawRtpPeer {
  readonly offerSdp: string;
  readonly received: ReceivedPacket[] = [];
  readonly rtcp: Buffer[] = [];
  readonly #pc: PeerConnection;
  readonly #tracks: Track[];
  readonly #gate: OfferGate;
  /** The SSRC we send with (declared in the offer). */
  readonly ssrc: number;
  #seq = Math.floor(Math.random() * 0x8000);
  #ts = Math.floor(Math.random() * 0x7fff_ffff);
  #state = 'new';
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #answered = false;
  #early: IceCandidateMessage[] = [];

  private constructor(pc: PeerConnection, tracks: Track[], gate: OfferGate, offerSdp: string, ssrc: number) {
    this.#pc = pc;
    this.#gate = gate;
    this.ssrc = ssrc;
    this.#tracks = tracks;
    this.offerSdp = offerSdp;
    pc.onStateChange((s) => {
      this.#state = s;
    });
    for (const [index, track] of tracks.entries()) {
      track.onMessage((msg) => {
        const buf = msg as Buffer;
        const b1 = buf[1] ?? 0;
        if (b1 >= 192 && b1 <= 223) {
          this.rtcp.push(buf);
          return;
        }
        const h = parseRtp(buf);
        if (!h) return;
        this.received.push({
          track: index,
          payloadType: h.payloadType,
          sequence: h.sequence,
          timestamp: h.timestamp,
          ssrc: h.ssrc,
          marker: h.marker,
          payload: Buffer.from(buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)),
          at: performance.now(),
          extension: (buf[0]! & 0x10) !== 0,
        });
      });
    }
  }

  static async create(opts: RawPeerOptions = {}): Promise<RawRtpPeer> {
    const pc = new nodeDataChannel.PeerConnection('raw', {
      iceServers: [],
      bindAddress: '127.0.0.1',
      disableAutoNegotiation: true,
    });
    const tracks: Track[] = [];
    const first = new nodeDataChannel.Audio(opts.mid ?? 'audio', 'SendRecv');
    first.addOpusCodec(111, 'minptime=10;useinbandfec=1');
    first.addAudioCodec(126, 'telephone-event/8000');
    const ssrc = 0x2000_0000 + Math.floor(Math.random() * 0x0fff_ffff);
    first.addSSRC(ssrc, 'raw', 'raw', 'raw-audio');
    tracks.push(pc.addTrack(first));
    if (opts.secondTrack) {
      const second = new nodeDataChannel.Audio('listen', 'RecvOnly');
      second.addOpusCodec(111, 'minptime=10;useinbandfec=1');
      tracks.push(pc.addTrack(second));
    }
    const gathered = gatheringComplete(pc, 3000);
    pc.setLocalDescription('offer');
    // The offer's address answers nothing until the answer is applied (see offer-gate.ts).
    const gate = await OfferGate.open();
    await gathered;
    let sdp = gate.shape(pc.localDescription()?.sdp ?? '');
    if (opts.iceLite) sdp = sdp.replace(/\r\nt=0 0\r\n/, '\r\nt=0 0\r\na=ice-lite\r\n');
    return new RawRtpPeer(pc, tracks, gate, sdp, ssrc);
  }

  get state(): string {
    return this.#state;
  }

  get sent(): number {
    return this.#sent;
  }

  applyAnswer(sdp: string): void {
    this.#pc.setRemoteDescription(sdp, 'answer');
    this.#answered = true;
    for (const c of this.#early.splice(0)) this.addCandidate(c);
  }

  /** Adds a trickled candidate; one that comes before the answer waits for it (as a browser's would). */
  addCandidate(c: IceCandidateMessage): void {
    if (!this.#answered) {
      this.#early.push(c);
      return;
    }
    const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
    this.#pc.addRemoteCandidate(line, c.sdpMid ?? 'audio');
  }

  async waitConnected(timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#state !== 'connected') {
      if (performance.now() > deadline)
        throw new Error(`raw peer not connected after ${timeoutMs} ms (${this.#state})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // The track opens with DTLS-SRTP, a moment after the connection.
    while (!this.#tracks[0]!.isOpen()) {
      if (performance.now() > deadline) throw new Error('raw peer track not open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends one RTP packet with our numbering; Opus advances the timestamp by 960. */
  sendRtp(payload: Buffer, opts: { payloadType?: number; marker?: boolean; timestamp?: number } = {}): void {
    const pt = opts.payloadType ?? 111;
    const out = Buffer.alloc(12 + payload.length);
    out[0] = 0x80;
    out[1] = (opts.marker ? 0x80 : 0) | pt;
    out.writeUInt16BE(this.#seq, 2);
    out.writeUInt32BE((opts.timestamp ?? this.#ts) >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    payload.copy(out, 12);
    this.#seq = (this.#seq + 1) & 0xffff;
    if (pt === 111) this.#ts = (this.#ts + 960) >>> 0;
    this.sendRaw(out);
  }

  /** The current RTP timestamp (what a telephone-event would carry). */
  get timestamp(): number {
    return this.#ts;
  }

  /** Sends bytes as they are (SRTP-protected by the library when they look like RTP/RTCP). */
  sendRaw(buf: Buffer): boolean {
    try {
      const ok = this.#tracks[0]!.sendMessageBinary(buf);
      if (ok) this.#sent++;
      return ok;
    } catch {
      return false;
    }
  }

  /** Sends `tag` + a 32-bit counter as the payload every 20 ms until stopped. */
  startNumbered(tag: string): void {
    this.stop();
    let n = 0;
    this.#timer = setInterval(() => {
      const p = Buffer.alloc(tag.length + 4);
      p.write(tag, 0, 'latin1');
      p.writeUInt32BE(n++, tag.length);
      this.sendRtp(p);
    }, 20);
  }

  /** Sends these Opus frames in a loop, one every 20 ms, until stopped. */
  startFrames(frames: readonly Buffer[]): void {
    this.stop();
    let n = 0;
    this.#timer = setInterval(() => this.sendRtp(frames[n++ % frames.length]!), 20);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.#gate.close();
    try {
      this.#pc.close();
    } catch {
      // closed
    }
  }
}

/** Payload tag of a numbered packet (the bytes before the counter), or undefined. */
export function tagOf(p: ReceivedPacket): string | undefined {
  if (p.payload.length < 5) return undefined;
  return p.payload.subarray(0, p.payload.length - 4).toString('latin1');
}

import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { buildRtp, OPUS_FRAME_TICKS } from '../media/engines/forward/rtp.js';
import { OPUS_SILENCE_FRAME } from '../media/opus/prompts.js';
import { keyPressPackets } from '../media/opus/telephone-event.js';
import { gatheringComplete } from '../rtc/ndc-gathering.js';
import { OfferGate } from './offer-gate.js';
import type { SimCaller } from './simulator.js';

const OPUS_PT = 111;
const DTMF_PT = 126;
const FRAME_MS = 20;

type PeerConnection = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Track = ReturnType<PeerConnection['addTrack']>;

/**
 * A simulated WhatsApp caller that presses keys the way WhatsApp does: RFC 4733 telephone-events (PT 126) on the
 * call's RTP stream, beside a steady stream of Opus silence frames (PT 111, 20 ms). A node-datachannel peer that
 * offers like Meta (Opus 111 + telephone-event/8000 126, complete loopback candidates). It does not analyse what
 * it hears; the wrtc caller (caller-peer.ts) does that but cannot send telephone-events.
 */
export class KeypadCaller implements SimCaller {
  readonly offerSdp: string;
  readonly #pc: PeerConnection;
  readonly #track: Track;
  readonly #gate: OfferGate;
  #seq = randomInt(0, 0xffff);
  #ts = randomInt(0, 2 ** 31);
  #clock: NodeJS.Timeout | undefined;
  /** Telephone-event packets waiting for their 20 ms slot (they replace the audio frame of that slot). */
  #pending: { payload: Buffer; marker: boolean; timestamp: number }[] = [];
  #closed = false;

  private constructor(pc: PeerConnection, track: Track, gate: OfferGate, offerSdp: string) {
    this.#pc = pc;
    this.#track = track;
    this.#gate = gate;
    this.offerSdp = offerSdp;
  }

  static async create(opts: { bindAddress?: string; gatherTimeoutMs?: number } = {}): Promise<KeypadCaller> {
    // A random port: libjuice otherwise takes the lowest free one, and a caller that just hung up leaves the same
    // address to a media leg that may still be closing (its DTLS would then reach the new caller).
    const port = randomInt(20_000, 60_000);
    const bindAddress = opts.bindAddress ?? '127.0.0.1';
    const pc = new nodeDataChannel.PeerConnection('keypad-caller', {
      iceServers: [],
      bindAddress,
      portRangeBegin: port,
      portRangeEnd: port + 100,
    });
    const audio = new nodeDataChannel.Audio('audio', 'SendRecv');
    audio.addOpusCodec(OPUS_PT, 'minptime=10;useinbandfec=1');
    audio.addAudioCodec(DTMF_PT, 'telephone-event/8000');
    const ssrc = randomInt(1, 2 ** 31);
    audio.addSSRC(ssrc, 'caller', 'caller', 'caller-audio');
    const track = pc.addTrack(audio);
    const gathered = gatheringComplete(pc, opts.gatherTimeoutMs ?? 5000);
    pc.setLocalDescription('offer');
    let sdp: string;
    let gate: OfferGate | undefined;
    try {
      gate = await OfferGate.open(bindAddress);
      await gathered;
      const local = pc.localDescription()?.sdp;
      if (!local) throw new Error('keypad caller: no offer');
      // Like Meta's offer: the business is the controlling ICE agent (without it both sides may claim that role).
      // Its candidate is a gate that answers nothing: the business reaches it once it has the answer (offer-gate.ts).
      sdp = gate.shape(local.replace(/\r\nm=audio/, '\r\na=ice-lite\r\nm=audio'), bindAddress);
    } catch (err) {
      gate?.close();
      pc.close();
      throw err;
    }
    const caller = new KeypadCaller(pc, track, gate, sdp);
    caller.#startClock(ssrc);
    return caller;
  }

  async applyAnswer(sdp: string): Promise<void> {
    if (this.#closed) return;
    this.#pc.setRemoteDescription(sdp, 'answer');
  }

  /** Presses keys one after another (100 ms each, 100 ms apart), as RFC 4733 events. */
  async sendDtmf(digits: string): Promise<void> {
    for (const digit of digits) {
      const timestamp = this.#ts;
      // Telephone-events use the 8 kHz clock of PT 126; the timestamp shares the stream's timeline start.
      for (const p of keyPressPackets(digit, { timestamp, packetMs: FRAME_MS, durationMs: 100 })) {
        this.#pending.push({ payload: p.payload, marker: p.marker, timestamp: p.timestamp });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  get connected(): boolean {
    return this.#track.isOpen();
  }

  #startClock(ssrc: number): void {
    this.#clock = setInterval(() => {
      if (this.#closed || !this.#track.isOpen()) return;
      const event = this.#pending.shift();
      const packet = event
        ? buildRtp(
            { marker: event.marker, payloadType: DTMF_PT, sequence: this.#seq++, timestamp: event.timestamp, ssrc },
            event.payload,
          )
        : buildRtp(
            { marker: false, payloadType: OPUS_PT, sequence: this.#seq++, timestamp: this.#ts, ssrc },
            OPUS_SILENCE_FRAME,
          );
      this.#ts = (this.#ts + OPUS_FRAME_TICKS) >>> 0;
      try {
        this.#track.sendMessageBinary(packet);
      } catch {
        // The track closed between the check and the send.
      }
    }, FRAME_MS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#clock);
    this.#gate.close();
    try {
      this.#track.close();
      this.#pc.close();
    } catch {
      // already closed
    }
  }
}

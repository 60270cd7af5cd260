import { isRtcp, parseRtp } from '../media/engines/forward/rtp.js';
import { TelephoneEventDeduper } from '../media/opus/telephone-event.js';
import { ClipReceiver, epochMs, NumberedReceiver, type NumberedSender, readMarker } from './numbered-opus.js';

/**
 * What a rig peer receives, sorted and counted without decoding: numbered packets go to the receiver of their
 * stream, unnumbered ones (silence, prompts, music) to the clip check, telephone-events become digits.
 */
export class RigInbox {
  readonly #dtmfPt: number;
  readonly #receivers = new Map<number, NumberedReceiver>();
  readonly #dtmf = new TelephoneEventDeduper();
  #clip: ClipReceiver | undefined;
  #lastPacketAt = 0;
  /** Packets received that carry no marker of a known sender: silence, prompts, music. */
  unnumbered = 0;
  /** Telephone-event packets received (a bridge must never forward them as audio). */
  eventPackets = 0;
  /** Numbered packets from streams no receiver was registered for. */
  unknownStreams = 0;
  rtcpReceived = 0;
  /** The keys the far side pressed, in order (RFC 4733, each press once). */
  readonly digits: string[] = [];

  constructor(dtmfPt: number) {
    this.#dtmfPt = dtmfPt;
  }

  /** Counts and checks the numbered packets of `sender` from now on. */
  expect(sender: NumberedSender): NumberedReceiver {
    let r = this.#receivers.get(sender.stream);
    if (!r) {
      r = new NumberedReceiver(sender);
      this.#receivers.set(sender.stream, r);
    }
    return r;
  }

  /** Checks that a looped clip (music) arrives frame by frame, in order. */
  expectClip(frames: readonly Buffer[]): ClipReceiver {
    this.#clip = new ClipReceiver(frames);
    return this.#clip;
  }

  /** The clip check set by {@link expectClip}, if any. */
  get clipReceiver(): ClipReceiver | undefined {
    return this.#clip;
  }

  /** Packets (silence included) arrived in the last 2 s: what WhatsApp's no-media watchdog looks at. */
  receivingAudio(): boolean {
    return this.#lastPacketAt > 0 && epochMs() - this.#lastPacketAt < 2000;
  }

  /** One RTP or RTCP packet as it came off the track. */
  take(msg: Buffer): void {
    if (isRtcp(msg)) {
      this.rtcpReceived++;
      return;
    }
    const h = parseRtp(msg);
    if (!h) return;
    const payload = msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
    const now = epochMs();
    this.#lastPacketAt = now;
    if (h.payloadType === this.#dtmfPt) {
      this.eventPackets++;
      for (const d of this.#dtmf.push(payload, h.timestamp)) this.digits.push(d.digit);
      return;
    }
    const marker = readMarker(payload);
    if (!marker) {
      this.unnumbered++;
      this.#clip?.take(payload);
      return;
    }
    const r = this.#receivers.get(marker.stream);
    if (r) r.take(payload, marker, now);
    else this.unknownStreams++;
  }
}

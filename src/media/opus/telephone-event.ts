/**
 * RFC 4733 telephone-events (DTMF keys sent as RTP packets, PT 126 for WhatsApp's `telephone-event/8000`): the 4-byte
 * payload, a de-duplicator that turns one key press (many packets sharing one RTP timestamp, the last three with the
 * end bit) into one digit, and an encoder that sends a key press the way WhatsApp and browsers do, for test peers.
 */

/** Event codes 0–15 in order (RFC 4733 §3.2). */
const EVENT_DIGITS = '0123456789*#ABCD';

export interface TelephoneEvent {
  /** Event code (0–255); 0–15 are DTMF keys. */
  event: number;
  /** The key, for events 0–15. */
  digit: string | undefined;
  /** E bit: the last packets of an event carry it (usually three times). */
  end: boolean;
  /** Power level in −dBm0 (0–63). */
  volume: number;
  /** Duration so far, in units of the payload type's clock (8000 Hz for WhatsApp). */
  duration: number;
}

/** The 4-byte payload, or null when it is too short to be one. Extra bytes (redundant blocks) are ignored. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < 4) return null;
  const event = payload[0] as number;
  const flags = payload[1] as number;
  return {
    event,
    digit: EVENT_DIGITS[event],
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export function encodeTelephoneEvent(e: { event: number; end: boolean; volume?: number; duration: number }): Buffer {
  const out = Buffer.alloc(4);
  out[0] = e.event & 0xff;
  out[1] = (e.end ? 0x80 : 0) | ((e.volume ?? 10) & 0x3f);
  out.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(e.duration))), 2);
  return out;
}

/** The event code of a key (`0`–`9`, `*`, `#`, `A`–`D`), or undefined. */
export function dtmfEventCode(digit: string): number | undefined {
  const i = EVENT_DIGITS.indexOf(digit.toUpperCase());
  return digit.length === 1 && i >= 0 ? i : undefined;
}

export interface DetectedDigit {
  digit: string;
  /** RTP timestamp shared by the event's packets. */
  timestamp: number;
  /** Duration in the payload clock's units (the largest seen). */
  duration: number;
  /** True when no end packet arrived and the digit was reported because the next event began. */
  endLost: boolean;
}

/**
 * Turns telephone-event packets into digits, once per key press: an event is keyed by its RTP timestamp and reported
 * on its first end packet (the retransmitted end packets, and any late packet of it, are ignored). If every end
 * packet is lost, the digit is reported when an event with another timestamp begins. Non-DTMF events are ignored.
 */
export class TelephoneEventDeduper {
  /** Timestamps already reported, most recent last (bounded). */
  readonly #reported: number[] = [];
  #open: { timestamp: number; digit: string; duration: number } | undefined;

  /** One packet's payload and RTP timestamp; returns the digits it completes (zero, one or two). */
  push(payload: Uint8Array, rtpTimestamp: number): DetectedDigit[] {
    const e = parseTelephoneEvent(payload);
    const ts = rtpTimestamp >>> 0;
    if (!e || e.digit === undefined || this.#reported.includes(ts)) return [];
    const out: DetectedDigit[] = [];
    if (this.#open && this.#open.timestamp !== ts) {
      out.push({ ...this.#open, endLost: true });
      this.#remember(this.#open.timestamp);
      this.#open = undefined;
    }
    if (e.end) {
      out.push({
        digit: e.digit,
        timestamp: ts,
        duration: Math.max(e.duration, this.#open?.duration ?? 0),
        endLost: false,
      });
      this.#remember(ts);
      this.#open = undefined;
    } else {
      this.#open = { timestamp: ts, digit: e.digit, duration: Math.max(e.duration, this.#open?.duration ?? 0) };
    }
    return out;
  }

  #remember(ts: number): void {
    this.#reported.push(ts);
    if (this.#reported.length > 16) this.#reported.shift();
  }
}

export interface EventPacket {
  payload: Buffer;
  /** Set on the first packet of the event only. */
  marker: boolean;
  /** The event's RTP timestamp (the same for all its packets). */
  timestamp: number;
  /** When to send it, in ms after the first packet. */
  offsetMs: number;
}

export interface KeyPressOptions {
  /** RTP timestamp of the key press (the sender's media clock when it began). */
  timestamp: number;
  /** @default 100 */
  durationMs?: number;
  /** Interval between packets. @default 20 */
  packetMs?: number;
  /** The payload type's clock rate. @default 8000 */
  clockRate?: number;
  /** @default 10 */
  volume?: number;
}

/**
 * The packets of one key press as WhatsApp and browsers send them: the first with the marker bit, one every
 * `packetMs` with the same timestamp and a growing duration, then the end packet three times.
 */
export function keyPressPackets(digit: string, opts: KeyPressOptions): EventPacket[] {
  const event = dtmfEventCode(digit);
  if (event === undefined) throw new RangeError(`not a DTMF key: ${JSON.stringify(digit)}`);
  const packetMs = opts.packetMs ?? 20;
  const durationMs = opts.durationMs ?? 100;
  const rate = (opts.clockRate ?? 8000) / 1000;
  const timestamp = opts.timestamp >>> 0;
  const packets: EventPacket[] = [];
  let t = packetMs;
  for (; t < durationMs; t += packetMs) {
    packets.push({
      payload: encodeTelephoneEvent({ event, end: false, volume: opts.volume, duration: t * rate }),
      marker: packets.length === 0,
      timestamp,
      offsetMs: t - packetMs,
    });
  }
  for (let i = 0; i < 3; i++) {
    packets.push({
      payload: encodeTelephoneEvent({ event, end: true, volume: opts.volume, duration: durationMs * rate }),
      marker: packets.length === 0,
      timestamp,
      offsetMs: t - packetMs,
    });
  }
  return packets;
}

/**
 * RFC 4733 telephone-events (what WhatsApp sends for a key): a 4-byte payload `event | E R volume | duration`, one
 * event per RTP timestamp, repeated while the key is held, and its end packet sent three times. A key counts once,
 * at its first end packet.
 */
const DIGITS = '0123456789*#ABCD';

export class TelephoneEventReader {
  #lastTimestamp: number | undefined;
  #reported = false;

  /** Reads one telephone-event payload; returns the digit when a key completes, else undefined. */
  read(payload: Buffer, rtpTimestamp: number): string | undefined {
    if (payload.length < 4) return undefined;
    const event = payload[0]!;
    const end = (payload[1]! & 0x80) !== 0;
    const digit = DIGITS[event];
    if (digit === undefined) return undefined;
    if (rtpTimestamp !== this.#lastTimestamp) {
      this.#lastTimestamp = rtpTimestamp;
      this.#reported = false;
    }
    if (!end || this.#reported) return undefined;
    this.#reported = true;
    return digit;
  }
}

/**
 * RTP (RFC 3550) header reading and the rewrite that forwards a packet from one leg to another: a new SSRC,
 * sequence number and timestamp, payload type mapped to the receiver's, header extensions stripped (their ids are
 * negotiated per leg, and nothing we forward needs them).
 */

/** Byte 1 of an RTCP packet (RFC 5761 §4: PT 192–223 with the marker bit folded in). */
export function isRtcp(buf: Buffer): boolean {
  if (buf.length < 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload (after CSRCs and extensions). */
  payloadOffset: number;
  /** Payload length without padding. */
  payloadLength: number;
}

/** Parses an RTP header; undefined for anything malformed (wrong version, truncated, bad padding). */
export function parseRtp(buf: Buffer): RtpHeader | undefined {
  if (buf.length < 12) return undefined;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return undefined;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (buf.length < offset) return undefined;
  if (b0 & 0x10) {
    if (buf.length < offset + 4) return undefined;
    const words = buf.readUInt16BE(offset + 2);
    offset += 4 + words * 4;
    if (buf.length < offset) return undefined;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || pad > end - offset) return undefined;
    end -= pad;
  }
  const b1 = buf[1]!;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}

/** A new RTP packet: 12-byte header (no CSRC, no extension, no padding) + payload. */
export function buildRtp(
  h: { marker: boolean; payloadType: number; sequence: number; timestamp: number; ssrc: number },
  payload: Buffer,
): Buffer {
  const out = Buffer.allocUnsafe(12 + payload.length);
  out[0] = 0x80;
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequence & 0xffff, 2);
  out.writeUInt32BE(h.timestamp >>> 0, 4);
  out.writeUInt32BE(h.ssrc >>> 0, 8);
  payload.copy(out, 12);
  return out;
}

/** 48 kHz RTP clock: units per 20 ms Opus frame. */
export const OPUS_FRAME_TICKS = 960;

/**
 * One outgoing RTP stream towards one receiver: our SSRC, and sequence/timestamp offsets re-based whenever the source
 * changes, so the receiver sees one continuous stream (no jump back, no duplicate sequence number) across switches
 * between the agent, the player, silence and another leg. Within one source, gaps and reordering are kept.
 */
export class OutboundStream {
  readonly ssrc: number;
  #source: unknown;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number;
  #lastTs: number;
  #lastSentAt = 0;
  #started = false;
  packets = 0;
  octets = 0;

  constructor(
    ssrc: number,
    initialSeq = Math.floor(Math.random() * 0x8000),
    initialTs = Math.floor(Math.random() * 0x7fffffff),
  ) {
    this.ssrc = ssrc;
    this.#lastSeq = (initialSeq - 1) & 0xffff;
    this.#lastTs = initialTs >>> 0;
  }

  /** Last RTP timestamp sent (what a sender report must be consistent with). */
  get lastTimestamp(): number {
    return this.#lastTs;
  }

  get lastSentAt(): number {
    return this.#lastSentAt;
  }

  /**
   * Maps a packet of `source` (any identity: an inbound SSRC object, the player) to this stream's numbering and
   * builds it. `nowMs` decides how far the timestamp moves when the source changes (the real time that passed, at
   * least one frame), so playout timing stays right.
   */
  rewrite(
    source: unknown,
    h: { marker: boolean; payloadType: number; sequence: number; timestamp: number },
    payload: Buffer,
    nowMs: number,
  ): Buffer {
    if (!this.#started || source !== this.#source) {
      const elapsed = this.#started ? Math.max(OPUS_FRAME_TICKS, Math.round((nowMs - this.#lastSentAt) * 48)) : 0;
      this.#seqOffset = (this.#lastSeq + 1 - h.sequence) & 0xffff;
      this.#tsOffset = (this.#lastTs + elapsed - h.timestamp) >>> 0;
      this.#source = source;
      this.#started = true;
    }
    const sequence = (h.sequence + this.#seqOffset) & 0xffff;
    const timestamp = (h.timestamp + this.#tsOffset) >>> 0;
    // Only move "last" forward (a reordered older packet must not pull the base back).
    if (((sequence - this.#lastSeq) & 0xffff) < 0x8000) {
      this.#lastSeq = sequence;
      this.#lastTs = timestamp;
    }
    this.#lastSentAt = nowMs;
    this.packets++;
    this.octets += payload.length;
    return buildRtp({ marker: h.marker, payloadType: h.payloadType, sequence, timestamp, ssrc: this.ssrc }, payload);
  }
}

/**
 * Receive statistics of one inbound stream (RFC 3550 A.1/A.3/A.8): extended highest sequence, expected vs received,
 * interarrival jitter in timestamp units.
 */
export class InboundStats {
  ssrc = 0;
  received = 0;
  /** RTP bytes received (headers included). */
  bytes = 0;
  #baseSeq = -1;
  #maxSeq = 0;
  #cycles = 0;
  #jitter = 0;
  #lastTransit: number | undefined;
  #expectedPrior = 0;
  #receivedPrior = 0;
  /** Last sender report's middle 32 bits of NTP, and when it arrived (ms), for the receiver report. */
  lastSr = 0;
  lastSrAt = 0;

  update(h: RtpHeader, packetBytes: number, arrivalMs: number): void {
    this.ssrc = h.ssrc;
    this.received++;
    this.bytes += packetBytes;
    if (this.#baseSeq < 0) {
      this.#baseSeq = h.sequence;
      this.#maxSeq = h.sequence;
    } else {
      const delta = (h.sequence - this.#maxSeq) & 0xffff;
      if (delta > 0 && delta < 0x8000) {
        if (h.sequence < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = h.sequence;
      }
    }
    const transit = arrivalMs * 48 - h.timestamp;
    if (this.#lastTransit !== undefined) {
      let d = Math.abs(transit - this.#lastTransit);
      if (d > 0x7fffffff) d = 0;
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
  }

  get extendedMax(): number {
    return this.#cycles + this.#maxSeq;
  }

  get expected(): number {
    return this.#baseSeq < 0 ? 0 : this.extendedMax - this.#baseSeq + 1;
  }

  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  /** Jitter in 48 kHz timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }

  /** Fraction lost since the last call (0..1), and advances the interval (RFC 3550 A.3). */
  takeFractionLost(): number {
    const expected = this.expected - this.#expectedPrior;
    const received = this.received - this.#receivedPrior;
    this.#expectedPrior = this.expected;
    this.#receivedPrior = this.received;
    const lost = expected - received;
    return expected <= 0 || lost <= 0 ? 0 : lost / expected;
  }
}

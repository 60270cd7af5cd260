/**
 * The RTCP (RFC 3550 §6.4) a forwarding switch writes and reads itself: a sender report for each stream it sends
 * (our SSRC, our packet counts, an RTP timestamp consistent with what it sent, whatever source fed it), a receiver
 * report for each stream it receives, and round-trip times from the receiver reports that come back.
 */
import type { InboundStats, OutboundStream } from './rtp.js';

const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** NTP time of an epoch-ms instant: [seconds, fraction]. */
function ntp(epochMs: number): [number, number] {
  const s = Math.floor(epochMs / 1000);
  const frac = Math.floor(((epochMs % 1000) / 1000) * 0x1_0000_0000);
  return [(s + NTP_EPOCH_OFFSET_S) >>> 0, frac >>> 0];
}

/** The middle 32 bits of the NTP time (LSR/DLSR units: 1/65536 s). */
export function ntpMiddle(epochMs: number): number {
  const [s, f] = ntp(epochMs);
  return (((s & 0xffff) << 16) | (f >>> 16)) >>> 0;
}

function reportBlock(out: Buffer, at: number, stats: InboundStats, nowMs: number): void {
  const fraction = Math.min(255, Math.round(stats.takeFractionLost() * 256));
  const lost = Math.min(0x7fffff, stats.lost);
  out.writeUInt32BE(stats.ssrc >>> 0, at);
  out.writeUInt32BE(((fraction << 24) | lost) >>> 0, at + 4);
  out.writeUInt32BE(stats.extendedMax >>> 0, at + 8);
  out.writeUInt32BE(Math.round(stats.jitter) >>> 0, at + 12);
  out.writeUInt32BE(stats.lastSr >>> 0, at + 16);
  const dlsr = stats.lastSrAt > 0 ? Math.round(((nowMs - stats.lastSrAt) / 1000) * 65536) : 0;
  out.writeUInt32BE(dlsr >>> 0, at + 20);
}

/** A sender report for `stream` (with a report block about `inbound` when it has received anything). */
export function buildSenderReport(stream: OutboundStream, inbound: InboundStats | undefined, nowMs: number): Buffer {
  const withBlock = inbound !== undefined && inbound.received > 0;
  const out = Buffer.alloc(28 + (withBlock ? 24 : 0));
  out[0] = 0x80 | (withBlock ? 1 : 0);
  out[1] = 200;
  out.writeUInt16BE(out.length / 4 - 1, 2);
  out.writeUInt32BE(stream.ssrc >>> 0, 4);
  const [s, f] = ntp(nowMs);
  out.writeUInt32BE(s, 8);
  out.writeUInt32BE(f, 12);
  const sinceLast = stream.lastSentAt > 0 ? Math.max(0, nowMs - stream.lastSentAt) : 0;
  out.writeUInt32BE((stream.lastTimestamp + Math.round(sinceLast * 48)) >>> 0, 16);
  out.writeUInt32BE(stream.packets >>> 0, 20);
  out.writeUInt32BE(stream.octets >>> 0, 24);
  if (withBlock) reportBlock(out, 28, inbound, nowMs);
  return out;
}

/** A receiver report from `senderSsrc` about `inbound`. */
export function buildReceiverReport(senderSsrc: number, inbound: InboundStats, nowMs: number): Buffer {
  const out = Buffer.alloc(32);
  out[0] = 0x81;
  out[1] = 201;
  out.writeUInt16BE(7, 2);
  out.writeUInt32BE(senderSsrc >>> 0, 4);
  reportBlock(out, 8, inbound, nowMs);
  return out;
}

export interface RtcpReading {
  /** Sender reports seen: sender SSRC and the middle NTP bits (for our LSR). */
  senderReports: { ssrc: number; ntpMiddle: number }[];
  /** Report blocks about streams we send. */
  reports: { ssrc: number; fractionLost: number; cumulativeLost: number; jitter: number; lsr: number; dlsr: number }[];
}

/** Reads a compound RTCP packet; stops at the first malformed part (never throws). */
export function parseRtcp(buf: Buffer): RtcpReading {
  const reading: RtcpReading = { senderReports: [], reports: [] };
  let at = 0;
  while (at + 8 <= buf.length) {
    const b0 = buf[at]!;
    if (b0 >> 6 !== 2) break;
    const count = b0 & 0x1f;
    const pt = buf[at + 1]!;
    const len = (buf.readUInt16BE(at + 2) + 1) * 4;
    if (at + len > buf.length) break;
    let blocks = -1;
    if (pt === 200 && len >= 28) {
      const s = buf.readUInt32BE(at + 8);
      const f = buf.readUInt32BE(at + 12);
      reading.senderReports.push({
        ssrc: buf.readUInt32BE(at + 4),
        ntpMiddle: (((s & 0xffff) << 16) | (f >>> 16)) >>> 0,
      });
      blocks = at + 28;
    } else if (pt === 201) {
      blocks = at + 8;
    }
    if (blocks >= 0) {
      for (let i = 0; i < count && blocks + 24 <= at + len; i++, blocks += 24) {
        const word = buf.readUInt32BE(blocks + 4);
        reading.reports.push({
          ssrc: buf.readUInt32BE(blocks),
          fractionLost: (word >>> 24) / 256,
          cumulativeLost: word & 0xffffff,
          jitter: buf.readUInt32BE(blocks + 12),
          lsr: buf.readUInt32BE(blocks + 16),
          dlsr: buf.readUInt32BE(blocks + 20),
        });
      }
    }
    at += len;
  }
  return reading;
}

/** Round-trip time in ms from a report block (RFC 3550 §6.4.1), or undefined when it carries none. */
export function rttFromReport(lsr: number, dlsr: number, nowMs: number): number | undefined {
  if (lsr === 0) return undefined;
  const rtt = (ntpMiddle(nowMs) - lsr - dlsr) >>> 0;
  const ms = (rtt / 65536) * 1000;
  return ms < 60_000 ? ms : undefined;
}

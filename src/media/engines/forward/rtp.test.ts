import { describe, expect, it } from 'vitest';
import { buildReceiverReport, buildSenderReport, ntpMiddle, parseRtcp, rttFromReport } from './rtcp.js';
import { buildRtp, InboundStats, isRtcp, OutboundStream, parseRtp } from './rtp.js';

const h = (sequence: number, timestamp: number) => ({ marker: false, payloadType: 111, sequence, timestamp });

describe('RTP headers', () => {
  it('parses what buildRtp writes, and refuses malformed packets', () => {
    const pkt = buildRtp({ ...h(65535, 0xffffffff), ssrc: 0xdeadbeef }, Buffer.from([1, 2, 3]));
    expect(parseRtp(pkt)).toMatchObject({ sequence: 65535, timestamp: 0xffffffff, ssrc: 0xdeadbeef, payloadLength: 3 });
    expect(isRtcp(pkt)).toBe(false);
    expect(parseRtp(Buffer.alloc(11))).toBeUndefined();
    expect(parseRtp(Buffer.from([0x00, 111, ...Buffer.alloc(10)]))).toBeUndefined(); // version 0
    expect(parseRtp(Buffer.from([0x8f, 111, ...Buffer.alloc(20)]))).toBeUndefined(); // 15 CSRCs, too short
    expect(parseRtp(Buffer.from([0x90, 111, ...Buffer.alloc(10), 0xbe, 0xde, 0, 9]))).toBeUndefined(); // extension
    expect(parseRtp(Buffer.from([0xa0, 111, ...Buffer.alloc(10), 1, 9]))).toBeUndefined(); // padding > payload
    const withExt = Buffer.from([0x90, 111, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 0xaa]);
    expect(parseRtp(withExt)).toMatchObject({ payloadOffset: 20, payloadLength: 1, sequence: 7 });
  });
});

describe('OutboundStream', () => {
  it('keeps sequence numbers and timestamps continuous across source switches, under its own SSRC', () => {
    const out = new OutboundStream(42, 100, 1000);
    const a = {};
    const b = {};
    const seen = [
      out.rewrite(a, h(5000, 777_000), Buffer.alloc(3), 0),
      out.rewrite(a, h(5001, 777_960), Buffer.alloc(3), 20),
      out.rewrite(b, h(9, 1), Buffer.alloc(3), 40), // another source: re-based
      out.rewrite(b, h(10, 961), Buffer.alloc(3), 60),
      out.rewrite(a, h(5002, 778_920), Buffer.alloc(3), 200), // back after 140 ms
    ].map((p) => parseRtp(p)!);
    expect(seen.map((p) => p.sequence)).toEqual([100, 101, 102, 103, 104]);
    expect(seen.map((p) => p.timestamp - 1000)).toEqual([0, 960, 1920, 2880, 2880 + 140 * 48]);
    expect(new Set(seen.map((p) => p.ssrc))).toEqual(new Set([42]));
  });

  it('keeps a gap of the same source as a gap, and wraps sequence numbers', () => {
    const out = new OutboundStream(1, 65535, 0xffffff00);
    const s = {};
    const p1 = parseRtp(out.rewrite(s, h(10, 0), Buffer.alloc(1), 0))!;
    const p2 = parseRtp(out.rewrite(s, h(13, 2880), Buffer.alloc(1), 60))!;
    expect([p1.sequence, p2.sequence]).toEqual([65535, 2]);
    expect((p2.timestamp - p1.timestamp) >>> 0).toBe(2880);
  });
});

describe('InboundStats and RTCP', () => {
  it('counts loss from sequence gaps and reports it in a receiver report', () => {
    const s = new InboundStats();
    for (const seq of [65534, 65535, 0, 2, 3]) {
      s.update({ ...h(seq, seq * 960), marker: false, ssrc: 7, payloadOffset: 12, payloadLength: 3 }, 15, seq * 20);
    }
    expect(s.expected).toBe(6);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(1);
    const rr = parseRtcp(buildReceiverReport(99, s, 1000));
    expect(rr.reports).toEqual([
      expect.objectContaining({ ssrc: 7, cumulativeLost: 1, fractionLost: Math.round(256 / 6) / 256 }),
    ]);
  });

  it('a sender report reads back, and a receiver report echoing it gives the round-trip time', () => {
    const out = new OutboundStream(5, 0, 0);
    out.rewrite({}, h(0, 0), Buffer.alloc(10), 1_700_000_000_000);
    const sent = 1_700_000_000_020;
    const sr = buildSenderReport(out, undefined, sent);
    expect(isRtcp(sr)).toBe(true);
    const read = parseRtcp(sr);
    expect(read.senderReports).toEqual([{ ssrc: 5, ntpMiddle: ntpMiddle(sent) }]);
    // The far side held it 30 ms; its report arrives 40 ms after ours left: the round trip is 10 ms.
    const dlsr = Math.round(0.03 * 65536);
    const rtt = rttFromReport(ntpMiddle(sent), dlsr, sent + 40);
    expect(rtt).toBeGreaterThan(9);
    expect(rtt).toBeLessThan(11);
    expect(rttFromReport(0, 0, sent)).toBeUndefined();
    // Garbage never throws.
    expect(parseRtcp(Buffer.from([0x81, 200, 0xff, 0xff, 0, 0, 0, 1]))).toEqual({ senderReports: [], reports: [] });
  });
});

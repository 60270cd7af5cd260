import { randomInt } from 'node:crypto';
import { estimateMos } from '../../../rtc/mos.js';
import { EMPTY_LEG_STATS, type LegStats } from '../../../rtc/stats.js';
import type { ForwardLeg } from './leg.js';
import { buildReceiverReport, buildSenderReport, parseRtcp, rttFromReport } from './rtcp.js';
import { InboundStats, OutboundStream } from './rtp.js';

/** One sending side of a call: the WhatsApp leg or a browser leg, with its streams and receive statistics. */
export interface Side {
  id: string;
  leg: ForwardLeg;
  /** One outbound stream per audio m-line we send on (a browser hears N sources on N tracks). */
  outs: { index: number; stream: OutboundStream; pt: number }[];
  /** The m-line we receive the remote's audio on. */
  inIndex: number;
  opusPt: number;
  dtmfPt: number | undefined;
  inbound: InboundStats;
  /** Changes when a new offer replaces the leg: a new source for every receiver. */
  source: object;
  rttMs: number | null;
  remoteFractionLost: number;
}

export function randomSsrc(): number {
  return randomInt(1, 0xffffffff);
}

/** The side of an answered leg: an outbound stream (SSRC `ssrcs[i]`) per m-line it sends on. */
export function createSide(id: string, leg: ForwardLeg, ssrcs: number[]): Side {
  const audio = leg.audio;
  const outs: Side['outs'] = [];
  for (const [index, a] of audio.entries()) {
    if (a.send) outs.push({ index, stream: new OutboundStream(ssrcs[outs.length] ?? randomSsrc()), pt: a.opusPt });
  }
  const inIndex = Math.max(
    0,
    audio.findIndex((a) => a.receive),
  );
  return {
    id,
    leg,
    outs,
    inIndex,
    opusPt: audio[inIndex]?.opusPt ?? 111,
    dtmfPt: audio[inIndex]?.dtmfPt,
    inbound: new InboundStats(),
    source: {},
    rttMs: null,
    remoteFractionLost: 0,
  };
}

/** Reads an RTCP packet from the side's remote: sender reports for our receiver reports, RTT and loss from reports. */
export function readRtcp(side: Side, buf: Buffer, now: number): void {
  const reading = parseRtcp(buf);
  for (const sr of reading.senderReports) {
    if (sr.ssrc === side.inbound.ssrc) {
      side.inbound.lastSr = sr.ntpMiddle;
      side.inbound.lastSrAt = now;
    }
  }
  for (const r of reading.reports) {
    if (!side.outs.some((o) => o.stream.ssrc === r.ssrc)) continue;
    const rtt = rttFromReport(r.lsr, r.dlsr, now);
    if (rtt !== undefined) side.rttMs = rtt;
    side.remoteFractionLost = r.fractionLost;
  }
}

/** Sends the side's periodic RTCP: a sender report per stream that sent, else a receiver report. */
export function sendRtcp(side: Side, now: number): void {
  if (side.leg.state !== 'connected') return;
  const first = side.outs[0];
  const inbound = side.inbound.received > 0 ? side.inbound : undefined;
  for (const out of side.outs) {
    if (out.stream.packets > 0)
      side.leg.send(out.index, buildSenderReport(out.stream, out === first ? inbound : undefined, now));
  }
  if (inbound && (!first || first.stream.packets === 0)) {
    side.leg.send(side.inIndex, buildReceiverReport(first?.stream.ssrc ?? 1, inbound, now));
  }
}

export function sideStats(side: Side): LegStats {
  if (side.leg.closed) return { ...EMPTY_LEG_STATS };
  const inb = side.inbound;
  const rttMs = side.rttMs ?? side.leg.rttMs();
  const jitterMs = inb.jitter / 48;
  const fractionLost = inb.expected > 0 ? inb.lost / inb.expected : 0;
  return {
    rttMs,
    jitterMs,
    packetsLost: inb.lost,
    packetsReceived: inb.received,
    packetsSent: side.outs.reduce((n, o) => n + o.stream.packets, 0),
    fractionLost,
    bytesSent: side.outs.reduce((n, o) => n + o.stream.octets + 12 * o.stream.packets, 0),
    bytesReceived: inb.bytes,
    mos: inb.received > 0 ? estimateMos({ rttMs: rttMs ?? 0, jitterMs, lossPct: fractionLost * 100 }) : null,
    candidatePair: side.leg.candidatePair(),
  };
}

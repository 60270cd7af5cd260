import { estimateMos } from './mos.js';
import type { WrtcStats, WrtcStatsReport } from './wrtc.js';

/** One leg's media figures, from wrtc's getStats() (webrtc-stats). */
export interface LegStats {
  /** Round-trip time from RTCP (remote-inbound-rtp), else from ICE (selected candidate pair); null before any. */
  rttMs: number | null;
  /** Interarrival jitter of what we receive. */
  jitterMs: number;
  /** Packets we did not receive (cumulative, from RTP sequence numbers). */
  packetsLost: number;
  packetsReceived: number;
  packetsSent: number;
  /** packetsLost / (packetsLost + packetsReceived), 0…1, cumulative. */
  fractionLost: number;
  bytesSent: number;
  bytesReceived: number;
  /** E-model estimate, see estimateMos; null before any packet arrived. */
  mos: number | null;
  /**
   * The selected ICE candidate pair, null before connection: `ip:port` and candidate type per side. libwebrtc hides
   * the address of peer-reflexive candidates in stats, so a `prflx` side reads `?:port`.
   */
  candidatePair: { local: string; remote: string; localType: string; remoteType: string } | null;
}

function num(s: WrtcStats | undefined, key: string): number | undefined {
  const v = s?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(s: WrtcStats | undefined, key: string): string | undefined {
  const v = s?.[key];
  return typeof v === 'string' ? v : undefined;
}

export const EMPTY_LEG_STATS: LegStats = Object.freeze({
  rttMs: null,
  jitterMs: 0,
  packetsLost: 0,
  packetsReceived: 0,
  packetsSent: 0,
  fractionLost: 0,
  bytesSent: 0,
  bytesReceived: 0,
  mos: null,
  candidatePair: null,
});

/** Reduces an audio leg's stats report to {@link LegStats}. */
export function legStatsFromReport(report: WrtcStatsReport): LegStats {
  const all = [...report.values()];
  const audio = (s: WrtcStats): boolean => (str(s, 'kind') ?? str(s, 'mediaType')) === 'audio';
  const inbound = all.filter((s) => s.type === 'inbound-rtp' && audio(s));
  const outbound = all.filter((s) => s.type === 'outbound-rtp' && audio(s));
  const remoteInbound = all.find((s) => s.type === 'remote-inbound-rtp');
  const transport = all.find((s) => s.type === 'transport');
  const pairId = str(transport, 'selectedCandidatePairId');
  const pair =
    (pairId ? report.get(pairId) : undefined) ??
    all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');

  const sum = (list: WrtcStats[], key: string): number => list.reduce((acc, s) => acc + (num(s, key) ?? 0), 0);
  const packetsReceived = sum(inbound, 'packetsReceived');
  const packetsLost = Math.max(0, sum(inbound, 'packetsLost'));
  const jitterS = Math.max(0, ...inbound.map((s) => num(s, 'jitter') ?? 0));
  const rttS = num(remoteInbound, 'roundTripTime') ?? num(pair, 'currentRoundTripTime');
  const rttMs = rttS === undefined ? null : rttS * 1000;
  const fractionLost = packetsLost + packetsReceived === 0 ? 0 : packetsLost / (packetsLost + packetsReceived);

  const side = (id: string | undefined): { address: string; type: string } | undefined => {
    const c = id ? report.get(id) : undefined;
    if (!c) return undefined;
    const ip = str(c, 'address') || str(c, 'ip') || '?';
    return { address: `${ip}:${num(c, 'port') ?? 0}`, type: str(c, 'candidateType') ?? 'unknown' };
  };
  const local = side(str(pair, 'localCandidateId'));
  const remote = side(str(pair, 'remoteCandidateId'));

  return {
    rttMs: rttMs === null ? null : Math.round(rttMs * 10) / 10,
    jitterMs: Math.round(jitterS * 10_000) / 10,
    packetsLost,
    packetsReceived,
    packetsSent: sum(outbound, 'packetsSent'),
    fractionLost,
    bytesSent: sum(outbound, 'bytesSent'),
    bytesReceived: sum(inbound, 'bytesReceived'),
    mos:
      packetsReceived === 0
        ? null
        : estimateMos({ rttMs: rttMs ?? 0, jitterMs: jitterS * 1000, lossPct: fractionLost * 100 }),
    candidatePair:
      local && remote
        ? { local: local.address, remote: remote.address, localType: local.type, remoteType: remote.type }
        : null,
  };
}

import type { CallStore } from '../machines/call.store.js';
import type { CallMediaStats } from '../rtc/engine.js';
import type { LegStats } from '../rtc/stats.js';
import type { Keys } from '../shared/keys.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import type { AudioStatsSample, LegStats as ProtocolLegStats } from '../shared/rest-types.js';
import type { HostedCall } from './call-commands.js';

const STATS_TIMELINE_EVERY = 6; // one timeline entry every 6 samples (30 s by default)
/** The samples kept per call. */
const STATS_KEPT = 200;

interface StatsDeps {
  redis: RedisClient;
  keys: Keys;
  store: CallStore;
  metrics?: Metrics | undefined;
}

function toProtocol(s: LegStats | null): ProtocolLegStats | null {
  if (!s) return null;
  return {
    rttMs: s.rttMs,
    jitterMs: s.jitterMs,
    packetsLost: s.packetsLost,
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    fractionLost: s.fractionLost,
    mos: s.mos,
  };
}

function statsLine(leg: string, s: ProtocolLegStats | null): string {
  if (!s) return `${leg}: none`;
  const f = (v: number | null, d = 0) => (v === null ? '?' : v.toFixed(d));
  return `${leg}: rtt=${f(s.rttMs)}ms jitter=${f(s.jitterMs, 1)}ms loss=${f((s.fractionLost ?? 0) * 100, 1)}% mos=${f(s.mos, 2)}`;
}

/**
 * Samples a hosted call's audio stats: kept in the call's stats list (the last {@link STATS_KEPT}), observed as MOS
 * metrics, and every {@link STATS_TIMELINE_EVERY}th sample (and the final one) written to the call's timeline.
 */
export async function recordStats(deps: StatsDeps, hosted: HostedCall, final: boolean): Promise<void> {
  const bridge = hosted.bridge;
  if (!bridge || bridge.closed) return;
  let stats: CallMediaStats;
  try {
    stats = await bridge.getStats();
  } catch {
    return;
  }
  const sample: AudioStatsSample = {
    at: Date.now(),
    whatsapp: toProtocol(stats.whatsapp),
    agent: toProtocol(stats.agent),
  };
  const key = deps.keys.call.stats(hosted.callId);
  await deps.redis.multi().rpush(key, JSON.stringify(sample)).ltrim(key, -STATS_KEPT, -1).exec();
  if (sample.whatsapp?.mos != null) deps.metrics?.audioMos.observe({ leg: 'whatsapp' }, sample.whatsapp.mos);
  if (sample.agent?.mos != null) deps.metrics?.audioMos.observe({ leg: 'agent' }, sample.agent.mos);
  hosted.samples++;
  if (final || hosted.samples % STATS_TIMELINE_EVERY === 1) {
    await deps.store.appendTimeline(hosted.callId, {
      at: sample.at,
      event: final ? 'MEDIA.STATS_FINAL' : 'MEDIA.STATS',
      detail: `${statsLine('whatsapp', sample.whatsapp)}; ${statsLine('agent', sample.agent)}`,
    });
  }
}

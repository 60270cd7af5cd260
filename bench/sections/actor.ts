/**
 * 2. Call-actor throughput through the store vs raw Redis round trips, memory per call in Redis, and version
 * conflicts under 8 concurrent writers on one call; 5. the same throughput with 1 vs 2 processes.
 */
import os from 'node:os';
import { Redis } from 'ioredis';
import type { CallStore } from '../../src/machines/call.store.js';
import { createCore } from '../../src/runtime.js';
import { loadConfig } from '../../src/shared/config.js';
import { silentLogger } from '../../src/shared/log.js';
import { META_OFFER_SDP, RAW_ANSWER_SDP } from '../../src/testing/sdp-fixtures.js';
import type { ActorLoadConfig, ActorLoadResult, PhaseResult } from '../actor-load.js';
import { CountingMetrics, callInput, makeDeliverer, runLifecycle } from '../lib/actor.js';
import type { QuietGate } from '../lib/cpu.js';
import { runScript, serviceEnv } from '../lib/procs.js';
import { benchPrefix, cleanupPrefix, log, memoryOf } from '../lib/util.js';

export interface ActorOptions {
  redisUrl: string;
  warmupMs: number;
  durationMs: number;
  concurrency: number;
  conflictEvents: number;
  memoryCalls: number;
  /** raw / deliver phases alternate this many times in each process; the best of each counts. */
  rounds: number;
  scale: boolean;
  redisPid: number | undefined;
  gate: QuietGate;
}

export interface MemoryFigure {
  /** MEMORY USAGE summed over the call's own keys (state, timeline, sdp, …). */
  callKeysBytes: number;
  callKeys: number;
  /** The bytes of what they hold (snapshot JSON, SDPs, timeline JSON): the floor any store needs. */
  payloadBytes: number;
}

export interface ActorResult {
  /** One process, `concurrency` calls in flight. */
  raw: PhaseResult;
  deliver: PhaseResult;
  /** One process, one call at a time (latency bound). */
  rawSerial: PhaseResult;
  deliverSerial: PhaseResult;
  /** Every phase of the 16-in-flight load, in order (raw and deliver alternate): the spread across rounds. */
  rounds: { phase: 'raw' | 'deliver'; opsPerS: number }[];
  snapshotBytes: number;
  memory: {
    ringing: MemoryFigure;
    ended: MemoryFigure;
    /** Everything under the prefix (call keys + indexes + BullMQ jobs), per call, through the real dispatcher. */
    ringingAllKeysPerCall: number;
    endedAllKeysPerCall: number;
  };
  conflicts: {
    writers: number;
    events: number;
    retries: number;
    retriesPerEvent: number;
    eventsPerS: number;
    singleWriterEventsPerS: number;
  };
  scale: { processes: number; raw: number; deliver: number; otherPct: number }[];
  /** What-if, not the service as configured: the same deliver load with ioredis auto-pipelining on. */
  whatIfAutoPipelining: PhaseResult | undefined;
}

/** Other people's work during the worst phase of a load, % of the machine (other actor processes excluded). */
function others(results: ActorLoadResult[]): number {
  const phases = results.flatMap((r) => [r.raw, r.deliver]).filter((p): p is PhaseResult => p !== undefined);
  const cores = os.cpus().length;
  // Each process counts its siblings as "other": take them out again.
  const siblings = (p: PhaseResult) => (results.length > 1 ? ((results.length - 1) * p.cpuPct) / cores : 0);
  return Math.max(0, ...phases.map((p) => p.otherPct - siblings(p)));
}

async function load(
  name: string,
  opts: ActorOptions,
  prefix: string,
  processes: number,
  concurrency: number,
  extra: Partial<ActorLoadConfig> = {},
): Promise<ActorLoadResult[]> {
  const first = await loadOnce(name, opts, prefix, processes, concurrency, extra);
  if (!opts.gate.rerun(name, others(first))) return first;
  const again = await loadOnce(name, opts, prefix, processes, concurrency, extra);
  return others(again) < others(first) ? again : first;
}

async function loadOnce(
  name: string,
  opts: ActorOptions,
  prefix: string,
  processes: number,
  concurrency: number,
  extra: Partial<ActorLoadConfig>,
): Promise<ActorLoadResult[]> {
  await opts.gate.wait(name, { redis: opts.redisPid });
  // Both processes start measuring at the same instant (their start-up and warm-up finish before it).
  const startAt = Date.now() + 3000 + opts.warmupMs;
  const cfg: ActorLoadConfig = {
    redisUrl: opts.redisUrl,
    prefix,
    concurrency,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    startAt,
    phases: Array.from({ length: opts.rounds }, () => ['raw', 'deliver'] as const).flat(),
    redisPid: opts.redisPid,
    ...extra,
  };
  return Promise.all(
    Array.from({ length: processes }, (_, i) =>
      runScript<ActorLoadResult>(`${name}-${i + 1}`, 'bench/actor-load.ts', cfg, {
        timeoutMs: 60_000 + 3 * opts.warmupMs + 2 * opts.rounds * opts.durationMs,
      }),
    ),
  );
}

async function callPayload(store: CallStore, redis: Redis, callId: string): Promise<number> {
  const k = store.keys.call;
  const [snapshot, timeline, sdp] = await Promise.all([
    redis.hget(k.state(callId), 'snapshot'),
    redis.lrange(k.timeline(callId), 0, -1),
    redis.hgetall(k.sdp(callId)),
  ]);
  return (
    Buffer.byteLength(snapshot ?? '') +
    timeline.reduce((a, t) => a + Buffer.byteLength(t), 0) +
    Object.values(sdp).reduce((a, v) => a + Buffer.byteLength(v), 0)
  );
}

async function memory(opts: ActorOptions): Promise<ActorResult['memory']> {
  const prefix = benchPrefix('m');
  const redis = new Redis(opts.redisUrl);
  try {
    // Per-call keys, with the no-op dispatcher: a ringing call, and an answered call that ended.
    const d = makeDeliverer(redis, prefix);
    const store = d.store;
    await runLifecycle(d, 'mem-ringing', 0);
    await runLifecycle(d, 'mem-ended', 7);
    // The media node stores our answer once; the bridge's answer is about this size.
    await store.setAnswerOnce('mem-ended', RAW_ANSWER_SDP);
    const out = await d.deliver('mem-ended', { type: 'AGENT.HANGUP', agentId: 'agent-1' });
    if (out.status !== 'applied') throw new Error(`hang-up: ${out.status}`);
    const fig = async (id: string): Promise<MemoryFigure> => {
      const m = await memoryOf(redis, `${prefix}:call:{${id}}*`);
      return { callKeysBytes: m.bytes, callKeys: m.keys, payloadBytes: await callPayload(store, redis, id) };
    };
    const ringing = await fig('mem-ringing');
    const ended = await fig('mem-ended');

    // Everything, through the real dispatcher (indexes, BullMQ timer and route jobs), no worker consuming.
    const prefix2 = benchPrefix('n');
    const config = loadConfig(serviceEnv(opts.redisUrl, prefix2, { GRAPH_API_BASE_URL: 'http://127.0.0.1:9' }));
    const core = createCore(config, silentLogger, opts.redisUrl);
    try {
      const all = async () => {
        let bytes = 0;
        for (const p of [`${prefix2}:*`, `{${prefix2}-bull}*`]) bytes += (await memoryOf(redis, p)).bytes;
        return bytes;
      };
      const n = opts.memoryCalls;
      const ids = Array.from({ length: n }, (_, i) => `mem-${i}`);
      for (let i = 0; i < n; i += 20) {
        await Promise.all(ids.slice(i, i + 20).map((id) => core.deliverer.create(callInput(id), META_OFFER_SDP)));
      }
      const ringingAll = (await all()) / n;
      for (let i = 0; i < n; i += 20) {
        await Promise.all(
          ids.slice(i, i + 20).map((id) => core.deliverer.deliver(id, { type: 'WA.TERMINATE', status: 'COMPLETED' })),
        );
      }
      const endedAll = (await all()) / n;
      return { ringing, ended, ringingAllKeysPerCall: ringingAll, endedAllKeysPerCall: endedAll };
    } finally {
      await core.close();
      await cleanupPrefix(opts.redisUrl, prefix2);
    }
  } finally {
    redis.disconnect();
    await cleanupPrefix(opts.redisUrl, prefix);
  }
}

/** 8 writers (8 deliverers on 8 connections, as 8 processes would be) deliver events to one call at once. */
async function conflicts(opts: ActorOptions): Promise<ActorResult['conflicts']> {
  const prefix = benchPrefix('c');
  const writers = 8;
  const perWriter = Math.max(1, Math.floor(opts.conflictEvents / writers));
  const conns = Array.from({ length: writers }, () => new Redis(opts.redisUrl));
  try {
    const digits = '0123456789*#';
    // Baseline: one writer, the same number of events, one after the other.
    const single = makeDeliverer(conns[0]!, prefix, new CountingMetrics());
    await single.create(callInput('conflict-1'), META_OFFER_SDP);
    let t = performance.now();
    for (let i = 0; i < perWriter * writers; i++) {
      await single.deliver('conflict-1', { type: 'MEDIA.DTMF', digit: digits[i % digits.length]! });
    }
    const singleWriterEventsPerS = (perWriter * writers) / ((performance.now() - t) / 1000);

    const metrics = new CountingMetrics();
    const ds = conns.map((c) => makeDeliverer(c, prefix, metrics));
    await ds[0]!.create(callInput('conflict-8'), META_OFFER_SDP);
    t = performance.now();
    await Promise.all(
      ds.map(async (d, w) => {
        for (let i = 0; i < perWriter; i++) {
          const out = await d.deliver('conflict-8', { type: 'MEDIA.DTMF', digit: digits[(w + i) % digits.length]! });
          if (out.status !== 'applied') throw new Error(`writer ${w}: ${out.status}`);
        }
      }),
    );
    const wall = performance.now() - t;
    const events = perWriter * writers;
    return {
      writers,
      events,
      retries: metrics.conflicts,
      retriesPerEvent: metrics.conflicts / events,
      eventsPerS: events / (wall / 1000),
      singleWriterEventsPerS,
    };
  } finally {
    for (const c of conns) c.disconnect();
    await cleanupPrefix(opts.redisUrl, prefix);
  }
}

export async function runActor(opts: ActorOptions): Promise<ActorResult> {
  const prefix = benchPrefix('a');
  try {
    log(`actor: throughput, 1 process, ${opts.concurrency} calls in flight`);
    const [one] = await load('actor-1p', opts, prefix, 1, opts.concurrency);
    log(`  raw GET+SET ${one!.raw!.opsPerS.toFixed(0)}/s, deliver ${one!.deliver!.opsPerS.toFixed(0)} events/s`);
    log('actor: throughput, 1 process, 1 call at a time');
    const [serial] = await load('actor-serial', opts, prefix, 1, 1, {
      phases: ['raw', 'deliver'],
    });
    log(`  raw GET+SET ${serial!.raw!.opsPerS.toFixed(0)}/s, deliver ${serial!.deliver!.opsPerS.toFixed(0)} events/s`);
    const scale: ActorResult['scale'] = [
      { processes: 1, raw: one!.raw!.opsPerS, deliver: one!.deliver!.opsPerS, otherPct: others([one!]) },
    ];
    if (opts.scale) {
      log('actor: throughput, 2 processes');
      const two = await load('actor-2p', opts, prefix, 2, opts.concurrency);
      const sum = (p: 'raw' | 'deliver') => two.reduce((a, r) => a + (r[p]?.opsPerS ?? 0), 0);
      scale.push({ processes: 2, raw: sum('raw'), deliver: sum('deliver'), otherPct: others(two) });
      log(`  raw GET+SET ${sum('raw').toFixed(0)}/s, deliver ${sum('deliver').toFixed(0)} events/s`);
    }
    log('actor: what-if, deliver with ioredis auto-pipelining');
    const [auto] = await load('actor-autopipe', opts, prefix, 1, opts.concurrency, {
      phases: ['deliver'],
      autoPipelining: true,
    });
    log(`  deliver ${auto!.deliver!.opsPerS.toFixed(0)} events/s`);
    log('actor: memory per call');
    const mem = await memory(opts);
    log('actor: 8 writers on one call');
    const conf = await conflicts(opts);
    return {
      raw: one!.raw!,
      deliver: one!.deliver!,
      rawSerial: serial!.raw!,
      deliverSerial: serial!.deliver!,
      rounds: one!.all,
      snapshotBytes: one!.snapshotBytes,
      memory: mem,
      conflicts: conf,
      scale,
      whatIfAutoPipelining: auto!.deliver,
    };
  } finally {
    await cleanupPrefix(opts.redisUrl, prefix);
  }
}

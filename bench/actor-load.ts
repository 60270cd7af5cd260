/**
 * Call-actor throughput, in its own process (bench/run.ts starts one or two at once): events per second through the
 * store — pure transition → compare-and-set of snapshot + outbox (Lua) → dispatch (no-op); outbox acks ride on the next write —
 * against raw GET + SET round trips on the same ioredis connection, in the same process, same run.
 */
import { Redis } from 'ioredis';
import { META_OFFER_SDP } from '../src/testing/sdp-fixtures.js';
import { CountingMetrics, callInput, LIFECYCLE, makeDeliverer, runLifecycle } from './lib/actor.js';
import { CpuMeter, otherShare } from './lib/cpu.js';
import { emitResult, scriptConfig } from './lib/procs.js';
import { summarize } from './lib/util.js';

export interface ActorLoadConfig {
  redisUrl: string;
  prefix: string;
  /** Concurrent loops (calls in flight); each loop drives its own calls one event at a time. */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Epoch ms to start at, so that several processes measure the same window. */
  startAt: number;
  phases: ('raw' | 'deliver')[];
  /** Redis's pid, to measure its CPU in the same window (when it runs on this machine). */
  redisPid?: number | undefined;
  /** What-if: ioredis auto-pipelining on this process's connection (the service does not use it). */
  autoPipelining?: boolean;
}

export interface PhaseResult {
  /** Operations per second: raw = GET+SET pairs, deliver = events applied (create counts as one). */
  opsPerS: number;
  ops: number;
  /** Latency of one operation (one pair / one event), ms. */
  latencyMs: { p50: number; p99: number };
  cpuPct: number;
  /** Redis's CPU over the same window, % of one core (null when Redis is not local). */
  redisCpuPct: number | null;
  /** Other people's work during the phase, % of the machine (all cores). */
  otherPct: number;
  conflicts: number;
  errors: number;
}

export interface ActorLoadResult {
  /** The best phase of each kind (phases may repeat, alternating, so that noise from other work hits both). */
  raw?: PhaseResult;
  deliver?: PhaseResult;
  /** Every phase in order. */
  all: { phase: 'raw' | 'deliver'; opsPerS: number }[];
  snapshotBytes: number;
}

async function phase(
  durationMs: number,
  concurrency: number,
  body: (loop: number, record: (ms: number) => void, stop: () => boolean) => Promise<void>,
  redisPid?: number,
): Promise<{ ops: number; lat: number[]; cpuPct: number; wall: number; redisCpuPct: number | null; otherPct: number }> {
  const lat: number[] = [];
  const end = performance.now() + durationMs;
  const stop = () => performance.now() >= end;
  let ops = 0;
  const record = (ms: number) => {
    ops++;
    if (lat.length < 200_000) lat.push(ms);
  };
  const meter = new CpuMeter({ redis: redisPid }).start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => body(i, record, stop)));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const window = meter.stop();
  const redisCpu = window.byPid.redis;
  const cpuPct = ((cpu.user + cpu.system) / 1000 / wall) * 100;
  const redisCpuPct = redisCpu === undefined || Number.isNaN(redisCpu) ? null : redisCpu;
  // Other actor processes of this run count as "other" here; the section subtracts them.
  return { ops, lat, cpuPct, wall, redisCpuPct, otherPct: otherShare(window, cpuPct + (redisCpuPct ?? 0)) };
}

async function main(): Promise<void> {
  const cfg = scriptConfig<ActorLoadConfig>();
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 5, enableAutoPipelining: cfg.autoPipelining ?? false });
  const metrics = new CountingMetrics();
  const deliverer = makeDeliverer(redis, cfg.prefix, metrics);
  const tag = `${process.pid}`;
  let seq = 0;
  let errors = 0;

  // A snapshot as stored for a call in `live`: the raw baseline writes values of the same size.
  const sample = await (async () => {
    const id = `sample-${tag}`;
    await runLifecycle(deliverer, id, 7);
    const raw = await redis.hget(`${cfg.prefix}:call:{${id}}`, 'snapshot');
    return raw ?? '';
  })();
  const value = sample.length > 0 ? sample : 'x'.repeat(2000);

  const deliverLoop = async (loop: number, record: (ms: number) => void, stop: () => boolean) => {
    while (!stop()) {
      const callId = `b${tag}-${loop}-${seq++}`;
      try {
        let t = performance.now();
        const created = await deliverer.create(callInput(callId), META_OFFER_SDP);
        if (created.status !== 'created') errors++;
        record(performance.now() - t);
        for (const ev of LIFECYCLE) {
          if (stop()) break;
          t = performance.now();
          const out = await deliverer.deliver(callId, ev);
          if (out.status !== 'applied') errors++;
          record(performance.now() - t);
        }
      } catch {
        errors++;
      }
    }
  };
  const rawLoop = async (loop: number, record: (ms: number) => void, stop: () => boolean) => {
    const key = `${cfg.prefix}:raw:${tag}:${loop}`;
    while (!stop()) {
      const t = performance.now();
      await redis.get(key);
      await redis.set(key, value);
      record(performance.now() - t);
    }
  };

  // Warm up both paths (JIT, Lua script cache), then wait for the common start.
  await phase(cfg.warmupMs / 2, cfg.concurrency, rawLoop);
  await phase(cfg.warmupMs / 2, cfg.concurrency, deliverLoop);
  const wait = cfg.startAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));

  const result: ActorLoadResult = { snapshotBytes: value.length, all: [] };
  for (const p of cfg.phases) {
    const conflicts0 = metrics.conflicts;
    errors = 0;
    const r = await phase(cfg.durationMs, cfg.concurrency, p === 'raw' ? rawLoop : deliverLoop, cfg.redisPid);
    const s = summarize(r.lat);
    const phaseResult: PhaseResult = {
      opsPerS: r.ops / (r.wall / 1000),
      ops: r.ops,
      latencyMs: { p50: s.p50, p99: s.p99 },
      cpuPct: r.cpuPct,
      redisCpuPct: r.redisCpuPct,
      otherPct: r.otherPct,
      conflicts: metrics.conflicts - conflicts0,
      errors,
    };
    result.all.push({ phase: p, opsPerS: phaseResult.opsPerS });
    const prev = result[p];
    if (!prev || phaseResult.opsPerS > prev.opsPerS) result[p] = phaseResult;
  }
  redis.disconnect();
  emitResult(result);
  process.exit(0);
}

void main().catch((err) => {
  process.stderr.write(`actor-load failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

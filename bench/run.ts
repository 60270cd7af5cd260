/**
 * `npm run bench` — quick mode (≈3 min on 2 cores); `npm run bench -- --full` for the long runs (≈15 min);
 * `--only ingest,actor,setup,media` runs some sections. Prints one table (stdout; progress goes to stderr) and
 * writes bench/results/latest.json. Every figure is set against a baseline measured in the same run on the same
 * machine. All load targets loopback, is bounded in count and time, and every process started here is stopped,
 * whatever happens.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { resolveRedis } from '../src/shared/embedded-redis.js';
import { silentLogger } from '../src/shared/log.js';
import { machineInfo, processCpuMs, QuietGate } from './lib/cpu.js';
import { guardChildren, RESULTS_DIR, stopEverything } from './lib/procs.js';
import { type Row, renderTable } from './lib/table.js';
import { attempt, fmt, isError, log, summarize } from './lib/util.js';
import { type ActorResult, runActor } from './sections/actor.js';
import { type MediaResult, mediaStepClean, runCalls, type SetupResult } from './sections/calls.js';
import { type EnginesResult, engineRows, runEngines } from './sections/engines.js';
import { type IngestResult, runIngest } from './sections/ingest.js';
import { type QueueResult, queueRows, runQueue } from './sections/queue.js';

const SECTIONS = ['ingest', 'actor', 'setup', 'media', 'queue'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]): { full: boolean; only: Set<Section> } {
  let full = false;
  let only = new Set<Section>(SECTIONS);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--full') full = true;
    else if (a === '--quick') full = false;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[++i] ?? '');
      const picked = v.split(',').map((s) => s.trim());
      const bad = picked.filter((p) => !(SECTIONS as readonly string[]).includes(p));
      if (bad.length) throw new Error(`--only: unknown section ${bad.join(', ')} (use ${SECTIONS.join(', ')})`);
      only = new Set(picked as Section[]);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'npm run bench [-- --full] [-- --only ingest,actor,setup,media,queue]\n  quick by default (≈3 min); --full ≈15 min\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return { full, only };
}

const MODES = {
  quick: {
    ingest: { warmupMs: 1000, durationMs: 3000, concurrency: 16, moderateRate: 200, loadFractions: [0.5], rounds: 3 },
    actor: { warmupMs: 1000, durationMs: 2000, concurrency: 16, rounds: 2, conflictEvents: 400, memoryCalls: 200 },
    calls: { setupCalls: 6, listenMs: 1200, ramp: [1, 5, 10, 15], settleMs: 1500, windowMs: 4000 },
    /** Both media engines side by side (part of the media section). */
    engines: {
      forwardRamp: [10, 50, 100],
      wrtcRamp: [1, 5, 10],
      references: 2,
      waiting: 100,
      serviceCalls: 100,
      settleMs: 1500,
      windowMs: 4000,
    },
    /** Business-answered callers waiting on one forward media process, then hand-overs to one agent. */
    queue: { waiting: 10, windowMs: 4000, handovers: 3, talkMs: 500 },
    /** Waiting for other people's work to calm down: at most this long per measurement, and in all. */
    quiet: { perWaitMs: 10_000, budgetMs: 30_000, reruns: 4 },
  },
  full: {
    ingest: {
      warmupMs: 3000,
      durationMs: 10_000,
      concurrency: 16,
      moderateRate: 200,
      loadFractions: [0.25, 0.5],
      rounds: 3,
    },
    actor: { warmupMs: 2000, durationMs: 5000, concurrency: 16, rounds: 3, conflictEvents: 2000, memoryCalls: 1000 },
    calls: { setupCalls: 20, listenMs: 2000, ramp: [1, 5, 10, 15, 20], settleMs: 3000, windowMs: 15_000 },
    engines: {
      forwardRamp: [10, 50, 100, 150],
      wrtcRamp: [1, 5, 10, 15],
      references: 2,
      waiting: 150,
      serviceCalls: 100,
      settleMs: 3000,
      windowMs: 10_000,
    },
    queue: { waiting: 20, windowMs: 10_000, handovers: 6, talkMs: 1000 },
    quiet: { perWaitMs: 60_000, budgetMs: 300_000, reruns: 10 },
  },
} as const;

/** Redis's pid when it runs on this machine (its CPU is part of every figure's cost). */
async function localRedisPid(url: string): Promise<number | undefined> {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return undefined;
  const r = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const info = await r.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return Number.isFinite(pid) && processCpuMs(pid) !== null ? pid : undefined;
  } finally {
    r.disconnect();
  }
}

/** Other people's share of the machine during every measured window of the run (%, all cores). */
function othersDuring(
  ingest: IngestResult | undefined,
  actor: ActorResult | undefined,
  media: MediaResult | undefined,
): number[] {
  const out: number[] = [];
  if (ingest) {
    for (const r of [...ingest.maxRounds, ...ingest.latency.flatMap((p) => [p.bare, p.http]), ...ingest.scale])
      out.push(r.otherPct);
  }
  if (actor)
    out.push(actor.raw.otherPct, actor.deliver.otherPct, actor.rawSerial.otherPct, actor.deliverSerial.otherPct);
  if (media) for (const s of media.steps) out.push(s.otherPct);
  return out.filter((v) => Number.isFinite(v));
}

const x = (v: number, d = 2) => (Number.isFinite(v) ? `${v.toFixed(d)}` : '—');
/** A ratio against a goal: one more digit when two would round across it (0.498 is not "0.50"). */
const xGoal = (v: number, goal: number) => (x(v) === x(goal) && v !== goal ? x(v, 3) : x(v));
const ms = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '—' : `${fmt(v, d)} ms`);
const pct = (v: number, d = 1) => `${fmt(v, d)} %`;
const mb = (b: number) => `${fmt(b / 2 ** 20, 1)} MB`;
const bytes = (b: number) => `${Math.round(b).toLocaleString('en-US')} B`;
const rate = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`;
const status = (ok: boolean) => (ok ? 'ok' : 'MISS');

/** Other work during the windows behind a row: the worst of them, as "12 %" (or '' when not measured). */
const oth = (...v: (number | undefined)[]) => {
  const f = v.filter((n): n is number => n !== undefined && Number.isFinite(n));
  return f.length ? `${Math.round(Math.max(...f))} %` : '';
};

/** Each max-rate round's http/bare ratio (rounds alternate bare, http), as " (rounds 0.49–0.55)". */
function ingestSpread(r: IngestResult): string {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < r.maxRounds.length; i += 2) {
    const [bare, http] = [r.maxRounds[i]!, r.maxRounds[i + 1]!];
    if (bare.http === 0 && http.http === 1) ratios.push(http.result.rate / bare.result.rate);
  }
  if (ratios.length < 2) return '';
  return ` (rounds ${x(Math.min(...ratios))}–${x(Math.max(...ratios))})`;
}

function ingestRows(r: IngestResult, inFlight: number): Row[] {
  const rows: Row[] = [];
  const ratio = r.httpMax.result.rate / r.bareMax.result.rate;
  const maxOthers = oth(r.httpMax.otherPct, r.bareMax.otherPct);
  rows.push({
    item: '1 ingest',
    what: `signed connect+terminate webhooks/s, 1 http process (max, ${inFlight} in flight)`,
    value: rate(r.httpMax.result.rate),
    baseline: `bare Hono + HMAC ${rate(r.bareMax.result.rate)}`,
    ratio: `${xGoal(ratio, 0.5)}${ingestSpread(r)}`,
    goal: '≥ 0.5',
    status: status(ratio >= 0.5),
    others: maxOthers,
  });
  rows.push({
    item: '1 ingest',
    what: 'CPU per webhook at max: http process (+ Redis)',
    value: `${x(r.httpMax.serverCpuMsPerWebhook, 3)} (+${x(r.httpMax.redisCpuMsPerWebhook ?? Number.NaN, 3)}) ms`,
    baseline: `bare ${x(r.bareMax.serverCpuMsPerWebhook, 3)} ms`,
    ratio: `${x(r.httpMax.serverCpuMsPerWebhook / r.bareMax.serverCpuMsPerWebhook, 0)}×`,
    goal: '',
    status: '',
    others: maxOthers,
  });
  r.latency.forEach((p, i) => {
    rows.push({
      item: '1 ingest',
      what:
        i === 0
          ? `p50 / p99 at ${p.rate}/s ("moderate": ≈${p.rate / 2} calls/s; ${Math.round(p.fraction * 100)} % of http max)`
          : `p50 / p99 at ${p.rate}/s (${Math.round(p.fraction * 100)} % of http max)`,
      value: `${x(p.http.result.latencyMs.p50, 1)} / ${x(p.http.result.latencyMs.p99, 1)} ms`,
      baseline: `bare ${x(p.bare.result.latencyMs.p50, 1)} / ${x(p.bare.result.latencyMs.p99, 1)} ms`,
      ratio: `${x(p.http.result.latencyMs.p99 / p.bare.result.latencyMs.p99, 1)}× (p99)`,
      goal: i === 0 ? 'p99 < 10 ms' : '',
      status: i === 0 ? status(p.http.result.latencyMs.p99 < 10) : '',
      others: oth(p.http.otherPct, p.bare.otherPct),
    });
  });
  if (r.httpWorkerModerate) {
    const w = r.httpWorkerModerate;
    const bare = r.latency[0]?.bare;
    rows.push({
      item: '1 ingest',
      what: `p50 / p99 at ${r.latency[0]?.rate}/s with a worker running (as deployed)`,
      value: `${x(w.result.latencyMs.p50, 1)} / ${x(w.result.latencyMs.p99, 1)} ms`,
      baseline: bare ? `bare ${x(bare.result.latencyMs.p50, 1)} / ${x(bare.result.latencyMs.p99, 1)} ms` : '—',
      ratio: bare ? `${x(w.result.latencyMs.p99 / bare.result.latencyMs.p99, 1)}× (p99)` : '—',
      goal: 'p99 < 10 ms',
      status: status(w.result.latencyMs.p99 < 10),
      others: oth(w.otherPct, bare?.otherPct),
    });
  }
  return rows;
}

/** Each round's deliver/raw ratio (phases alternate raw, deliver), as "0.28–0.33 over 3 rounds". */
function actorSpread(r: ActorResult): string {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < r.rounds.length; i += 2) {
    const [raw, deliver] = [r.rounds[i]!, r.rounds[i + 1]!];
    if (raw.phase === 'raw' && deliver.phase === 'deliver') ratios.push(deliver.opsPerS / raw.opsPerS);
  }
  if (ratios.length < 2) return '';
  return ` (rounds ${x(Math.min(...ratios))}–${x(Math.max(...ratios))})`;
}

function actorRows(r: ActorResult): Row[] {
  const rows: Row[] = [];
  const ratio = r.deliver.opsPerS / r.raw.opsPerS;
  rows.push({
    item: '2 actor',
    what: 'events/s through the store (transition→CAS→outbox), 16 calls in flight',
    value: rate(r.deliver.opsPerS),
    baseline: `raw GET+SET ${rate(r.raw.opsPerS)}`,
    ratio: `${xGoal(ratio, 0.3)}${actorSpread(r)}`,
    goal: '≥ 0.3',
    status: status(ratio >= 0.3),
    others: oth(r.deliver.otherPct, r.raw.otherPct),
  });
  rows.push({
    item: '2 actor',
    what: 'the same, one call at a time (latency p50)',
    value: `${rate(r.deliverSerial.opsPerS)} (${x(r.deliverSerial.latencyMs.p50, 2)} ms)`,
    baseline: `raw ${rate(r.rawSerial.opsPerS)} (${x(r.rawSerial.latencyMs.p50, 2)} ms)`,
    ratio: x(r.deliverSerial.opsPerS / r.rawSerial.opsPerS),
    goal: '',
    status: '',
    others: oth(r.deliverSerial.otherPct, r.rawSerial.otherPct),
  });
  const m = r.memory;
  rows.push({
    item: '2 actor',
    what: `Redis bytes per call, its own keys: ringing (${m.ringing.callKeys} keys) / ended (${m.ended.callKeys})`,
    value: `${bytes(m.ringing.callKeysBytes)} / ${bytes(m.ended.callKeysBytes)}`,
    baseline: `payload ${bytes(m.ringing.payloadBytes)} / ${bytes(m.ended.payloadBytes)}`,
    ratio: `${x(m.ringing.callKeysBytes / m.ringing.payloadBytes, 1)}× / ${x(m.ended.callKeysBytes / m.ended.payloadBytes, 1)}×`,
    goal: '',
    status: '',
    others: '',
  });
  rows.push({
    item: '2 actor',
    what: 'Redis bytes per call, all keys (+ indexes, BullMQ jobs): ringing / ended',
    value: `${bytes(m.ringingAllKeysPerCall)} / ${bytes(m.endedAllKeysPerCall)}`,
    baseline: `own keys ${bytes(m.ringing.callKeysBytes)}`,
    ratio: `${x(m.ringingAllKeysPerCall / m.ringing.callKeysBytes, 1)}×`,
    goal: '',
    status: '',
    others: '',
  });
  const c = r.conflicts;
  rows.push({
    item: '2 actor',
    what: `CAS retries per event, ${c.writers} writers on one call (${c.events} events)`,
    value: `${x(c.retriesPerEvent)} (${rate(c.eventsPerS)})`,
    baseline: `1 writer: 0 (${rate(c.singleWriterEventsPerS)})`,
    ratio: x(c.eventsPerS / c.singleWriterEventsPerS),
    goal: '',
    status: '',
    others: '',
  });
  return rows;
}

function setupRows(r: SetupResult): Row[] {
  const n = `${r.acceptSentMs.n} calls`;
  const others = oth(r.otherPct);
  const lost = r.calls.reduce((a, c) => a + c.lostMarkers, 0);
  const expected = r.calls.reduce((a, c) => a + c.expectedMarkers, 0);
  return [
    {
      item: '3 setup',
      what: `webhook sent → first agent offered, p50 (max), ${n}`,
      value: `${ms(r.offeredMs.p50, 0)} (${ms(r.offeredMs.max, 0)})`,
      baseline: `webhook answered ${ms(r.webhookMs.p50, 0)}`,
      ratio: x(r.offeredMs.p50 / r.webhookMs.p50, 1),
      goal: '',
      status: '',
      others,
    },
    {
      item: '3 setup',
      what: 'agent accept → `accept` sent to Meta, p50 (max)',
      value: `${ms(r.acceptSentMs.p50, 0)} (${ms(r.acceptSentMs.max, 0)})`,
      baseline: `fixed, pre_accept + 1 s: ${ms(r.fixedAcceptSentMs.p50, 0)}`,
      ratio: x(r.acceptSentMs.p50 / r.fixedAcceptSentMs.p50),
      goal: '≤ 100 ms p50',
      status: status(r.acceptSentMs.p50 <= 100),
      others,
    },
    {
      item: '3 setup',
      what: 'Meta accept → first caller audio at the agent, p50 (max)',
      value: `${ms(r.callerAudioAtAgentMs.p50, 0)} (${ms(r.callerAudioAtAgentMs.max, 0)})`,
      baseline: '—',
      ratio: '—',
      goal: '≤ 100 ms p50',
      status: status(r.callerAudioAtAgentMs.p50 <= 100),
      others,
    },
    {
      item: '3 setup',
      what: 'Meta accept → first agent audio at the caller, p50 (max)',
      value: `${ms(r.agentAudioAtCallerMs.p50, 0)} (${ms(r.agentAudioAtCallerMs.max, 0)})`,
      baseline: '—',
      ratio: '—',
      goal: '',
      status: '',
      others,
    },
    {
      item: '3 setup',
      what: 'audio clipped after accept, worst call: caller→agent / agent→caller',
      value: `${ms(r.clippedCallerToAgentMs.max, 0)} / ${ms(r.clippedAgentToCallerMs.max, 0)}`,
      baseline: '—',
      ratio: '—',
      goal: '0 ms',
      status: status(
        r.clippedCallerToAgentMs.max === 0 && r.clippedAgentToCallerMs.max === 0 && r.failures.length === 0,
      ),
      others,
    },
    {
      item: '3 setup',
      what: '100 ms markers lost after accept (anywhere in the window), all calls, both ways',
      value: `${lost} of ${expected}`,
      baseline: '—',
      ratio: expected > 0 ? `${((lost / expected) * 100).toFixed(2)} %` : '—',
      goal: '< 1 %',
      status: status(expected > 0 && lost / expected < 0.01),
      others,
    },
  ];
}

function mediaRows(r: MediaResult): Row[] {
  const rows: Row[] = [];
  const steps = r.steps.map((s) => `${s.calls}:${s.verified}`).join(' ');
  rows.push({
    item: '4 media',
    what: `bridged calls on 1 media process, all verified & < 1 % loss (N:verified ${steps})`,
    value: `${r.maxVerified} of ${Math.max(...r.steps.map((s) => s.calls))} tried`,
    baseline: `MEDIA_CAPACITY ${r.capacitySetting}`,
    ratio: x(r.maxVerified / r.capacitySetting),
    goal: `≥ ${r.capacitySetting}`,
    status: status(r.maxVerified >= r.capacitySetting),
    others: oth(...r.steps.map((s) => s.otherPct)),
  });
  const last = r.steps[r.steps.length - 1];
  const first = r.steps[0];
  const lastOk = [...r.steps].reverse().find(mediaStepClean) ?? first;
  if (first && last && lastOk) {
    rows.push({
      item: '4 media',
      what: `media CPU per call, % of a core: N=${first.calls} / N=${last.calls} (sims ${pct(last.simCpuPct, 0)}, machine ${pct(last.machineBusyPct, 0)} busy at N=${last.calls})`,
      value: `${pct(first.cpuPerCallPct)} / ${pct(last.cpuPerCallPct)}`,
      baseline: `idle node ${pct(r.idleCpuPct)}`,
      ratio: '—',
      goal: '',
      status: '',
      others: oth(first.otherPct, last.otherPct),
    });
    const perCore = (100 - r.idleCpuPct) / lastOk.cpuPerCallPct;
    rows.push({
      item: '4 media',
      what: `projected bridged calls per core (a core to itself, CPU/call at N=${lastOk.calls})`,
      value: `≈ ${Math.floor(perCore)}`,
      baseline: `MEDIA_CAPACITY ${r.capacitySetting}`,
      ratio: x(Math.floor(perCore) / r.capacitySetting),
      goal: '',
      status: '',
      others: oth(lastOk.otherPct),
    });
    const slope =
      last.calls > first.calls ? (last.rssBytes - first.rssBytes) / (last.calls - first.calls) : last.rssPerCallBytes;
    rows.push({
      item: '4 media',
      what: `media RSS floor: per extra call (N=${first.calls}→${last.calls}) / total at N=${last.calls}`,
      value: `${slope > 0 ? mb(slope) : '< GC noise'} / ${mb(last.rssBytes)}`,
      baseline: `idle node ${mb(r.idleRssBytes)}`,
      ratio: '—',
      goal: '',
      status: '',
      others: '',
    });
  }
  const added = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v), 0)} ms`);
  rows.push({
    item: '4 media',
    what: 'one-way latency at N=1 (markers): caller→agent / agent→caller',
    value: `${ms(first?.latencyCallerToAgentMs, 0)} / ${ms(first?.latencyAgentToCallerMs, 0)}`,
    baseline: `direct wrtc ${ms(r.direct.callerToAgentMs, 0)} / ${ms(r.direct.agentToCallerMs, 0)}`,
    ratio: `${added(r.addedCallerToAgentMs)} / ${added(r.addedAgentToCallerMs)}`,
    goal: '',
    status: '',
    others: oth(first?.otherPct, r.direct.otherPct),
  });
  return rows;
}

function scaleRows(ingest: IngestResult | undefined, actor: ActorResult | undefined, cpus: number): Row[] {
  const rows: Row[] = [];
  if (ingest && ingest.scale.length > 1) {
    const base = ingest.scale[0]!;
    for (const s of ingest.scale.slice(1)) {
      rows.push({
        item: '5 scale',
        what: `ingest max: ${s.http} http + ${s.workers} worker${s.workers === 1 ? '' : 's'} (machine ${pct(s.result.cpu?.machineBusyPct ?? Number.NaN, 0)} busy of ${cpus} cores)`,
        value: rate(s.result.rate),
        baseline: `1 http, no worker ${rate(base.result.rate)}`,
        ratio: x(s.result.rate / base.result.rate),
        goal: '',
        status: '',
        others: oth(s.otherPct, base.otherPct),
      });
    }
  }
  if (actor && actor.scale.length > 1) {
    const [one, two] = actor.scale;
    rows.push({
      item: '5 scale',
      what: 'actor events/s: 2 processes vs 1 (raw GET+SET in brackets)',
      value: `${rate(two!.deliver)} (raw ${rate(two!.raw)})`,
      baseline: `1 process ${rate(one!.deliver)} (raw ${rate(one!.raw)})`,
      ratio: `${x(two!.deliver / one!.deliver)} (raw ${x(two!.raw / one!.raw)})`,
      goal: '',
      status: '',
      others: oth(one!.otherPct, two!.otherPct),
    });
  }
  return rows;
}

function failedRow(item: string, error: string): Row {
  return {
    item,
    what: `FAILED: ${error.slice(0, 140)}`,
    value: '—',
    baseline: '—',
    ratio: '—',
    goal: '',
    status: 'MISS',
    others: '',
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  guardChildren();
  const mode = args.full ? MODES.full : MODES.quick;
  const started = Date.now();
  const machine = machineInfo();
  log(`${args.full ? 'full' : 'quick'} run on ${machine.cpus} × ${machine.model}, Node ${machine.node}`);
  const redis = await resolveRedis(
    { url: process.env.REDIS_URL, defaultUrl: process.env.REDIS_DEFAULT_URL ?? 'redis://127.0.0.1:6379' },
    silentLogger,
  );
  const redisPid = await localRedisPid(redis.url);
  const gate = new QuietGate(mode.quiet.budgetMs, mode.quiet.perWaitMs, mode.quiet.reruns);
  let ingest: IngestResult | { error: string } | undefined;
  let actor: ActorResult | { error: string } | undefined;
  let setup: SetupResult | { error: string } | undefined;
  let media: MediaResult | { error: string } | undefined;
  let engines: EnginesResult | { error: string } | undefined;
  let queue: QueueResult | { error: string } | undefined;
  try {
    if (args.only.has('ingest')) {
      ingest = await attempt('ingest', () =>
        runIngest({ redisUrl: redis.url, redisPid, ...mode.ingest, scale: true, gate }),
      );
    }
    if (args.only.has('actor')) {
      actor = await attempt('actor', () =>
        runActor({ redisUrl: redis.url, redisPid, ...mode.actor, scale: true, gate }),
      );
    }
    if (args.only.has('setup') || args.only.has('media')) {
      const calls = await attempt('setup/media', () =>
        runCalls(
          { redisUrl: redis.url, redisPid, ...mode.calls, gate, stopAtFirstFailure: true },
          { setup: args.only.has('setup'), media: args.only.has('media') },
        ),
      );
      if (isError(calls)) {
        if (args.only.has('setup')) setup = calls;
        if (args.only.has('media')) media = calls;
      } else {
        setup = calls.setup;
        media = calls.media;
      }
    }
    if (args.only.has('media')) {
      engines = await attempt('media engines', () =>
        runEngines({ ...mode.engines, gate, redisUrl: redis.url, redisPid }),
      );
    }
    if (args.only.has('queue')) {
      queue = await attempt('queue', () => runQueue({ redisUrl: redis.url, redisPid, ...mode.queue, gate }));
    }
  } finally {
    await stopEverything();
    await redis.embedded?.stop();
  }

  const rows: Row[] = [];
  const add = <T>(item: string, r: T | { error: string } | undefined, f: (v: T) => Row[]) => {
    if (r === undefined) return;
    rows.push(...(isError(r) ? [failedRow(item, r.error)] : f(r)));
  };
  add('1 ingest', ingest, (r: IngestResult) => ingestRows(r, mode.ingest.concurrency));
  add('2 actor', actor, actorRows);
  add('3 setup', setup, setupRows);
  add('4 media', media, mediaRows);
  add('4 media', engines, engineRows);
  add('5 queue', queue, queueRows);
  rows.push(
    ...scaleRows(
      ingest && !isError(ingest) ? ingest : undefined,
      actor && !isError(actor) ? actor : undefined,
      machine.cpus,
    ),
  );
  const elapsedS = Math.round((Date.now() - started) / 1000);
  const ok = <T>(r: T | { error: string } | undefined): T | undefined => (r && !isError(r) ? r : undefined);
  const during = othersDuring(ok(ingest), ok(actor), ok(media));
  const waited = gate.waits.reduce((a, w) => a + w.waitedMs, 0);
  const noisy = during.filter((v) => v > 20).length;
  const bgText = during.length
    ? `median ${fmt(summarize(during).p50, 0)} %, max ${fmt(Math.max(...during), 0)} % of the machine over ${during.length} windows (${noisy} above 20 %); waited ${fmt(waited / 1000, 0)} s for quiet, ran ${gate.reruns.length} measurement(s) again`
    : '—';
  const footer = [
    `${args.full ? 'full' : 'quick'} run, ${new Date(started).toISOString()}, ${elapsedS} s: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}, Linux ${machine.kernel}, Redis ${redis.embedded ? 'embedded' : redis.url}.`,
    `Other people's work on this shared machine while measuring: ${bgText}.`,
    `Load generator, simulator callers and Node agents run in their own processes (not the media node's), on the same ${machine.cpus} cores as the service and Redis.`,
  ];
  const table = renderTable(rows);
  process.stdout.write(`\n${table}\n\n${footer.join('\n')}\n`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        mode: args.full ? 'full' : 'quick',
        startedAt: new Date(started).toISOString(),
        elapsedS,
        machine: { ...machine, loadavg: os.loadavg() },
        otherWorkPct: during,
        quietWaits: gate.waits,
        reruns: gate.reruns,
        config: mode,
        table,
        rows,
        results: { ingest, actor, setup, media, engines },
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), file)}`);
  const failed = [ingest, actor, setup, media, engines].some((r) => r !== undefined && isError(r));
  process.exit(failed ? 1 : 0);
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  await stopEverything();
  process.exit(1);
});

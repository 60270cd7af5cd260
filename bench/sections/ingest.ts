/**
 * 1. Webhook ingest (and 5. its scale shape): signed connect + terminate webhooks through the real http role, against
 * a bare Hono handler that only checks the HMAC, driven by the same load generator in its own process.
 */
import { DEMO } from '../../src/shared/config.js';
import { META_OFFER_SDP } from '../../src/testing/sdp-fixtures.js';
import type { LoadgenConfig, LoadgenResult } from '../loadgen.js';
import { type Child, type RoleChild, runScript, spawnNode, spawnRole, stopAll } from '../lib/procs.js';
import { benchPrefix, cleanupPrefix, log } from '../lib/util.js';

export interface IngestOptions {
  redisUrl: string;
  redisPid: number | undefined;
  warmupMs: number;
  durationMs: number;
  concurrency: number;
  /** Fraction of the http role's max rate used as "moderate" load for the latency figures. */
  moderateFraction: number;
  scale: boolean;
}

export interface IngestRun {
  label: string;
  http: number;
  workers: number;
  result: LoadgenResult;
  /** CPU ms per webhook of the server process(es) and of Redis, in the measured window. */
  serverCpuMsPerWebhook: number;
  redisCpuMsPerWebhook: number | null;
}

export interface IngestResult {
  bareMax: IngestRun;
  httpMax: IngestRun;
  moderateRate: number;
  bareModerate: IngestRun;
  httpModerate: IngestRun;
  /** http + one worker (what production runs) at the moderate rate. */
  httpWorkerModerate: IngestRun | undefined;
  scale: IngestRun[];
  prefix: string;
}

const BUSINESS = { phoneNumberId: DEMO.phoneNumberId, displayPhoneNumber: DEMO.displayPhoneNumber, wabaId: '200000000000002' };

let runNo = 0;

async function load(
  label: string,
  servers: Child[],
  urls: string[],
  opts: IngestOptions,
  mode: { mode: 'closed' } | { mode: 'open'; rate: number },
  counts: { http: number; workers: number },
): Promise<IngestRun> {
  const watch: Record<string, number> = {};
  for (const s of servers) watch[s.name] = s.pid;
  if (opts.redisPid) watch.redis = opts.redisPid;
  const cfg: LoadgenConfig = {
    targets: urls.map((u) => `${u}/webhooks/whatsapp`),
    appSecret: DEMO.appSecret,
    business: BUSINESS,
    sdp: META_OFFER_SDP,
    mode: mode.mode,
    concurrency: opts.concurrency,
    rate: mode.mode === 'open' ? mode.rate : 0,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    idTag: `${process.pid}-${++runNo}-${Date.now().toString(36)}`,
    watchPids: watch,
  };
  const result = await runScript<LoadgenResult>(`loadgen-${runNo}`, 'bench/loadgen.ts', cfg, {
    timeoutMs: opts.warmupMs + opts.durationMs + 60_000,
  });
  const windowS = opts.durationMs / 1000;
  const cpu = result.cpu?.byPid ?? {};
  const serverPct = servers.reduce((a, s) => a + (cpu[s.name] ?? Number.NaN), 0);
  const perWebhook = (pct: number) => (result.completed > 0 ? ((pct / 100) * windowS * 1000) / result.completed : NaN);
  const run: IngestRun = {
    label,
    ...counts,
    result,
    serverCpuMsPerWebhook: perWebhook(serverPct),
    redisCpuMsPerWebhook: cpu.redis !== undefined ? perWebhook(cpu.redis) : null,
  };
  log(
    `  ${label}: ${result.rate.toFixed(0)}/s p50 ${result.latencyMs.p50.toFixed(2)} ms p99 ${result.latencyMs.p99.toFixed(2)} ms, errors ${result.errors}, server CPU ${serverPct.toFixed(0)} %, ${run.serverCpuMsPerWebhook.toFixed(3)} ms/webhook`,
  );
  return run;
}

export async function runIngest(opts: IngestOptions): Promise<IngestResult> {
  const prefix = benchPrefix('i');
  // The http role talks to no Graph API here (terminating a ringing call needs none); point it nowhere so demo mode
  // does not start its embedded simulator.
  const env = { GRAPH_API_BASE_URL: 'http://127.0.0.1:9', WRAP_UP_SECONDS: '0' };
  const children: (Child | undefined)[] = [];
  try {
    log('ingest: starting the bare handler and one http role');
    const [bare, http1] = await Promise.all([
      spawnNode('bare-server', ['bench/bare-server.ts'], {
        env: { APP_SECRET: DEMO.appSecret, PORT: '0' },
        ready: /listening on \d+/,
      }),
      spawnRole('http', 'http-1', opts.redisUrl, prefix, env),
    ]);
    children.push(bare, http1);
    const barePort = /listening on (\d+)/.exec(bare.output())?.[1];
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const one = { http: 1, workers: 0 };

    const bareMax = await load('bare, max', [bare], [bareUrl], opts, { mode: 'closed' }, { http: 0, workers: 0 });
    const httpMax = await load('http, max', [http1], [http1.url], opts, { mode: 'closed' }, one);
    const moderateRate = Math.max(20, Math.round((httpMax.result.rate * opts.moderateFraction) / 10) * 10);
    const bareModerate = await load(
      `bare @${moderateRate}/s`,
      [bare],
      [bareUrl],
      opts,
      { mode: 'open', rate: moderateRate },
      { http: 0, workers: 0 },
    );
    const httpModerate = await load(
      `http @${moderateRate}/s`,
      [http1],
      [http1.url],
      opts,
      { mode: 'open', rate: moderateRate },
      one,
    );
    await bare.stop();

    const scale: IngestRun[] = [httpMax];
    let httpWorkerModerate: IngestRun | undefined;
    if (opts.scale) {
      log('ingest scale: + worker 1');
      const w1 = await spawnRole('worker', 'worker-1', opts.redisUrl, prefix, env);
      children.push(w1);
      httpWorkerModerate = await load(
        `http+worker @${moderateRate}/s`,
        [http1, w1],
        [http1.url],
        opts,
        { mode: 'open', rate: moderateRate },
        { http: 1, workers: 1 },
      );
      scale.push(await load('1 http + 1 worker, max', [http1, w1], [http1.url], opts, { mode: 'closed' }, { http: 1, workers: 1 }));
      log('ingest scale: + http 2');
      const http2: RoleChild = await spawnRole('http', 'http-2', opts.redisUrl, prefix, env);
      children.push(http2);
      scale.push(
        await load(
          '2 http + 1 worker, max',
          [http1, http2, w1],
          [http1.url, http2.url],
          opts,
          { mode: 'closed' },
          { http: 2, workers: 1 },
        ),
      );
      log('ingest scale: + worker 2');
      const w2 = await spawnRole('worker', 'worker-2', opts.redisUrl, prefix, env);
      children.push(w2);
      scale.push(
        await load(
          '2 http + 2 workers, max',
          [http1, http2, w1, w2],
          [http1.url, http2.url],
          opts,
          { mode: 'closed' },
          { http: 2, workers: 2 },
        ),
      );
    }
    return { bareMax, httpMax, moderateRate, bareModerate, httpModerate, httpWorkerModerate, scale, prefix };
  } finally {
    await stopAll(children);
    await cleanupPrefix(opts.redisUrl, prefix).catch(() => 0);
  }
}

/**
 * Load generator for webhook ingest, in its own process (started by bench/run.ts). Sends signed `calls` webhooks
 * the way Meta does — a `connect` with a real-shaped SDP offer and a unique call id, then its `terminate` once the
 * connect was answered — over keep-alive HTTP/1.1 to one or more targets (round robin, like a load balancer).
 *
 * closed: `concurrency` calls in flight, each connect → terminate, as fast as the server answers (max throughput).
 * open:   connects start on a fixed schedule (`rate` webhooks/s counting both), latency from the scheduled start,
 *         so a server that falls behind shows it (no coordinated omission).
 */
import http from 'node:http';
import { signBody } from '../src/http/webhook.routes.js';
import { type BusinessNumber, callsEnvelope, connectCall, terminateCall } from '../src/sim/webhook-sender.js';
import { CpuMeter, type CpuWindow } from './lib/cpu.js';
import { emitResult, scriptConfig } from './lib/procs.js';
import { summarize } from './lib/util.js';

export interface LoadgenConfig {
  targets: string[];
  appSecret: string;
  business: BusinessNumber;
  sdp: string;
  mode: 'closed' | 'open';
  concurrency: number;
  /** open mode: webhooks per second (connects + terminates). */
  rate: number;
  warmupMs: number;
  durationMs: number;
  idTag: string;
  /** Processes whose CPU is measured over the window (server, Redis…): name → pid. */
  watchPids?: Record<string, number>;
}

export interface LoadgenResult {
  mode: 'closed' | 'open';
  targets: number;
  /** Webhooks completed per second in the measured window. */
  rate: number;
  completed: number;
  errors: number;
  statuses: Record<string, number>;
  /** Outcomes reported by the server in a sample of responses (`created`, `applied`, …); empty for the bare server. */
  outcomes: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number; n: number };
  connectMs: { p50: number; p99: number };
  terminateMs: { p50: number; p99: number };
  /** CPU the load generator itself used, % of one core. */
  loadgenCpuPct: number;
  windowMs: number;
  calls: number;
  /** CPU of the watched processes over the measured window, % of one core, and the machine's busy %. */
  cpu: CpuWindow | null;
}

const PLACEHOLDER = 'CALLIDPLACEHOLDER';

function templates(cfg: LoadgenConfig): { connect: [string, string]; terminate: [string, string] } {
  const biz = cfg.business;
  const from = '919800012345';
  const connect = JSON.stringify(
    callsEnvelope(
      biz,
      [connectCall(biz, { callId: PLACEHOLDER, from, name: 'Bench Caller', sdp: cfg.sdp })],
      [{ waId: from, name: 'Bench Caller' }],
    ),
  );
  const terminate = JSON.stringify(
    callsEnvelope(biz, [terminateCall(biz, { callId: PLACEHOLDER, from, status: 'COMPLETED' })]),
  );
  const split = (s: string): [string, string] => {
    const i = s.indexOf(PLACEHOLDER);
    if (i < 0 || s.indexOf(PLACEHOLDER, i + 1) >= 0) throw new Error('template must hold the call id once');
    return [s.slice(0, i), s.slice(i + PLACEHOLDER.length)];
  };
  return { connect: split(connect), terminate: split(terminate) };
}

async function main(): Promise<void> {
  const cfg = scriptConfig<LoadgenConfig>();
  const tpl = templates(cfg);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(cfg.concurrency, 64), maxFreeSockets: 256 });
  const urls = cfg.targets.map((t) => new URL(t));
  let rr = 0;
  let seq = 0;

  const t0 = performance.now();
  const measureFrom = t0 + cfg.warmupMs;
  const measureTo = measureFrom + cfg.durationMs;
  let stopping = false;

  const lat: number[] = [];
  const latConnect: number[] = [];
  const latTerminate: number[] = [];
  const statuses: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let completedInWindow = 0;
  let errors = 0;
  let sampled = 0;
  let calls = 0;

  const post = (kind: 'connect' | 'terminate', callId: string, scheduledAt: number): Promise<void> => {
    const [a, b] = tpl[kind];
    const body = a + callId + b;
    const url = urls[rr++ % urls.length]!;
    return new Promise<void>((resolve) => {
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-hub-signature-256': signBody(body, cfg.appSecret),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const end = performance.now();
            const status = String(res.statusCode);
            if (scheduledAt >= measureFrom && scheduledAt < measureTo) {
              statuses[status] = (statuses[status] ?? 0) + 1;
              const ms = end - scheduledAt;
              lat.push(ms);
              (kind === 'connect' ? latConnect : latTerminate).push(ms);
              if (res.statusCode !== 200) errors++;
              // A sample of what the server says it did with each item (the bare server says nothing).
              if (sampled++ % 25 === 0) {
                try {
                  const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                    outcomes?: Record<string, number>;
                  };
                  for (const [k, v] of Object.entries(parsed.outcomes ?? {}))
                    outcomes[`${kind}:${k}`] = (outcomes[`${kind}:${k}`] ?? 0) + v;
                } catch {
                  // not JSON: counted by status
                }
              }
            }
            if (end >= measureFrom && end < measureTo) completedInWindow++;
            resolve();
          });
          res.on('error', () => {
            errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  };

  const oneCall = async (scheduledAt: number): Promise<void> => {
    const callId = `wacid.bench-${cfg.idTag}-${seq++}`;
    calls++;
    await post('connect', callId, scheduledAt);
    await post('terminate', callId, performance.now());
  };

  const cpu0 = process.cpuUsage();
  const meter = new CpuMeter(cfg.watchPids ?? {});
  let cpuWindow: CpuWindow | null = null;
  const startMeter = setTimeout(() => meter.start(), Math.max(0, measureFrom - performance.now()));
  const stopMeter = setTimeout(
    () => {
      cpuWindow = meter.stop();
    },
    Math.max(0, measureTo - performance.now()),
  );
  if (cfg.mode === 'closed') {
    const loops = Array.from({ length: cfg.concurrency }, async () => {
      while (!stopping && performance.now() < measureTo) await oneCall(performance.now());
    });
    await Promise.all(loops);
  } else {
    // Each call is two webhooks: connects start every 2000/rate ms.
    const interval = 2000 / cfg.rate;
    const inflight = new Set<Promise<void>>();
    let next = t0;
    while (performance.now() < measureTo) {
      const now = performance.now();
      while (next <= now && next < measureTo) {
        const p = oneCall(next);
        inflight.add(p);
        void p.then(() => inflight.delete(p));
        next += interval;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, next - performance.now()))));
    }
    const drainUntil = performance.now() + 10_000;
    while (inflight.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 10));
  }
  stopping = true;
  clearTimeout(startMeter);
  clearTimeout(stopMeter);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  agent.destroy();

  const s = summarize(lat);
  const c = summarize(latConnect);
  const t = summarize(latTerminate);
  const result: LoadgenResult = {
    mode: cfg.mode,
    targets: urls.length,
    rate: completedInWindow / (cfg.durationMs / 1000),
    completed: completedInWindow,
    errors,
    statuses,
    outcomes,
    latencyMs: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean, n: s.n },
    connectMs: { p50: c.p50, p99: c.p99 },
    terminateMs: { p50: t.p50, p99: t.p99 },
    loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    windowMs: cfg.durationMs,
    calls,
    cpu: cpuWindow,
  };
  emitResult(result);
  process.exit(0);
}

void main().catch((err) => {
  process.stderr.write(`loadgen failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

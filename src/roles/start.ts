import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureConsoleBuilt } from '../http/console-build.js';
import { createCallInspector } from '../machines/inspect.js';
import { createCore } from '../runtime.js';
import { PROJECT_ROOT } from '../shared/config.fields.js';
import type { Config } from '../shared/config.js';
import { keys as makeKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { RedisFactory, waitReady } from '../shared/redis.js';
import { startHttpRole } from './http.role.js';
import { type MediaRole, startMediaRole } from './media.role.js';
import { flushQueue } from './shutdown.js';
import { startWorkerRole } from './worker.role.js';

/** The embedded demo's stand-in for Meta (the WhatsApp simulator), as the roles use it. */
export interface DemoSimulator {
  baseUrl: string;
  placeCall(): Promise<{ callId: string }>;
  /** The caller of a demo call presses keys (the menu: 1 for sales, 2 for support). */
  pressKeys(callId: string, digits: string): Promise<{ ok: true } | { ok: false; error: string }>;
  setWebhookUrl(url: string): void;
  stop(): Promise<void>;
}

export interface StartRolesOptions {
  /** A redis-server was started for this process (said in the banner). */
  embeddedRedis?: boolean;
  /**
   * Starts the simulator that plays Meta in demo mode; the entry point passes it in, so that no role imports test
   * tooling. Without it, demo mode expects GRAPH_API_BASE_URL to name a running simulator.
   */
  startDemo?: (config: Config, logger: Logger) => Promise<DemoSimulator>;
}

/**
 * Starts the roles `config.role` asks for on one Redis and returns a function that stops them in order: stop
 * taking new work (sockets, HTTP, media placements), let running work finish, then close connections.
 */
export async function startRoles(
  config: Config,
  logger: Logger,
  redisUrl: string,
  opts: StartRolesOptions = {},
): Promise<() => Promise<void>> {
  const role = config.role;
  const runHttp = role === 'http' || role === 'all';
  const runWorker = role === 'worker' || role === 'all';
  const runMedia = role === 'media' || role === 'all';

  // Demo mode: an embedded simulator plays Meta (Graph API + webhooks + callers with audio), unless
  // GRAPH_API_BASE_URL names one already running (npm run cluster runs it as its own process).
  const demo = config.demo && runHttp && !config.graphBaseUrlSet ? await opts.startDemo?.(config, logger) : undefined;
  // The embedded demo answers as the business (greeting → menu → queue) where the engine can play prompts.
  const demoRouting =
    demo && !config.calls.routingFile && config.media.engine === 'forward'
      ? path.join(PROJECT_ROOT, 'config', 'routing.demo.json')
      : config.calls.routingFile;
  let effective: Config = demo
    ? {
        ...config,
        graph: { ...config.graph, baseUrl: demo.baseUrl },
        calls: { ...config.calls, routingFile: demoRouting },
      }
    : config;
  // Demo mode without JWT_SECRET: every http replica on this Redis must verify the others' tokens, so they share one
  // random secret kept in Redis (never one from the repository).
  if (runHttp && !config.auth.jwtSecretSet) {
    const jwtSecret = await sharedDemoSecret(config, logger, redisUrl);
    effective = { ...effective, auth: { ...effective.auth, jwtSecret } };
  }
  const placeDemoCall = demo
    ? () => demo.placeCall()
    : config.demo
      ? async () => {
          const res = await fetch(`${config.graph.baseUrl}/_sim/calls`, { method: 'POST', body: '{}' });
          if (!res.ok) throw new Error(`the simulator at ${config.graph.baseUrl} refused: ${res.status}`);
          return (await res.json()) as { callId: string };
        }
      : undefined;
  const pressDemoKeys = demo
    ? (callId: string, digits: string) => demo.pressKeys(callId, digits)
    : config.demo
      ? async (callId: string, digits: string) => {
          const res = await fetch(`${config.graph.baseUrl}/_sim/calls/${encodeURIComponent(callId)}/keys`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ digits }),
          });
          return (await res.json()) as { ok: true } | { ok: false; error: string };
        }
      : undefined;

  // XSTATE_INSPECT=1: stream every call actor's transitions to the Stately inspector.
  const inspector = config.inspect
    ? await createCallInspector({
        port: config.inspectPort,
        host: config.inspectHost,
        token: config.inspectToken,
        showDtmf: config.showDtmf,
        startBridge: runHttp,
        logger,
      })
    : undefined;
  const core = createCore(effective, logger, redisUrl, inspector ? { onTransition: inspector.onTransition } : {});
  await waitReady(core.redis);
  const stops: (() => Promise<void>)[] = [];
  let media: MediaRole | undefined;
  try {
    if (runMedia) {
      media = await startMediaRole(core);
      stops.push(() => media!.stop());
    }
    if (runWorker) {
      const worker = await startWorkerRole(core);
      stops.push(() => worker.stop());
    }
    if (!runHttp && config.metricsPort) {
      const server = await serveMetrics(core.metrics, config.host, config.metricsPort, role);
      stops.push(() => new Promise<void>((r) => server.close(() => r())));
      logger.info({ port: (server.address() as AddressInfo).port }, 'metrics at /metrics');
    }
    if (runHttp) {
      if (config.consoleBuild) await ensureConsoleBuilt(PROJECT_ROOT, logger);
      const http = await startHttpRole(core, placeDemoCall ? { placeDemoCall, pressDemoKeys } : {});
      stops.push(() => http.stop());
      demo?.setWebhookUrl(`${http.url}/webhooks/whatsapp`);
      const consoleUrl = config.publicUrl ?? http.url;
      const lines = [
        '',
        `  Agent console:  ${consoleUrl}/`,
        `  Webhook:        ${consoleUrl}/webhooks/whatsapp`,
        `  Metrics:        ${consoleUrl}/metrics`,
      ];
      if (config.demo) {
        lines.push(
          '',
          '  Demo mode: no WhatsApp credentials are set, a simulator plays Meta.',
          `  Log in as alice / demo (agent) and sam / demo (supervisor); demo agents are in ${DEMO_AGENTS_HINT}.`,
          `  Place a simulated call with the button in the supervisor view, or: npm run sim -- call --sim ${effective.graph.baseUrl}`,
        );
        if (effective.calls.routingFile === demoRouting && demo && demoRouting !== config.calls.routingFile) {
          lines.push(
            '  Calls are answered by the business: greeting, menu (1 sales, 2 support), queue with music.',
            `  Press a key for a waiting caller: npm run sim -- keys <callId> 1 --sim ${effective.graph.baseUrl}`,
          );
        }
      }
      if (inspector?.viewUrl) lines.push(`  Call inspector: ${inspector.viewUrl}`);
      if (opts.embeddedRedis)
        lines.push('', '  Redis: a local redis-server was started for this process (nothing is persisted).');
      process.stdout.write(`${lines.join('\n')}\n\n`);
    }
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await core.close();
    await demo?.stop();
    throw err;
  }
  return async () => {
    // 1. No new work, 2. end or hand over the calls, while everything else still runs: a dedicated media node lets
    // its live calls finish (up to MEDIA_DRAIN_TIMEOUT_SECONDS), then ends the rest; all-in-one (npm start) ends them
    // at once, so that Meta hears `terminate` and the agents `call:ended` from this process before it goes.
    if (media) {
      await media
        .drain(role === 'media' ? config.media.drainTimeoutMs : 0)
        .catch((err) => logger.error({ err: (err as Error).message }, 'drain failed'));
      await media.stop().catch((err) => logger.error({ err: (err as Error).message }, 'media stop failed'));
    }
    // 3. Flush the Graph API jobs those ends produced while this process's workers still run.
    if (media && runWorker) {
      const left = await flushQueue(core.queues.graph, GRAPH_FLUSH_MS).catch(() => -1);
      if (left !== 0) logger.warn({ left }, 'Graph API jobs still queued at shutdown; a worker runs them later');
    }
    // 4. Then http (agents move to other replicas), workers, the rest.
    for (const s of [...stops].reverse())
      await s().catch((err) => logger.error({ err: (err as Error).message }, 'stop failed'));
    await core.close();
    await demo?.stop();
    inspector?.stop();
  };
}

async function sharedDemoSecret(config: Config, logger: Logger, redisUrl: string): Promise<string> {
  const factory = new RedisFactory({ url: redisUrl, cluster: config.redis.cluster, logger });
  try {
    const redis = factory.create('demo-secret');
    await waitReady(redis);
    const key = makeKeys(config.redis.keyPrefix).demoJwtSecret;
    await redis.set(key, config.auth.jwtSecret, 'NX');
    return (await redis.get(key)) ?? config.auth.jwtSecret;
  } finally {
    await factory.closeAll();
  }
}

/** How long shutdown waits for the Graph API jobs of the calls it ended (inside the short hard stop). */
const GRAPH_FLUSH_MS = 10_000;

const DEMO_AGENTS_HINT = 'config/agents.demo.json';

/**
 * /metrics and /healthz for the roles that have no HTTP server of their own (worker, media). Media nodes on host
 * networking share the host's ports: when METRICS_PORT is taken, the next free one up to METRICS_PORT+15 is used
 * (and logged).
 */
async function serveMetrics(metrics: Metrics, host: string, port: number, role: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body);
      });
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, role, pid: process.pid }));
    } else {
      res.writeHead(404).end();
    }
  });
  for (let p = port; ; p++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || p >= port + 15) throw err;
    }
  }
}

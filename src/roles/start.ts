import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { ensureConsoleBuilt } from '../http/console-build.js';
import { createCallInspector } from '../machines/inspect.js';
import { createCore } from '../runtime.js';
import { type Config, PROJECT_ROOT } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { waitReady } from '../shared/redis.js';
import { startDemoSimulator } from '../sim/demo.js';
import { startHttpRole } from './http.role.js';
import { startMediaRole } from './media.role.js';
import { startWorkerRole } from './worker.role.js';

/**
 * Starts the roles `config.role` asks for on one Redis and returns a function that stops them in order: stop
 * taking new work (sockets, HTTP, media placements), let running work finish, then close connections.
 */
export async function startRoles(
  config: Config,
  logger: Logger,
  redisUrl: string,
  opts: { embeddedRedis?: boolean } = {},
): Promise<() => Promise<void>> {
  const role = config.role;
  const runHttp = role === 'http' || role === 'all';
  const runWorker = role === 'worker' || role === 'all';
  const runMedia = role === 'media' || role === 'all';

  // Demo mode: an embedded simulator plays Meta (Graph API + webhooks + callers with audio), unless
  // GRAPH_API_BASE_URL names one already running (npm run cluster runs it as its own process).
  const demo = config.demo && runHttp && !config.graphBaseUrlSet ? await startDemoSimulator(config, logger) : undefined;
  // The embedded demo answers as the business (greeting → menu → queue) where the engine can play prompts.
  const demoRouting =
    demo && !config.calls.routingFile && config.media.engine === 'forward'
      ? path.join(PROJECT_ROOT, 'config', 'routing.demo.json')
      : config.calls.routingFile;
  const effective: Config = demo
    ? {
        ...config,
        graph: { ...config.graph, baseUrl: demo.baseUrl },
        calls: { ...config.calls, routingFile: demoRouting },
      }
    : config;
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
    ? await createCallInspector({ port: config.inspectPort, startBridge: runHttp, logger })
    : undefined;
  const core = createCore(effective, logger, redisUrl, inspector ? { onTransition: inspector.onTransition } : {});
  await waitReady(core.redis);
  const stops: (() => Promise<void>)[] = [];
  let drain: (() => Promise<void>) | undefined;
  try {
    if (runMedia) {
      const media = await startMediaRole(core);
      stops.push(() => media.stop());
      // A dedicated media node lets its live calls finish; all-in-one (npm start) ends them at once.
      drain = () => media.drain(role === 'media' ? config.media.drainTimeoutMs : 0);
    }
    if (runWorker) {
      const worker = await startWorkerRole(core);
      stops.push(() => worker.stop());
    }
    if (!runHttp && config.metricsPort) {
      const server = await serveMetrics(core.metrics, config.host, config.metricsPort, role);
      stops.push(() => new Promise<void>((r) => server.close(() => r())));
      logger.info({ port: config.metricsPort }, 'metrics at /metrics');
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
    // Media stops taking calls and lets live ones finish while everything else still runs; then http (agents move
    // to other replicas), workers, and the media node ends what is left.
    await drain?.().catch((err) => logger.error({ err: (err as Error).message }, 'drain failed'));
    for (const s of [...stops].reverse())
      await s().catch((err) => logger.error({ err: (err as Error).message }, 'stop failed'));
    await core.close();
    await demo?.stop();
    inspector?.stop();
  };
}

const DEMO_AGENTS_HINT = 'config/agents.demo.json';

/** /metrics and /healthz for the roles that have no HTTP server of their own (worker, media). */
function serveMetrics(metrics: Metrics, host: string, port: number, role: string): Promise<Server> {
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
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

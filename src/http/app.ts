import { existsSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { AgentActions } from '../agents/actions.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { PresenceService } from '../agents/presence.js';
import type { CallIndex } from '../machines/call.index.js';
import type { CallStore } from '../machines/call.store.js';
import type { Deliverer } from '../machines/deliver.js';
import { recordingRoutes } from '../recording/recording.routes.js';
import type { RecordingStore } from '../recording/recording.store.js';
import type { QueueStore } from '../routing/queue.store.js';
import type { Config } from '../shared/config.js';
import { AppError, TooManyRequestsError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import { apiRoutes } from './api.routes.js';
import type { LoginLimiter, TokenService } from './auth.js';
import type { WebhookIngest } from './ingest.js';
import { webhookRoutes } from './webhook.routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  redis: RedisClient;
  store: CallStore;
  index: CallIndex;
  deliverer: Deliverer;
  ingest: WebhookIngest;
  tokens: TokenService;
  directory: AgentDirectory;
  limiter: LoginLimiter;
  presence: PresenceService;
  actions: AgentActions;
  /** The per-team queues of business-answered calls (the supervisor's queue view). */
  callQueue?: QueueStore | undefined;
  /** Extra readiness checks (queues, adapter); each resolves or throws. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Places a simulated call (demo mode only). */
  placeDemoCall?: (() => Promise<{ callId: string }>) | undefined;
  /** The caller of a simulated call presses keys (demo mode only). */
  pressDemoKeys?:
    | ((callId: string, digits: string) => Promise<{ ok: true } | { ok: false; error: string }>)
    | undefined;
  /** Mounted under /admin (Bull Board at /admin/queues, supervisors only). */
  admin?: Hono | undefined;
  /** Built console (web/dist); absent means "not built". */
  webRoot?: string | undefined;
  /** Samples Redis for the calls-by-state gauge before a scrape. */
  beforeScrape?: (() => Promise<void>) | undefined;
  /** Finished call recordings (GET /api/calls/:id/recording). */
  recordings?: RecordingStore | undefined;
  /** The media nodes registered in Redis (GET /api/media-nodes). */
  mediaNodes?: MediaNodeList | undefined;
}

/** What GET /api/media-nodes reads: the node registry. */
export interface MediaNodeList {
  list(): Promise<
    { id: string; engine: string | null; capacity: number; calls: number; draining: boolean; expiresAt: number }[]
  >;
}

/** The http role's Hono app: webhooks, REST API, metrics, health, and the console. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { logger, metrics, config } = deps;

  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err instanceof TooManyRequestsError) c.header('retry-after', String(err.retryAfterSeconds));
      if (err.status >= 500) logger.error({ code: err.code, err: err.message }, 'request failed');
      return c.json({ error: { code: err.code, message: err.message } }, err.status as 400);
    }
    if (err instanceof HTTPException) return err.getResponse();
    logger.error({ err: err.message, stack: err.stack }, 'unexpected error');
    return c.json({ error: { code: 'internal', message: 'Something went wrong on our side; try again.' } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not-found', message: `No route ${c.req.method} ${c.req.path}.` } }, 404),
  );

  // Browser-facing responses get security headers; Meta's webhook calls do not need them (the hottest path).
  const headers = secureHeaders({ crossOriginResourcePolicy: false, contentSecurityPolicy: undefined });
  app.use('*', (c, next) => (c.req.path.startsWith('/webhooks/') ? next() : headers(c, next)));
  if (config.corsOrigins?.length) {
    app.use(
      '/api/*',
      cors({ origin: config.corsOrigins, allowHeaders: ['authorization', 'content-type'], maxAge: 600 }),
    );
  }

  app.get('/healthz', (c) => c.json({ ok: true, role: config.role, pid: process.pid }));
  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    let ok = true;
    const all: Record<string, () => Promise<unknown>> = { redis: () => deps.redis.ping(), ...deps.readiness };
    await Promise.all(
      Object.entries(all).map(async ([name, fn]) => {
        try {
          await Promise.race([fn(), new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 2000))]);
          checks[name] = 'ok';
        } catch (err) {
          ok = false;
          checks[name] = (err as Error).message;
        }
      }),
    );
    return c.json({ ok, checks }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    await deps.beforeScrape?.().catch(() => undefined);
    c.header('content-type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.route(
    '/webhooks/whatsapp',
    webhookRoutes({
      appSecret: config.whatsapp.appSecret,
      verifyToken: config.whatsapp.verifyToken,
      ingest: deps.ingest,
      logger,
      metrics,
    }),
  );
  if (deps.recordings)
    app.route('/api', recordingRoutes({ ...deps, keys: deps.store.keys, recordings: deps.recordings }));
  app.route('/api', apiRoutes(deps));
  if (deps.admin) app.route('/admin', deps.admin);

  const root = deps.webRoot;
  if (root && existsSync(path.join(root, 'index.html'))) {
    app.use('/*', serveStatic({ root: path.relative(process.cwd(), root) || '.' }));
    // Client-side routes fall back to the app shell.
    app.get('*', serveStatic({ root: path.relative(process.cwd(), root) || '.', path: 'index.html' }));
  } else {
    app.get('/', (c) =>
      c.html(
        '<!doctype html><title>Console not built</title><p>The agent console is not built. Run <code>npm run build</code> (npm start does it for you).</p>',
      ),
    );
  }
  return app;
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { HistoryIndex } from '../history/history.index.js';
import type { RecordingStore } from '../recording/recording.store.js';
import { AppError, errorMessage, TooManyRequestsError } from '../shared/errors.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import type { WrapUpService } from '../wrapup/wrapup.service.js';
import { type ApiDeps, apiRoutes } from './api.routes.js';
import { historyRoutes } from './history.routes.js';
import type { WebhookIngest } from './ingest.js';
import { recordingRoutes } from './recording.routes.js';
import { transferRoutes } from './transfer.routes.js';
import { webhookRoutes } from './webhook.routes.js';

export interface AppDeps extends ApiDeps {
  metrics: Metrics;
  redis: RedisClient;
  ingest: WebhookIngest;
  /** Extra readiness checks (queues, adapter); each resolves or throws. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Mounted under /admin (Bull Board at /admin/queues, supervisors only). */
  admin?: Hono | undefined;
  /** Call history and wrap-up (GET /api/history, /api/history.csv, /api/wrapup). */
  history?: HistoryIndex | undefined;
  wrapUps?: WrapUpService | undefined;
  /** Built console (web/dist); absent means "not built". */
  webRoot?: string | undefined;
  /** Samples Redis for the calls-by-state gauge before a scrape. */
  beforeScrape?: (() => Promise<void>) | undefined;
  /** Finished call recordings (GET /api/calls/:id/recording). */
  recordings?: RecordingStore | undefined;
}

/** What the console may load: everything from its own origin; media from blob: (recordings); nothing framed. */
const CONSOLE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  mediaSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

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
  // The console (and the API) also get a Content-Security-Policy: its own scripts only, no frames, no plugins.
  // Bull Board (/admin) ships its own page and keeps the plain headers.
  const headers = secureHeaders({ crossOriginResourcePolicy: false, contentSecurityPolicy: undefined });
  const consoleHeaders = secureHeaders({ crossOriginResourcePolicy: false, contentSecurityPolicy: CONSOLE_CSP });
  app.use('*', (c, next) =>
    c.req.path.startsWith('/webhooks/')
      ? next()
      : c.req.path.startsWith('/admin/')
        ? headers(c, next)
        : consoleHeaders(c, next),
  );
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
          checks[name] = errorMessage(err);
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
  if (deps.history && deps.wrapUps) {
    app.route('/api', historyRoutes({ tokens: deps.tokens, history: deps.history, wrapUps: deps.wrapUps }));
  }
  app.route('/api', transferRoutes({ tokens: deps.tokens, presence: deps.presence, directory: deps.directory }));
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

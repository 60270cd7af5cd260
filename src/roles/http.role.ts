import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { adminRoutes } from '../http/admin.routes.js';
import { createApp } from '../http/app.js';
import { LoginLimiter } from '../http/auth.js';
import { WebhookIngest } from '../http/ingest.js';
import { createSignaling } from '../http/signaling.js';
import { CALL_STATES } from '../machines/call.types.js';
import type { Core } from '../runtime.js';
import { PROJECT_ROOT } from '../shared/config.fields.js';

/** How long an agent whose connection dropped may take to come back before their ringing calls move on. */
const OFFLINE_GRACE_MS = 3000;

export interface HttpRole {
  server: HttpServer;
  url: string;
  stop(): Promise<void>;
}

/** The http role: Hono (webhooks, API, console, metrics) and Socket.IO for agents on one HTTP server. */
export async function startHttpRole(
  core: Core,
  opts: {
    placeDemoCall?: () => Promise<{ callId: string }>;
    pressDemoKeys?:
      | ((callId: string, digits: string) => Promise<{ ok: true } | { ok: false; error: string }>)
      | undefined;
  } = {},
): Promise<HttpRole> {
  const { config, logger } = core;
  await core.agents.start();
  const ingest = new WebhookIngest({
    redis: core.redis,
    keys: core.keys,
    logger,
    metrics: core.metrics,
    phoneNumberIds: config.whatsapp.phoneNumberIds,
  });
  const app = createApp({
    config,
    logger,
    metrics: core.metrics,
    redis: core.redis,
    store: core.store,
    index: core.index,
    deliverer: core.deliverer,
    ingest,
    tokens: core.tokens,
    directory: core.directory,
    agents: core.agents,
    limiter: new LoginLimiter(core.redis, core.keys),
    presence: core.presence,
    actions: core.actions,
    history: core.history,
    wrapUps: core.wrapUps,
    callQueue: core.callQueue,
    mediaNodes: core.nodes,
    recordings: core.recordings,
    readiness: { queues: () => core.queues.graph.waitUntilReady() },
    placeDemoCall: opts.placeDemoCall,
    pressDemoKeys: opts.pressDemoKeys,
    admin: adminRoutes({
      queues: core.queues,
      tokens: core.tokens,
      httpsPublicUrl: config.publicUrl?.startsWith('https:') ?? false,
    }),
    webRoot: path.join(PROJECT_ROOT, 'web', 'dist'),
    beforeScrape: async () => {
      const ids = await core.index.active(5000);
      const states = await Promise.all(ids.map((id) => core.redis.hget(core.keys.call.state(id), 'state')));
      core.metrics.callsByState.reset();
      for (const s of CALL_STATES) if (s !== 'ended') core.metrics.callsByState.set({ state: s }, 0);
      for (const s of states) if (s && s !== 'ended') core.metrics.callsByState.inc({ state: s });
      core.metrics.agentsOnline.set((await core.presence.online()).length);
      for (const n of await core.nodes.list()) core.metrics.mediaNodeLoad.set({ node: n.id }, n.calls);
    },
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: config.host }) as HttpServer;
  const signaling = createSignaling({
    httpServer: server,
    pub: core.factory.create('sio-pub'),
    sub: core.factory.create('sio-sub', { blocking: true }),
    keys: core.keys,
    tokens: core.tokens,
    presence: core.presence,
    availability: core.availability,
    actions: core.actions,
    dial: core.dial,
    wrapUps: core.wrapUps,
    transfers: core.transfers,
    monitors: core.monitors,
    store: core.store,
    logger,
    metrics: core.metrics,
    corsOrigins: config.corsOrigins,
    scheduleOfflineCheck: async (agentId) => {
      await core.queues.maintenance.add(
        'offline-check',
        { agentId },
        { delay: OFFLINE_GRACE_MS, removeOnComplete: true, removeOnFail: 100 },
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  logger.info({ url }, 'http role listening');
  return {
    server,
    url,
    async stop() {
      // Close sockets first so agents reconnect to another replica, then stop taking requests.
      await signaling.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

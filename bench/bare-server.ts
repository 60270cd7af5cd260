/**
 * The ingest baseline: a bare Hono handler on @hono/node-server that checks X-Hub-Signature-256 with the service's
 * own verifySignature() and answers 200 — the least any webhook endpoint has to do. Runs in its own process.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { verifySignature } from '../src/http/webhook.routes.js';

const secret = process.env.APP_SECRET ?? '';
const port = Number(process.env.PORT ?? 0);

const app = new Hono();
app.post('/webhooks/whatsapp', async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (!verifySignature(raw, c.req.header('x-hub-signature-256'), secret)) {
    return c.json({ error: { code: 'bad-signature' } }, 401);
  }
  return c.json({ ok: true });
});

const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' });
server.listen(port, '127.0.0.1', () => {
  const addr = server.address() as AddressInfo;
  process.stdout.write(`bare webhook server listening on ${addr.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { PayloadTooLargeError, readBodyCapped } from './body.js';
import type { WebhookIngest } from './ingest.js';

const MAX_BODY = 1024 * 1024;
const utf8 = new TextDecoder();

const tooLarge = (c: Context) =>
  c.json({ error: { code: 'too-large', message: 'Webhook bodies are limited to 1 MiB.' } }, 413);

/** `sha256=<hex>` over the raw body with the app secret, compared in constant time. */
export function verifySignature(raw: Uint8Array, header: string | undefined, appSecret: string): boolean {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', appSecret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

export function signBody(raw: string | Uint8Array, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}

/**
 * Meta's webhook: GET answers the subscription challenge; POST verifies X-Hub-Signature-256 over the raw bytes,
 * then hands the body to the ingest, which makes each event durable in Redis before the 200.
 * @see docs/whatsapp-platform.md §1 (signature, subscription check)
 */
export function webhookRoutes(deps: {
  appSecret: string;
  verifyToken: string;
  ingest: WebhookIngest;
  logger: Logger;
  metrics?: Metrics | undefined;
}): Hono {
  const app = new Hono();
  const { logger, metrics } = deps;

  app.get('/', (c) => {
    const mode = c.req.query('hub.mode');
    const token = c.req.query('hub.verify_token');
    const challenge = c.req.query('hub.challenge');
    if (mode !== 'subscribe' || !challenge) {
      return c.json({ error: { code: 'bad-request', message: 'Expected hub.mode=subscribe and hub.challenge.' } }, 400);
    }
    const ok =
      token !== undefined &&
      token.length === deps.verifyToken.length &&
      timingSafeEqual(Buffer.from(token), Buffer.from(deps.verifyToken));
    if (!ok) {
      logger.warn('webhook verification with a wrong verify token');
      return c.json(
        { error: { code: 'verify-token-mismatch', message: 'hub.verify_token does not match WHATSAPP_VERIFY_TOKEN.' } },
        403,
      );
    }
    return c.text(challenge, 200);
  });

  app.post('/', async (c) => {
    const started = performance.now();
    // Capped while it streams in: an unsigned chunked body stops at MAX_BODY, before it is buffered.
    let raw: Uint8Array;
    try {
      raw = await readBodyCapped(c, MAX_BODY);
    } catch (err) {
      if (!(err instanceof PayloadTooLargeError)) throw err;
      metrics?.webhookRequests.inc({ result: 'too-large' });
      logger.warn('webhook body over the cap refused');
      return tooLarge(c);
    }
    if (!verifySignature(raw, c.req.header('x-hub-signature-256'), deps.appSecret)) {
      metrics?.webhookRequests.inc({ result: 'bad-signature' });
      logger.warn({ bytes: raw.length }, 'webhook with a missing or wrong signature refused');
      return c.json(
        {
          error: {
            code: 'bad-signature',
            message: 'X-Hub-Signature-256 does not match the body signed with WHATSAPP_APP_SECRET.',
          },
        },
        401,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(raw));
    } catch {
      metrics?.webhookRequests.inc({ result: 'bad-json' });
      return c.json({ error: { code: 'bad-json', message: 'The body is not JSON.' } }, 400);
    }
    const report = await deps.ingest.handle(body);
    metrics?.webhookRequests.inc({ result: 'ok' });
    metrics?.webhookLatency.observe((performance.now() - started) / 1000);
    return c.json({ ok: true, ...report });
  });
  return app;
}

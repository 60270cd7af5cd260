import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { AppError } from '../shared/errors.js';

/** The body is larger than the route takes; reading stopped at the cap. */
export class PayloadTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super('too-large', `Request bodies here are limited to ${formatBytes(maxBytes)}.`, { status: 413 });
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

/**
 * Reads a request body up to `maxBytes` while it streams in, and stops at the cap: a chunked body (no
 * Content-Length) is never buffered whole. Over the cap it throws {@link PayloadTooLargeError} and marks the response
 * `Connection: close`, so the rest of the body is not read. On @hono/node-server the bytes come straight from the
 * Node request (no web stream per request: the webhook is the hottest path); elsewhere from `c.req.raw.body`.
 */
export async function readBodyCapped(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? 0);
  const tooLarge = () => {
    c.header('connection', 'close');
    return new PayloadTooLargeError(maxBytes);
  };
  if (declared > maxBytes) throw tooLarge();
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (incoming && typeof incoming.on === 'function' && !incoming.readableDidRead) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        incoming.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          incoming.pause();
          done(tooLarge());
        } else chunks.push(chunk);
      };
      const onEnd = () => done();
      const onError = (err: Error) => done(err);
      const onAborted = () => done(new AppError('aborted', 'The client went away mid-body.', { status: 400 }));
      incoming.on('data', onData).once('end', onEnd).once('error', onError).once('aborted', onAborted);
      if (incoming.readableEnded) done();
    });
  } else if (c.req.raw.body) {
    const reader = c.req.raw.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.length;
  }
  return out;
}

/**
 * `GET /api/calls/:id/recording` (supervisors only): the call's recording as `audio/ogg`, with byte ranges so that a
 * player can seek (`Range: bytes=a-b` → 206 with `Content-Range`; a range past the end → 416).
 */
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { ByteRange, RecordingStore } from '../recording/recording.store.js';
import { BadRequestError, NotFoundError } from '../shared/errors.js';
import { CALL_ID_RE, type Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';
import type { TokenService } from './auth.js';
import { type AuthVariables, requireAuth } from './auth.js';

/** One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`; 'unsatisfiable' when it does not fit `size`. */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not one simple range: send the whole file
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export function recordingRoutes(deps: {
  tokens: TokenService;
  redis: RedisClient;
  keys: Keys;
  recordings: RecordingStore;
}): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.get('/calls/:id/recording', requireAuth(deps.tokens, { role: 'supervisor' }), async (c) => {
    const id = c.req.param('id');
    if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
    const bytes = Number(await deps.redis.hget(deps.keys.call.recording(id), 'bytes'));
    if (!bytes)
      throw new NotFoundError('no-recording', 'This call has no recording (not recorded, or not stored yet).');
    const range = parseRange(c.req.header('range'), bytes);
    const common = { 'content-type': 'audio/ogg', 'accept-ranges': 'bytes', 'cache-control': 'private, no-store' };
    if (range === 'unsatisfiable') {
      return new Response(null, { status: 416, headers: { ...common, 'content-range': `bytes */${bytes}` } });
    }
    const stream = await deps.recordings.read(id, range);
    if (!stream) throw new NotFoundError('no-recording', 'The recording file is gone (deleted at retention?).');
    const body = Readable.toWeb(stream) as ReadableStream;
    if (!range) return new Response(body, { status: 200, headers: { ...common, 'content-length': String(bytes) } });
    return new Response(body, {
      status: 206,
      headers: {
        ...common,
        'content-length': String(range.end - range.start + 1),
        'content-range': `bytes ${range.start}-${range.end}/${bytes}`,
      },
    });
  });
  return app;
}

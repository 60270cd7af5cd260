/**
 * A call's recordings for supervisors, with byte ranges so that a player can seek (`Range: bytes=a-b` → 206 with
 * `Content-Range`; a range past the end → 416), and Meta's transcript.
 */
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { storedFileOf } from '../recording/meta-capture.worker.js';
import type { ByteRange, RecordingStore } from '../recording/recording.store.js';
import { BadRequestError, NotFoundError } from '../shared/errors.js';
import { CALL_ID_RE, type Keys } from '../shared/keys.js';
import { type CaptureKind, transcriptSegments } from '../shared/meta-capture.js';
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

/** The stored file (or the asked range of it) as a response: 200, 206 with `Content-Range`, or 416. */
async function fileResponse(
  read: (range?: ByteRange) => Promise<Readable | undefined>,
  size: number,
  rangeHeader: string | undefined,
  contentType: string,
): Promise<Response> {
  const range = parseRange(rangeHeader, size);
  const common = { 'content-type': contentType, 'accept-ranges': 'bytes', 'cache-control': 'private, no-store' };
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { ...common, 'content-range': `bytes */${size}` } });
  }
  const stream = await read(range);
  if (!stream) throw new NotFoundError('no-recording', 'The file is gone (deleted at retention?).');
  const body = Readable.toWeb(stream) as ReadableStream;
  if (!range) return new Response(body, { status: 200, headers: { ...common, 'content-length': String(size) } });
  return new Response(body, {
    status: 206,
    headers: {
      ...common,
      'content-length': String(range.end - range.start + 1),
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
    },
  });
}

const callIdOf = (id: string) => {
  if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
  return id;
};

/**
 * `GET /api/calls/:id/recording` (our own), `/meta-recording` and `/transcript` (Meta's, see
 * docs/whatsapp-business-calls.md): supervisors only.
 */
export function recordingRoutes(deps: {
  tokens: TokenService;
  redis: RedisClient;
  keys: Keys;
  recordings: RecordingStore;
}): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  const supervisor = requireAuth(deps.tokens, { role: 'supervisor' });

  app.get('/calls/:id/recording', supervisor, async (c) => {
    const id = callIdOf(c.req.param('id'));
    const bytes = Number(await deps.redis.hget(deps.keys.call.recording(id), 'bytes'));
    if (!bytes)
      throw new NotFoundError('no-recording', 'This call has no recording (not recorded, or not stored yet).');
    return fileResponse((r) => deps.recordings.read(id, r), bytes, c.req.header('range'), 'audio/ogg');
  });

  /** Meta's file of the call, once stored; otherwise a 404 that says why (pending, failed, none). */
  const stored = async (id: string, kind: CaptureKind): Promise<number> => {
    const [status, bytes, error] = await deps.redis.hmget(
      deps.keys.call.metaCapture(id),
      `${kind}:status`,
      `${kind}:bytes`,
      `${kind}:error`,
    );
    const what = kind === 'recording' ? "Meta's recording" : "Meta's transcript";
    if (status === 'stored' && Number(bytes) > 0) return Number(bytes);
    if (status === 'pending') throw new NotFoundError(`meta-${kind}-pending`, `${what} is being fetched.`);
    if (status === 'failed' || status === 'fetch-failed')
      throw new NotFoundError(`meta-${kind}-failed`, `${what} is not available: ${error ?? 'failed'}.`);
    throw new NotFoundError(`no-meta-${kind}`, `This call has no ${what} (not opted in, or not ready yet).`);
  };

  app.get('/calls/:id/meta-recording', supervisor, async (c) => {
    const id = callIdOf(c.req.param('id'));
    const bytes = await stored(id, 'recording');
    const read = (r?: ByteRange) => deps.recordings.read(id, r, storedFileOf('recording'));
    return fileResponse(read, bytes, c.req.header('range'), 'audio/ogg');
  });

  app.get('/calls/:id/transcript', supervisor, async (c) => {
    const id = callIdOf(c.req.param('id'));
    await stored(id, 'transcription');
    const stream = await deps.recordings.read(id, undefined, storedFileOf('transcription'));
    if (!stream)
      throw new NotFoundError('no-meta-transcription', 'The transcript file is gone (deleted at retention?).');
    let document: unknown;
    try {
      document = JSON.parse(Buffer.concat(await stream.toArray()).toString('utf8'));
    } catch {
      throw new NotFoundError('meta-transcription-unreadable', "Meta's transcript is not JSON.");
    }
    return c.json({ segments: transcriptSegments(document) ?? null, document });
  });
  return app;
}

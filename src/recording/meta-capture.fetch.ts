/**
 * Downloads a file Meta made of a call, in Graph's two steps: `GET /{media-id}` says where it is and what it must be
 * (`url`, `mime_type`, `sha256`, `file_size`), then `GET url` with the same bearer token. The bytes stream to a local
 * file while they are counted and hashed; a file larger than announced is cut off, and a wrong size or hash fails.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { GraphConfig } from '../shared/config.js';
import { errorMessage, GraphApiError } from '../shared/errors.js';
import { parseMediaInfo } from '../shared/meta-capture.js';

export interface MediaDownloadOptions {
  graph: Pick<GraphConfig, 'baseUrl' | 'version' | 'accessToken' | 'timeoutMs'>;
  /** Longest wait for the whole download. @default 60000 */
  downloadTimeoutMs?: number;
  /** Larger files are refused before they are fetched. @default 256 MiB */
  maxBytes?: number;
}

/** 429 and 5xx can succeed later; any other 4xx will not. */
const retryableStatus = (s: number) => s === 429 || s >= 500;

async function get(url: string, token: string, timeoutMs: number, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new GraphApiError(
      timedOut ? `${what}: no answer within ${timeoutMs} ms` : `${what}: unreachable: ${errorMessage(err)}`,
      { retryable: true, cause: err },
    );
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    throw new GraphApiError(`${what}: HTTP ${res.status} ${text}`, {
      httpStatus: res.status,
      retryable: retryableStatus(res.status),
    });
  }
  return res;
}

/**
 * The access token goes only where Graph itself lives or over https (Meta's media URLs are https): a look-up answer
 * naming a plain-http host elsewhere would hand the token to anyone on the path. Returns why, or undefined.
 */
export function unsafeMediaUrl(url: string, graphBaseUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.origin === new URL(graphBaseUrl).origin) return undefined;
  if (u.protocol !== 'https:') return `${u.protocol} to ${u.host}, not https and not the Graph API's own host`;
  if (u.username || u.password) return 'it carries credentials of its own';
  return undefined;
}

/** Fetches the media to `toPath`; throws {@link GraphApiError} (retryable or not) and leaves no partial file. */
export async function downloadMedia(
  opts: MediaDownloadOptions,
  mediaId: string,
  toPath: string,
): Promise<{ bytes: number; mimeType: string }> {
  const { graph } = opts;
  const lookUp = await get(
    `${graph.baseUrl}/${graph.version}/${encodeURIComponent(mediaId)}`,
    graph.accessToken,
    graph.timeoutMs,
    'media look-up',
  );
  const parsed = parseMediaInfo(await lookUp.json().catch(() => undefined));
  if (!parsed.ok)
    throw new GraphApiError(`media look-up answered an unusable body (${parsed.problem})`, { retryable: true });
  const { info } = parsed;
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  if (info.fileSize > maxBytes)
    throw new GraphApiError(`media of ${info.fileSize} bytes is over the ${maxBytes}-byte limit`, { retryable: false });
  const refusal = unsafeMediaUrl(info.url, graph.baseUrl);
  if (refusal)
    throw new GraphApiError(`media look-up named a download URL we do not send the token to: ${refusal}`, {
      retryable: false,
    });
  const res = await get(info.url, graph.accessToken, opts.downloadTimeoutMs ?? 60_000, 'media download');
  if (!res.body) throw new GraphApiError('media download answered without a body', { retryable: true });
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > info.fileSize) return done(new Error(`more than the announced ${info.fileSize} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      count,
      createWriteStream(toPath),
    );
    if (bytes !== info.fileSize) throw new Error(`${bytes} bytes arrived, ${info.fileSize} announced`);
    const sha = hash.digest('hex');
    if (sha !== info.sha256) throw new Error('sha256 does not match the one announced');
  } catch (err) {
    await rm(toPath, { force: true });
    if (err instanceof GraphApiError) throw err;
    // A cut or corrupted transfer can succeed on another try.
    throw new GraphApiError(`media download: ${errorMessage(err)}`, { retryable: true, cause: err });
  }
  return { bytes, mimeType: info.mimeType };
}

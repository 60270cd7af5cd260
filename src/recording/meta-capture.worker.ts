/**
 * Meta-side recording and transcription after a call: the webhook that names a finished file is taken once per
 * media id (a repeated webhook is counted and dropped), a FAILED result is recorded as failed, an AVAILABLE one
 * becomes a BullMQ job that downloads the file (retried with backoff, each step under a deadline) and stores it
 * beside our own recording. Everything is deleted with the call at retention. The call actor is not involved: the
 * call has usually ended long before, and the results live in the call's `meta` hash.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { errorMessage, GraphApiError } from '../shared/errors.js';
import type { CaptureKind, MediaResult } from '../shared/meta-capture.js';
import { lockOptions } from '../workers/queues.js';
import { downloadMedia, type MediaDownloadOptions } from './meta-capture.fetch.js';
import type { StoredFile } from './recording.store.js';
import { recordingName } from './recording.store.js';
import type { StoredFilesDeps } from './recording.worker.js';

export const META_CAPTURE_QUEUE = 'meta-capture';

export type MetaCaptureJob =
  | { kind: 'fetch'; callId: string; media: CaptureKind; mediaId: string }
  | { kind: 'delete'; callId: string };

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 86_400 } } as const;
/** Download attempts before the file is recorded as not fetched. */
const ATTEMPTS = 6;

export const storedFileOf = (kind: CaptureKind): StoredFile =>
  kind === 'recording' ? 'meta-recording' : 'meta-transcript';

/** What became of a media webhook. */
export type IntakeOutcome = 'queued' | 'failed' | 'duplicate';

export interface MetaCaptureDeps extends StoredFilesDeps {
  download: MediaDownloadOptions;
  /** First retry after this; doubles each time. @default 1000 */
  backoffMs?: number;
}

/**
 * Takes media webhooks (from the ingest consumer) and runs the download jobs. `intake` is safe to call again with
 * the same webhook: the first call for a media id wins.
 */
export function createMetaCapture(deps: MetaCaptureDeps): {
  intake(r: MediaResult & { known: boolean }): Promise<IntakeOutcome>;
  worker: Worker<MetaCaptureJob>;
  queue: Queue<MetaCaptureJob>;
} {
  const { redis, keys, store, logger, retentionMs } = deps;
  const queue = new Queue<MetaCaptureJob>(META_CAPTURE_QUEUE, { connection: deps.connection, prefix: keys.bullPrefix });
  const hash = keys.call.metaCapture;

  const record = (callId: string, fields: Record<string, string>) =>
    redis.multi().hset(hash(callId), fields).pexpire(hash(callId), retentionMs).exec();
  // One deletion per call, however many files: the job id is the call's.
  const scheduleDelete = (callId: string) =>
    queue.add('delete', { kind: 'delete', callId }, { ...KEEP, jobId: `${callId}.meta-delete`, delay: retentionMs });

  async function intake(r: MediaResult & { known: boolean }): Promise<IntakeOutcome> {
    const log = logger.child({ callId: r.callId, media: r.kind });
    const seen = keys.call.metaMediaSeen(r.callId, r.mediaId);
    if ((await redis.set(seen, r.status, 'PX', retentionMs, 'NX')) === null) {
      log.info('repeated Meta media webhook; already taken');
      return 'duplicate';
    }
    try {
      if (!r.known) log.warn('Meta media for a call we do not know; kept under its call id');
      if (r.status === 'FAILED') {
        await record(r.callId, {
          [`${r.kind}:status`]: 'failed',
          [`${r.kind}:mediaId`]: r.mediaId,
          [`${r.kind}:error`]: `${r.errorCode ?? ''} ${r.errorTitle ?? 'Meta could not produce the file'}`.trim(),
        });
        await scheduleDelete(r.callId);
        log.warn({ code: r.errorCode }, 'Meta reports the file failed');
        return 'failed';
      }
      await record(r.callId, { [`${r.kind}:status`]: 'pending', [`${r.kind}:mediaId`]: r.mediaId });
      await queue.add(
        'fetch',
        { kind: 'fetch', callId: r.callId, media: r.kind, mediaId: r.mediaId },
        {
          ...KEEP,
          jobId: `${r.callId}.meta.${r.mediaId}`,
          attempts: ATTEMPTS,
          backoff: { type: 'exponential', delay: deps.backoffMs ?? 1000 },
        },
      );
      log.info('Meta media available; fetching it');
      return 'queued';
    } catch (err) {
      // Not taken after all: the ingest tries the webhook again.
      await redis.del(seen).catch(() => undefined);
      throw err;
    }
  }

  const fetchOne = async (job: Job<MetaCaptureJob>, d: Extract<MetaCaptureJob, { kind: 'fetch' }>) => {
    const file = storedFileOf(d.media);
    const tmp = path.join(os.tmpdir(), `meta-${randomUUID()}-${recordingName(d.callId, file)}`);
    try {
      const got = await downloadMedia(deps.download, d.mediaId, tmp);
      const { bytes } = await store.put(d.callId, tmp, file);
      await record(d.callId, {
        [`${d.media}:status`]: 'stored',
        [`${d.media}:bytes`]: String(bytes),
        [`${d.media}:mime`]: got.mimeType,
        [`${d.media}:storedAt`]: String(Date.now()),
      });
      await scheduleDelete(d.callId);
      logger.info({ callId: d.callId, media: d.media, bytes }, 'Meta media stored');
      return 'stored';
    } catch (err) {
      const retryable = err instanceof GraphApiError ? err.retryable : true;
      const final = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      logger.warn(
        { callId: d.callId, media: d.media, attempt: job.attemptsMade + 1, final, err: errorMessage(err) },
        'fetching Meta media failed',
      );
      if (!final) throw err;
      await record(d.callId, { [`${d.media}:status`]: 'fetch-failed', [`${d.media}:error`]: errorMessage(err) });
      await scheduleDelete(d.callId);
      throw new UnrecoverableError(errorMessage(err));
    } finally {
      await rm(tmp, { force: true });
    }
  };

  const worker = new Worker<MetaCaptureJob>(
    META_CAPTURE_QUEUE,
    async (job) => {
      const d = job.data;
      if (d.kind === 'fetch') return fetchOne(job, d);
      await Promise.all([store.delete(d.callId, 'meta-recording'), store.delete(d.callId, 'meta-transcript')]);
      await redis.del(hash(d.callId));
      logger.info({ callId: d.callId }, 'Meta media deleted at retention');
      return 'deleted';
    },
    { connection: deps.connection, prefix: keys.bullPrefix, concurrency: 2, ...lockOptions(deps.lockMs) },
  );
  worker.on('error', (err) => logger.error({ err: err.message }, 'meta capture worker error'));
  return { intake, worker, queue };
}

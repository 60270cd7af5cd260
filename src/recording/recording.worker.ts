/**
 * After a recorded call: the media node saved one Ogg Opus file per direction; this worker combines them into one
 * file in which both parties are heard (`combineRecordings`: caller left, what the caller heard right, no
 * re-encoding; see docs/recording.md), stores it, records where in the call's `recording` hash, deletes the two
 * direction files, and schedules the deletion of the recording with the call at retention.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import { combineRecordings } from '../media/opus/recording.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions } from '../workers/queues.js';
import { type RecordingStore, recordingName } from './recording.store.js';

const RECORDING_QUEUE = 'recording';

export type RecordingJob = { kind: 'store'; callId: string; paths: string[] } | { kind: 'delete'; callId: string };

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 86_400 } } as const;

/** The producer: the media node adds a job when a call's direction files are saved. */
export function recordingQueue(connection: RedisClient, keys: Keys): Queue<RecordingJob> {
  return new Queue<RecordingJob>(RECORDING_QUEUE, { connection, prefix: keys.bullPrefix });
}

export function addStoreJob(queue: Queue<RecordingJob>, callId: string, paths: string[]): Promise<unknown> {
  return queue.add(
    'store',
    { kind: 'store', callId, paths },
    {
      ...KEEP,
      jobId: `${callId.replaceAll(':', '_')}.recording`,
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
    },
  );
}

/** What a worker that stores call files needs (ours, and Meta's: meta-capture.worker.ts). */
export interface StoredFilesDeps {
  connection: RedisClient;
  redis: RedisClient;
  keys: Keys;
  store: RecordingStore;
  logger: Logger;
  /** The files go with the call after this. */
  retentionMs: number;
  lockMs?: number | undefined;
}

export function createRecordingWorker(deps: StoredFilesDeps): {
  worker: Worker<RecordingJob>;
  queue: Queue<RecordingJob>;
} {
  const { redis, keys, store, logger } = deps;
  const queue = recordingQueue(deps.connection, keys);
  const process = async (job: Job<RecordingJob>) => {
    const { callId } = job.data;
    if (job.data.kind === 'delete') {
      await store.delete(callId);
      await redis.del(keys.call.recording(callId));
      logger.info({ callId }, 'recording deleted at retention');
      return 'deleted';
    }
    const caller = job.data.paths.find((p) => p.endsWith('.caller.ogg'));
    const agents = job.data.paths.find((p) => p.endsWith('.agents.ogg'));
    if (!caller || !agents) throw new Error(`call ${callId}: the recording needs both direction files`);
    const out = path.join(os.tmpdir(), `combined-${recordingName(callId)}`);
    try {
      await combineRecordings(caller, agents, out);
      const { bytes } = await store.put(callId, out);
      await redis
        .multi()
        .hset(keys.call.recording(callId), 'bytes', String(bytes), 'storedAt', String(Date.now()), 'store', store.kind)
        .pexpire(keys.call.recording(callId), deps.retentionMs)
        .exec();
      await queue.add('delete', { kind: 'delete', callId }, { ...KEEP, delay: deps.retentionMs });
      logger.info({ callId, bytes, store: store.kind }, 'recording stored');
    } finally {
      await rm(out, { force: true });
    }
    await Promise.all([rm(caller, { force: true }), rm(agents, { force: true })]);
    return 'stored';
  };
  const worker = new Worker<RecordingJob>(RECORDING_QUEUE, process, {
    connection: deps.connection,
    prefix: keys.bullPrefix,
    concurrency: 2,
    ...lockOptions(deps.lockMs),
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'recording worker error'));
  worker.on('failed', (job, err) =>
    logger.warn({ callId: job?.data.callId, err: err.message }, 'recording job failed'),
  );
  return { worker, queue };
}

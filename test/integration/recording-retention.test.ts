/**
 * A recording leaves with its call: the recording worker (real BullMQ on real Redis) stores the combined file and,
 * once the retention has passed, deletes it from the store and drops the call's recording record.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirRecordingStore } from '../../src/recording/recording.store.js';
import { addStoreJob, createRecordingWorker, type RecordingJob } from '../../src/recording/recording.worker.js';
import { keys as makeKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { encodeToneFile } from '../../src/testing/opus-fixtures.js';
import { cleanupPrefix, redisUrl, testPrefix, waitUntil } from '../helpers.js';

const RETENTION_MS = 2_000;

describe('recordings at retention', () => {
  let prefix: string;
  let dir: string;
  let redis: Redis;
  let bull: Redis;
  let worker: Worker<RecordingJob>;
  let queue: Queue<RecordingJob>;

  beforeEach(async () => {
    prefix = testPrefix();
    dir = await mkdtemp(path.join(os.tmpdir(), 'rec-retention-'));
    redis = new Redis(redisUrl());
    bull = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  });
  afterEach(async () => {
    await worker?.close();
    await queue?.close();
    redis.disconnect();
    bull.disconnect();
    await cleanupPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('the stored recording is deleted with its record once the retention has passed', async () => {
    const keys = makeKeys(prefix);
    const store = new DirRecordingStore(path.join(dir, 'stored'));
    ({ worker, queue } = createRecordingWorker({
      connection: bull,
      redis,
      keys,
      store,
      logger: silentLogger,
      retentionMs: RETENTION_MS,
    }));
    const callId = 'wacid.retention/1+';
    const parts = ['caller', 'agents'].map((d) => path.join(dir, `retention.${d}.ogg`));
    await writeFile(parts[0]!, await encodeToneFile(440));
    await writeFile(parts[1]!, await encodeToneFile(660));
    await addStoreJob(queue, callId, parts);

    await waitUntil(async () => (await redis.hget(keys.call.recording(callId), 'bytes')) !== null, {
      what: 'the recording stored',
      timeoutMs: 20_000,
    });
    expect(await store.read(callId)).toBeDefined();
    // The direction files are gone once combined.
    for (const p of parts) expect(existsSync(p)).toBe(false);

    await waitUntil(async () => (await store.read(callId)) === undefined, {
      what: 'the recording deleted at retention',
      timeoutMs: RETENTION_MS + 20_000,
    });
    expect(await readdir(path.join(dir, 'stored'))).toEqual([]);
    expect(await redis.exists(keys.call.recording(callId))).toBe(0);
  });
});

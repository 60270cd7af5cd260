import { type Job, Worker } from 'bullmq';
import type { Deliverer } from '../machines/deliver.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions, QUEUE, type TimerJob } from './queues.js';

/**
 * Delivers delayed timer jobs to their call as `TIMER.FIRED`. A timer whose state was already left is ignored by the
 * machine (its guards check the timer's token), so a late or replayed timer changes nothing.
 */
export function createTimerWorker(deps: {
  connection: RedisClient;
  keys: Keys;
  deliverer: Deliverer;
  logger: Logger;
  concurrency?: number;
  lockMs?: number;
}): Worker<TimerJob> {
  const worker = new Worker<TimerJob>(
    QUEUE.timer,
    async (job: Job<TimerJob>) => {
      const { callId, timer, token } = job.data;
      const out = await deps.deliverer.deliver(callId, { type: 'TIMER.FIRED', timer, token });
      return out.status;
    },
    {
      connection: deps.connection,
      prefix: deps.keys.bullPrefix,
      concurrency: deps.concurrency ?? 32,
      ...lockOptions(deps.lockMs),
    },
  );
  worker.on('error', (err) => deps.logger.error({ err: err.message }, 'timer worker error'));
  worker.on('failed', (job, err) =>
    deps.logger.warn({ callId: job?.data.callId, attempts: job?.attemptsMade, err: err.message }, 'timer job failed'),
  );
  return worker;
}

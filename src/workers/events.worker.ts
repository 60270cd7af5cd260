import { type Job, Worker } from 'bullmq';
import type { EventDeliveryJob } from '../events/call-events.js';
import { signEvent } from '../events/call-events.js';
import type { CallEventBody, CallEventCall, CallEventType } from '../shared/call-event.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions, QUEUE, type Queues } from './queues.js';

/**
 * Raises call events: one BullMQ job per configured URL, added from the effect dispatcher (never from the call's
 * own transition), so a slow or failing receiver only delays its own jobs, never a call.
 */
export class WebhookEventSink {
  constructor(readonly deps: { queues: Queues; urls: readonly string[] }) {}

  async raise(eventId: string, type: CallEventType, call: CallEventCall, at: number): Promise<void> {
    if (this.deps.urls.length === 0) return;
    const body = JSON.stringify({ id: eventId, type, at, call } satisfies CallEventBody);
    await Promise.all(this.deps.urls.map((url) => this.deps.queues.addEventDelivery({ eventId, type, url, body })));
  }
}

export interface EventsWorkerDeps {
  connection: RedisClient;
  keys: Keys;
  secret: string;
  logger: Logger;
  /** Per attempt. @default 5000 */
  timeoutMs?: number;
  /** @default 8 */
  concurrency?: number;
  lockMs?: number;
}

/** POSTs one event to one URL. Anything but a 2xx (or no answer in time) throws, and BullMQ retries with backoff. */
export function createEventsWorker(deps: EventsWorkerDeps): Worker<EventDeliveryJob> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const worker = new Worker<EventDeliveryJob>(
    QUEUE.events,
    async (job: Job<EventDeliveryJob>) => {
      const { url, body, eventId, type } = job.data;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-signature-256': signEvent(body, deps.secret),
            'x-event-id': eventId,
            'x-event-type': type,
            'user-agent': 'wacc-events/1',
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        throw new Error(`${new URL(url).host} did not answer: ${(err as Error).message}`);
      }
      // Drain the body so the connection is released; its content does not matter.
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`${new URL(url).host} answered ${res.status}`);
      return res.status;
    },
    {
      connection: deps.connection,
      prefix: deps.keys.bullPrefix,
      concurrency: deps.concurrency ?? 8,
      ...lockOptions(Math.max(deps.lockMs ?? 10_000, timeoutMs * 2)),
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    const log = { eventId: job.data.eventId, type: job.data.type, attempt: job.attemptsMade, err: err.message };
    if (final) deps.logger.error(log, 'call event not delivered; given up (retry it from the queue dashboard)');
    else deps.logger.warn(log, 'call event delivery failed; retrying with backoff');
  });
  worker.on('error', (err) => deps.logger.error({ err: err.message }, 'events worker error'));
  return worker;
}

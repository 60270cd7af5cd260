import type { Worker } from 'bullmq';
import { createMetaCapture } from '../recording/meta-capture.worker.js';
import { createRecordingWorker } from '../recording/recording.worker.js';
import { createRouteWorker } from '../routing/route.worker.js';
import type { Core } from '../runtime.js';
import { createEventsWorker } from '../workers/events.worker.js';
import { type GraphClient, HttpGraphClient } from '../workers/graph.client.js';
import { createGraphWorker } from '../workers/graph.worker.js';
import { IngestConsumer, IngestProcessor } from '../workers/ingest.consumer.js';
import { Maintenance } from '../workers/maintenance.js';
import { WORKER_NAME } from '../workers/queues.js';
import { Sweeper } from '../workers/sweeper.js';
import { createTimerWorker } from '../workers/timer.worker.js';

export interface WorkerRole {
  workers: Worker[];
  stop(): Promise<void>;
}

/** The worker role: Graph API, timers, routing, housekeeping. Any worker can run any job. */
export async function startWorkerRole(core: Core, opts: { graphClient?: GraphClient } = {}): Promise<WorkerRole> {
  const { config, logger, keys, deliverer } = core;
  await core.agents.start();
  const conn = () => core.factory.create('worker', { blocking: true });
  const graph = createGraphWorker({
    connection: conn(),
    keys,
    deliverer,
    client: opts.graphClient ?? new HttpGraphClient(config.graph),
    logger,
    metrics: core.metrics,
    retentionMs: config.calls.retentionMs,
    lockMs: config.workerLockMs,
    captureFor: (id) => core.routing.captureFor(id),
    media: core.media,
  });
  // Our recordings and Meta's files: stored alike, deleted with the call.
  const files = {
    redis: core.redis,
    keys,
    store: core.recordings,
    logger,
    retentionMs: config.calls.retentionMs,
    lockMs: config.workerLockMs,
  };
  const metaCapture = createMetaCapture({ ...files, connection: conn(), download: { graph: config.graph } });
  const timer = createTimerWorker({ connection: conn(), keys, deliverer, logger, lockMs: config.workerLockMs });
  const route = createRouteWorker({
    connection: conn(),
    redis: core.redis,
    keys,
    deliverer,
    presence: core.presence,
    routing: core.routing,
    queueDispatcher: core.queueDispatcher,
    logger,
    lockMs: config.workerLockMs,
  });
  const maintenance = new Maintenance({
    connection: conn(),
    redis: core.redis,
    keys,
    deliverer,
    presence: core.presence,
    availability: core.availability,
    nodes: core.nodes,
    logger,
    settleMs: Math.max(config.media.nodeTtlMs, 2000),
  });
  const sweeper = new Sweeper({ deliverer, index: core.index, redis: core.redis, keys, logger });
  const ingest = new IngestConsumer({
    processor: new IngestProcessor({
      deliverer,
      redis: core.redis,
      keys,
      logger,
      metrics: core.metrics,
      calls: config.calls,
      businessFlow: (id) => core.routing.flowFor(id),
      media: core.nodes,
      onPermissionReply: (e) => core.dial.onPermissionReply(e),
      onMetaMedia: (e) => metaCapture.intake(e),
      recordFor: (id) => core.routing.recordFor(id),
    }),
    redis: core.redis,
    blocking: core.factory.create('ingest', { blocking: true }),
    keys,
    logger,
    consumerName: WORKER_NAME,
    claimIdleMs: config.workerLockMs,
  });
  const recording = createRecordingWorker({ ...files, connection: conn() });
  const events = createEventsWorker({
    connection: conn(),
    keys,
    secret: config.events.secret,
    logger,
    timeoutMs: config.events.timeoutMs,
    lockMs: config.workerLockMs,
  });
  const workers = [graph, timer, route, events, recording.worker, metaCapture.worker];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  await ingest.start();
  maintenance.start();
  sweeper.start();
  logger.info('worker role running');
  return {
    workers: [...workers, maintenance.worker],
    async stop() {
      await ingest.stop();
      await sweeper.stop();
      await maintenance.stop();
      // close() waits for running jobs to finish; a job cut off by a crash is retried by another worker.
      await Promise.all(workers.map((w) => w.close()));
      await recording.queue.close();
      await metaCapture.queue.close();
    },
  };
}

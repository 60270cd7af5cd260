import { type Job, Worker } from 'bullmq';
import type { Availability } from '../agents/availability.js';
import type { PresenceService } from '../agents/presence.js';
import type { Deliverer } from '../machines/deliver.js';
import type { NodeRegistry } from '../media/node-registry.js';
import { errorMessage } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions, QUEUE, type Queues } from './queues.js';

interface WrapUpJob {
  agentId: string;
}

export function scheduleWrapUpEnd(queues: Queues) {
  return async (agentId: string, at: number) => {
    await queues.maintenance.add('wrapup-end', { agentId } satisfies WrapUpJob, {
      jobId: `wrapup.${agentId}.${at}`,
      delay: Math.max(0, at - Date.now()),
      removeOnComplete: true,
      removeOnFail: 100,
    });
  };
}

/**
 * Housekeeping that must happen even when nobody acts: agents whose leases ran out go offline (their offers move
 * on), media nodes whose heartbeat stopped have their calls ended (`media-failed`), wrap-ups end.
 * Runs in every worker process; a short Redis lock makes each pass happen once.
 */
export class Maintenance {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Since when this process has reached Redis without a failure. */
  #healthySince: number | undefined;
  readonly worker: Worker;

  constructor(
    readonly deps: {
      connection: RedisClient;
      redis: RedisClient;
      keys: Keys;
      deliverer: Deliverer;
      presence: PresenceService;
      availability: Availability;
      nodes: NodeRegistry;
      logger: Logger;
      /** @default 1000 */
      intervalMs?: number;
      /**
       * Lease sweeps start only after Redis has been reachable this long (after a start or an outage), so leases
       * that nobody could renew during the outage are not mistaken for dead nodes or agents. @default 10000
       */
      settleMs?: number;
    },
  ) {
    this.worker = new Worker(
      QUEUE.maintenance,
      async (job: Job) => {
        const { agentId } = job.data as WrapUpJob;
        if (job.name === 'wrapup-end') await deps.availability.becameAvailable(agentId);
        // A dropped connection that did not come back: the agent's ringing calls move on.
        if (job.name === 'offline-check' && (await deps.presence.effective(agentId)) === 'offline') {
          await deps.availability.becameUnavailable(agentId);
        }
      },
      { connection: deps.connection, prefix: deps.keys.bullPrefix, concurrency: 4, ...lockOptions() },
    );
    this.worker.on('error', (err) => deps.logger.error({ err: err.message }, 'maintenance worker error'));
  }

  start(): void {
    const every = this.deps.intervalMs ?? 1000;
    const tick = () => {
      this.#running = this.runOnce()
        .catch((err) => this.deps.logger.warn({ err: errorMessage(err) }, 'maintenance pass failed'))
        .finally(() => {
          this.#running = undefined;
          if (this.#timer) this.#timer = setTimeout(tick, every);
        });
    };
    this.#timer = setTimeout(tick, every);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.worker.close();
  }

  async runOnce(now = Date.now()): Promise<void> {
    const { redis, keys } = this.deps;
    let locked: boolean;
    try {
      locked = (await redis.set(`${keys.prefix}:maint:lock`, String(process.pid), 'PX', 900, 'NX')) === 'OK';
    } catch (err) {
      this.#healthySince = undefined;
      throw err;
    }
    this.#healthySince ??= now;
    if (!locked) return;
    // Right after Redis came back, leases look expired only because nobody could renew them: wait one lease.
    const settled = now - this.#healthySince >= (this.deps.settleMs ?? 10_000);
    if (!settled) return;
    await this.sweepPresence(now);
    await this.sweepMediaNodes(now);
  }

  async sweepPresence(now = Date.now()): Promise<void> {
    for (const agentId of await this.deps.presence.expired(now)) {
      if (await this.deps.presence.forget(agentId, now)) {
        this.deps.logger.info({ agentId }, 'agent lease expired: offline');
        await this.deps.availability.becameUnavailable(agentId);
      }
    }
  }

  /** A node whose heartbeat expired has lost its calls: end each one cleanly (Meta terminate, agent told why). */
  async sweepMediaNodes(now = Date.now()): Promise<void> {
    const { nodes, redis, keys, deliverer, logger } = this.deps;
    for (const nodeId of await nodes.expired(now)) {
      const calls = await redis.smembers(keys.media.calls(nodeId));
      logger.warn({ nodeId, calls: calls.length }, 'media node heartbeat expired; ending its calls');
      for (const callId of calls) {
        await deliverer.deliver(callId, { type: 'MEDIA.FAILED', reason: `media node ${nodeId} was lost` });
      }
      await redis.del(keys.media.calls(nodeId));
      await nodes.deregister(nodeId);
    }
  }
}

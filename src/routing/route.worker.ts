import { type Job, Worker } from 'bullmq';
import type { PresenceService } from '../agents/presence.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions, QUEUE, type RouteJob } from '../workers/queues.js';
import { decide } from './policy.js';
import type { QueueDispatcher } from './queue.dispatch.js';
import type { RoutingConfig } from './routing.config.js';

/**
 * Answers a call's `routing.request`: reads who is available, applies the number's policy, and delivers
 * ROUTING.OFFER or ROUTING.NO_AGENTS with the request's `seq` (a newer request makes an older answer stale).
 */
export function createRouteWorker(deps: {
  connection: RedisClient;
  redis: RedisClient;
  keys: Keys;
  deliverer: Deliverer;
  presence: PresenceService;
  routing: RoutingConfig;
  queueDispatcher: QueueDispatcher;
  logger: Logger;
  concurrency?: number;
  lockMs?: number;
}): Worker<RouteJob> {
  const { deliverer, presence, routing, keys, redis } = deps;
  const worker = new Worker<RouteJob>(
    QUEUE.route,
    async (job: Job<RouteJob>) => {
      const { callId, seq } = job.data;
      if (job.data.pump) return `pumped ${await deps.queueDispatcher.pump()}`;
      const stored = await deliverer.store.load(callId);
      if (!stored) return 'unknown-call';
      const ctx = restore(stored.snapshot).context;
      if (stored.state === 'queued') return routeQueued(deps, callId, seq);
      if (!['ringing', 'agent-offered', 'transferring'].includes(stored.state) || ctx.routing.seq !== seq)
        return 'stale';
      let number = routing.forNumber(ctx.line.phoneNumberId);
      // A transfer nobody took, whose agent left: the transfer's team, everyone eligible at once.
      if (stored.state === 'transferring' && ctx.live.transfer?.team) {
        number = { ...number, policy: 'ring-all', teams: [ctx.live.transfer.team], tiers: ['team'] };
      }
      const sticky = routing.stickyAgent && ctx.caller.waId ? await redis.get(keys.callerAgent(ctx.caller.waId)) : null;
      const decision = decide({
        routing: number,
        candidates: await presence.online(),
        declined: ctx.routing.declined,
        tried: ctx.routing.tried,
        ringing: ctx.routing.offer?.agentIds ?? [],
        assignedAgentId: routing.assignedAgent(ctx.caller.waId) ?? sticky ?? undefined,
      });
      if (decision.kind === 'none') {
        await deliverer.deliver(callId, { type: 'ROUTING.NO_AGENTS', seq, note: decision.note });
        return 'none';
      }
      await deliverer.deliver(callId, {
        type: 'ROUTING.OFFER',
        seq,
        agentIds: decision.agentIds,
        policy: decision.policy,
        tier: decision.tier,
        ringTimeoutMs: decision.ringTimeoutMs,
        resetTried: decision.resetTried,
        note: decision.note,
      });
      return 'offered';
    },
    {
      connection: deps.connection,
      prefix: keys.bullPrefix,
      concurrency: deps.concurrency ?? 16,
      ...lockOptions(deps.lockMs),
    },
  );
  worker.on('error', (err) => deps.logger.error({ err: err.message }, 'route worker error'));
  worker.on('failed', (job, err) =>
    deps.logger.warn({ callId: job?.data.callId, attempts: job?.attemptsMade, err: err.message }, 'route job failed'),
  );
  return worker;
}

/**
 * A business-answered call asks for an agent: the queue pump offers the heads of the queues (this call only when its
 * turn has come). If it got no offer, it hears so and looks again later (agents becoming free also trigger a pump).
 */
async function routeQueued(
  deps: { deliverer: Deliverer; queueDispatcher: QueueDispatcher },
  callId: string,
  seq: number,
): Promise<string> {
  await deps.queueDispatcher.pump();
  const stored = await deps.deliverer.store.load(callId);
  if (!stored) return 'unknown-call';
  if (stored.state !== 'queued') return 'moved on';
  const ctx = restore(stored.snapshot).context;
  if (ctx.routing.offer || ctx.routing.seq !== seq) return 'offered';
  await deps.deliverer.deliver(callId, { type: 'ROUTING.NO_AGENTS', seq, note: 'waiting in the queue' });
  return 'waiting';
}

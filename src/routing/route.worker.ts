import { type Job, Worker } from 'bullmq';
import type { PresenceService } from '../agents/presence.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { lockOptions, QUEUE, type RouteJob } from '../workers/queues.js';
import { decide } from './policy.js';
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
  logger: Logger;
  concurrency?: number;
  lockMs?: number;
}): Worker<RouteJob> {
  const { deliverer, presence, routing, keys, redis } = deps;
  const worker = new Worker<RouteJob>(
    QUEUE.route,
    async (job: Job<RouteJob>) => {
      const { callId, seq } = job.data;
      const stored = await deliverer.store.load(callId);
      if (!stored) return 'unknown-call';
      const ctx = restore(stored.snapshot).context;
      if (!['ringing', 'agent-offered', 'transferring'].includes(stored.state) || ctx.routingSeq !== seq)
        return 'stale';
      let number = routing.forNumber(ctx.phoneNumberId);
      // A transfer nobody took, whose agent left: the transfer's team, everyone eligible at once.
      if (stored.state === 'transferring' && ctx.transfer?.team) {
        number = { ...number, policy: 'ring-all', teams: [ctx.transfer.team], tiers: ['team'] };
      }
      const sticky = routing.stickyAgent && ctx.caller.waId ? await redis.get(keys.callerAgent(ctx.caller.waId)) : null;
      const decision = decide({
        routing: number,
        candidates: await presence.online(),
        declined: ctx.declined,
        tried: ctx.tried,
        ringing: ctx.offer?.agentIds ?? [],
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

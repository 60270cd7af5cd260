import { randomUUID } from 'node:crypto';
import type { AgentAvailability } from '../agents/presence.js';
import type { CallContext } from '../machines/call.types.js';
import { type Deliverer, readable } from '../machines/deliver.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import { decide, type NumberRouting } from './policy.js';
import type { QueueStore } from './queue.store.js';

const LOCK_MS = 5000;
const HEADS_PER_TEAM = 50;
const RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

type Releasing = RedisClient & { queuePumpRelease(key: string, token: string): Promise<number> };

/** A queued call that can be offered now. */
interface Head {
  callId: string;
  score: number;
  ctx: CallContext;
}

/**
 * Offers the heads of the queues to free agents, fairly: the calls of every queue a free agent serves are taken in
 * one order (priority, then entry time), and each one is offered to the free agents of its teams chosen by the
 * number's policy (ring-all: all of them; ring-one: the longest idle). An agent is offered one call at a time, and a
 * call one offer at a time. One pass runs at a time in the whole cluster (a lock with an expiry, so a killed process
 * only delays the next pass); a pass asked for meanwhile runs right after.
 */
export class QueueDispatcher {
  constructor(
    readonly deps: {
      redis: RedisClient;
      keys: Keys;
      deliverer: Deliverer;
      queue: QueueStore;
      online: () => Promise<AgentAvailability[]>;
      routingFor: (phoneNumberId: string) => NumberRouting;
      logger: Logger;
    },
  ) {
    const r = deps.redis as Releasing;
    if (typeof r.queuePumpRelease !== 'function') {
      deps.redis.defineCommand('queuePumpRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    }
  }

  /** Runs passes until nobody asked for another; returns how many offers went out (0 when another process ran). */
  async pump(): Promise<number> {
    const { redis, keys } = this.deps;
    const token = randomUUID();
    if ((await redis.set(keys.queue.pumpLock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      await redis.set(keys.queue.pumpAgain, '1', 'PX', LOCK_MS * 2);
      return 0;
    }
    let offers = 0;
    try {
      for (let pass = 0; pass < 10; pass++) {
        await redis.del(keys.queue.pumpAgain);
        offers += await this.#pass();
        if (!(await redis.exists(keys.queue.pumpAgain))) break;
      }
    } finally {
      await (redis as Releasing).queuePumpRelease(keys.queue.pumpLock, token);
    }
    return offers;
  }

  async #pass(): Promise<number> {
    let free = (await this.deps.online()).filter((a) => a.available && a.offers === 0 && !a.callId);
    if (free.length === 0) return 0;
    const heads = await this.#heads([...new Set(free.flatMap((a) => a.teams))]);
    let offers = 0;
    for (const head of heads) {
      if (free.length === 0) break;
      const teams = head.ctx.queue!.teams;
      const candidates = free.filter((a) => a.teams.some((t) => teams.includes(t)));
      if (candidates.length === 0) continue;
      const number = this.deps.routingFor(head.ctx.line.phoneNumberId);
      const decision = decide({
        routing: { ...number, teams, tiers: ['team'] },
        candidates,
        declined: head.ctx.routing.declined,
        tried: head.ctx.routing.tried,
        ringing: [],
        assignedAgentId: undefined,
      });
      if (decision.kind === 'none') continue;
      const out = await this.deps.deliverer.deliver(head.callId, {
        type: 'ROUTING.OFFER',
        seq: head.ctx.routing.seq,
        agentIds: decision.agentIds,
        policy: decision.policy,
        tier: decision.tier,
        ringTimeoutMs: number.ringTimeoutMs,
        resetTried: decision.resetTried,
        note: `queue head: ${decision.note}`,
      });
      if (out.status !== 'applied') continue;
      offers++;
      free = free.filter((a) => !decision.agentIds.includes(a.id));
    }
    return offers;
  }

  /** The calls waiting in these teams' queues that can take an offer now, in order of service. */
  async #heads(teams: string[]): Promise<Head[]> {
    const lists = await Promise.all(teams.map((t) => this.deps.queue.list(t, HEADS_PER_TEAM)));
    const byId = new Map<string, number>();
    for (const e of lists.flat()) byId.set(e.callId, Math.min(e.score, byId.get(e.callId) ?? Number.POSITIVE_INFINITY));
    const ordered = [...byId.entries()].sort((a, b) => a[1] - b[1]);
    const loaded = await Promise.all(ordered.map(([id]) => this.deps.deliverer.store.load(id)));
    const heads: Head[] = [];
    loaded.forEach((s, i) => {
      const [callId, score] = ordered[i]!;
      if (!s) return;
      // Callback tasks wait in the same queues (call.callback.ts).
      if (s.state !== 'queued' && s.state !== 'callback-queued') return;
      const ctx = readable(s.snapshot)?.context;
      if (!ctx || ctx.routing.offer || ctx.outcome.leaving || !ctx.queue) return;

      if (s.state === 'queued' && ctx.times.answeredAt === undefined) return;
      heads.push({ callId, score, ctx });
    });
    return heads;
  }
}

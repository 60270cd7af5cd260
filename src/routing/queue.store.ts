import { utcDay } from '../machines/call.index.js';
import type { CallContext } from '../machines/call.types.js';
import type { CallQueuePort, MediaCommander } from '../machines/ports.js';
import { positionAnnouncement } from '../media/opus/prompts.js';
import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';
import { expectedWaitMs } from './announce.js';
import type { QueueOutcome } from './figures.js';

/** Priority first (higher first), then entry time (earlier first); fits a double exactly for priorities 0–99. */
const queueScore = (priority: number, enteredAt: number) => (99 - priority) * 1e13 + enteredAt;

const HANDLE_SAMPLES = 50;
const OUTCOMES_KEPT = 50_000;

/** One waiting caller, for the supervisor's queue view. */
interface QueueEntry {
  callId: string;
  position: number;
  score: number;
}

/**
 * The per-team queues of business-answered calls, in Redis so every replica agrees. Each team is one sorted set
 * in its own hash slot; a call waiting for two teams is in both. Every write is idempotent (a replayed effect
 * changes nothing): ZADD NX keeps the first score, ZREM of an absent member is a no-op.
 */
export class QueueStore implements CallQueuePort {
  constructor(
    readonly deps: {
      redis: RedisClient;
      keys: Keys;
      media: Pick<MediaCommander, 'play'>;
      /** How many agents serve each of these teams (online and taking calls), for the expected wait. */
      agentsServing: (teams: string[]) => Promise<number>;
      /** Used when a team has no recent handle time yet. @default 180_000 */
      defaultHandleMs?: number;
    },
  ) {}

  async enter(callId: string, teams: string[], priority: number, enteredAt: number): Promise<void> {
    const { redis, keys } = this.deps;
    await Promise.all(teams.map((t) => redis.zadd(keys.queue.team(t), 'NX', queueScore(priority, enteredAt), callId)));
  }

  async exit(callId: string, teams: string[]): Promise<void> {
    const { redis, keys } = this.deps;
    await Promise.all(teams.map((t) => redis.zrem(keys.queue.team(t), callId)));
  }

  /** The team's waiting calls in order of service. */
  async list(team: string, limit = 200): Promise<QueueEntry[]> {
    const raw = await this.deps.redis.zrange(this.deps.keys.queue.team(team), '0', String(limit - 1), 'WITHSCORES');
    const out: QueueEntry[] = [];
    for (let i = 0; i < raw.length; i += 2)
      out.push({ callId: raw[i]!, score: Number(raw[i + 1]), position: i / 2 + 1 });
    return out;
  }

  /** 1-based place in line across the call's teams (callers ahead in any of them), or undefined if not queued. */
  async position(callId: string, teams: string[]): Promise<number | undefined> {
    const { redis, keys } = this.deps;
    const scores = await Promise.all(teams.map((t) => redis.zscore(keys.queue.team(t), callId)));
    const own = scores.find((s) => s !== null);
    if (own === undefined || own === null) return undefined;
    const ahead = await Promise.all(
      teams.map((t) => redis.zrangebyscore(keys.queue.team(t), '-inf', `(${own}`, 'LIMIT', 0, 1000)),
    );
    return new Set(ahead.flat()).size + 1;
  }

  async avgHandleMs(teams: string[]): Promise<number> {
    const { redis, keys } = this.deps;
    const lists = await Promise.all(teams.map((t) => redis.lrange(keys.queue.handle(t), 0, HANDLE_SAMPLES - 1)));
    const xs = lists.flat().map(Number).filter(Number.isFinite);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (this.deps.defaultHandleMs ?? 180_000);
  }

  async announce(callId: string, nodeId: string, playId: string, teams: string[], thenLoop?: string[]): Promise<void> {
    const position = await this.position(callId, teams);
    if (position === undefined) return; // left the queue meanwhile
    const [agents, handleMs] = await Promise.all([this.deps.agentsServing(teams), this.avgHandleMs(teams)]);
    const clips = positionAnnouncement(position, expectedWaitMs(position, agents, handleMs) / 1000);
    await this.deps.media.play(nodeId, callId, playId, clips, false, thenLoop);
  }

  /** Records how a call that waited ended, once (a replayed effect is recognised by a marker in the call's slot). */
  async ended(callId: string, ctx: CallContext): Promise<void> {
    const { redis, keys } = this.deps;
    const q = ctx.queue;
    if (!q) return;
    if ((await redis.hsetnx(keys.call.state(callId), 'queueCounted', '1')) !== 1) return;
    const outcome: QueueOutcome['outcome'] =
      ctx.times.liveAt !== undefined
        ? 'answered'
        : ctx.outcome.reason === 'abandoned'
          ? 'abandoned'
          : ctx.outcome.reason === 'queue-timeout'
            ? 'timeout'
            : 'other';
    const end = q.leftAt ?? ctx.times.endedAt ?? Date.now();
    const record: QueueOutcome = { callId, teams: q.teams, outcome, waitMs: Math.max(0, end - q.enteredAt) };
    const day = keys.queue.outcomes(utcDay(q.enteredAt));
    const m = redis.multi().rpush(day, JSON.stringify(record)).ltrim(day, -OUTCOMES_KEPT, -1);
    await m.pexpire(day, 40 * 86_400_000).exec();
    if (ctx.times.liveAt !== undefined && ctx.times.endedAt !== undefined) {
      const handleMs = ctx.times.endedAt - ctx.times.liveAt;
      await Promise.all(
        q.teams.map((t) =>
          redis
            .multi()
            .lpush(keys.queue.handle(t), String(handleMs))
            .ltrim(keys.queue.handle(t), 0, HANDLE_SAMPLES - 1)
            .exec(),
        ),
      );
    }
  }

  async outcomes(day: string): Promise<QueueOutcome[]> {
    const raw = await this.deps.redis.lrange(this.deps.keys.queue.outcomes(day), 0, -1);
    return raw.map((r) => JSON.parse(r) as QueueOutcome);
  }
}

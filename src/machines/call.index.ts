import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';
import type { DailyFigures } from '../shared/rest-types.js';
import type { CallContext } from './call.types.js';

export type { DailyFigures };

const FIELDS = [
  'calls',
  'answered',
  'missed',
  'abandoned',
  'failed',
  'rejected',
  'answerMsSum',
  'handleMsSum',
] as const;

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Cross-call indexes: recent calls (listing), active calls (sweep, live view), waiting calls (agents becoming
 * available look here), and the daily counters. They are written by effects, so a crash replays them from the
 * outbox; every write is idempotent or commutative per call.
 */
export class CallIndex {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #retentionMs: number;

  constructor(redis: RedisClient, keys: Keys, opts: { retentionMs: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#retentionMs = opts.retentionMs;
  }

  async created(callId: string, ctx: CallContext): Promise<void> {
    const k = this.#keys;
    await Promise.all([
      this.#redis.zadd(k.callsRecent, ctx.times.createdAt, callId),
      this.#redis.zadd(k.callsActive, ctx.times.createdAt, callId),
      this.#redis.zremrangebyscore(k.callsRecent, '-inf', Date.now() - this.#retentionMs),
    ]);
  }

  async joinQueue(callId: string, ctx: CallContext): Promise<void> {
    await this.#redis.zadd(this.#keys.callsWaiting, ctx.times.createdAt, callId);
  }

  async leaveQueue(callId: string): Promise<void> {
    await this.#redis.zrem(this.#keys.callsWaiting, callId);
  }

  /** Oldest first. */
  async waiting(limit = 100): Promise<string[]> {
    return this.#redis.zrange(this.#keys.callsWaiting, '0', String(limit - 1));
  }

  async active(limit = 1000): Promise<string[]> {
    return this.#redis.zrange(this.#keys.callsActive, '0', String(limit - 1));
  }

  /** Newest first. */
  async recent(limit = 100, beforeMs = Number.POSITIVE_INFINITY): Promise<string[]> {
    const max = Number.isFinite(beforeMs) ? `(${beforeMs}` : '+inf';
    return this.#redis.zrevrangebyscore(this.#keys.callsRecent, max, '-inf', 'LIMIT', 0, limit);
  }

  /**
   * Records the outcome once per call: the HSETNX marker in the call's own slot makes a replayed effect count once.
   */
  async ended(callId: string, ctx: CallContext): Promise<boolean> {
    const k = this.#keys;
    const [, , first] = await Promise.all([
      this.#redis.zrem(k.callsActive, callId),
      this.#redis.zrem(k.callsWaiting, callId),
      this.#redis.hsetnx(k.call.state(callId), 'counted', '1'),
    ]);
    if (first !== 1) return false;
    const day = utcDay(ctx.times.createdAt);
    const key = k.statsDaily(day);
    const m = this.#redis.multi().hincrby(key, 'calls', 1);
    if (ctx.times.liveAt !== undefined) {
      m.hincrby(key, 'answered', 1).hincrby(key, 'answerMsSum', Math.round(ctx.times.liveAt - ctx.times.createdAt));
      m.hincrby(key, 'handleMsSum', Math.round((ctx.times.endedAt ?? ctx.times.liveAt) - ctx.times.liveAt));
    } else if (ctx.outcome.reason === 'missed') m.hincrby(key, 'missed', 1);
    else if (ctx.outcome.reason === 'caller-hung-up' || ctx.outcome.reason === 'abandoned')
      m.hincrby(key, 'abandoned', 1);
    else if (ctx.outcome.reason === 'rejected') m.hincrby(key, 'rejected', 1);
    else m.hincrby(key, 'failed', 1);
    m.pexpire(key, 40 * 86_400_000);
    await m.exec();
    return true;
  }

  async daily(day: string): Promise<DailyFigures> {
    const raw = await this.#redis.hgetall(this.#keys.statsDaily(day));
    const out = { day } as DailyFigures;
    for (const f of FIELDS) out[f] = Number(raw[f] ?? 0);
    return out;
  }
}

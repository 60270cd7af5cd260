import type { CallIndex } from '../machines/call.index.js';
import { type Deliverer, readable } from '../machines/deliver.js';
import { errorMessage } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';

type SweepClient = RedisClient & { zremIfScore(key: string, member: string, score: string): Promise<number> };

const ZREM_IF_SCORE = `
-- KEYS[1] zset; ARGV[1] member; ARGV[2] the score it had when read.
-- Removes the member only if nobody re-marked it since (a newer score means new effects were written).
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`;

export interface SweeperOptions {
  deliverer: Deliverer;
  index: CallIndex;
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /** How often the sweeps run. @default 2000 */
  intervalMs?: number;
  /** Outbox entries younger than this are left to the process that wrote them. @default 3000 */
  minAgeMs?: number;
  /** An empty outbox's index entry is dropped after this. @default 30000 */
  forgetAfterMs?: number;
  /** How often every active call is checked for a passed deadline. @default 10000 */
  strandedEveryMs?: number;
}

/**
 * Two safety nets, run by every worker process (locks make each piece of work happen once):
 * - the outbox sweep dispatches effects that a crashed process committed but never sent;
 * - the stranded-call sweep sends `TIMER.SWEEP` to active calls, which end any call whose deadline passed without
 *   its timer firing (a lost delayed job).
 */
export class Sweeper {
  readonly #o: Required<Omit<SweeperOptions, 'redis'>> & { redis: SweepClient };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #lastStranded = 0;

  constructor(opts: SweeperOptions) {
    if (!('zremIfScore' in opts.redis))
      opts.redis.defineCommand('zremIfScore', { numberOfKeys: 1, lua: ZREM_IF_SCORE });
    const redis = opts.redis as SweepClient;
    this.#o = {
      intervalMs: 2000,
      minAgeMs: 3000,
      forgetAfterMs: 30_000,
      strandedEveryMs: 10_000,
      ...opts,
      redis,
    };
  }

  start(): void {
    if (this.#timer) return;
    const tick = () => {
      this.#running = this.sweepOnce()
        .then(() => undefined)
        .catch((err) => this.#o.logger.warn({ err: errorMessage(err) }, 'sweep failed; will retry'))
        .finally(() => {
          this.#running = undefined;
          if (this.#timer) this.#timer = setTimeout(tick, this.#o.intervalMs * (0.75 + Math.random() / 2));
        });
    };
    this.#timer = setTimeout(tick, this.#o.intervalMs * Math.random());
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async sweepOnce(now = Date.now()): Promise<{ dispatched: number; forgotten: number; swept: number }> {
    const out = await this.sweepOutboxes(now);
    let swept = 0;
    if (now - this.#lastStranded >= this.#o.strandedEveryMs) {
      this.#lastStranded = now;
      swept = await this.sweepStranded(now);
    }
    return { ...out, swept };
  }

  async sweepOutboxes(now = Date.now()): Promise<{ dispatched: number; forgotten: number }> {
    const { redis, keys, deliverer } = this.#o;
    const store = deliverer.store;
    const entries = await redis.zrangebyscore(
      keys.outboxPending,
      '-inf',
      now - this.#o.minAgeMs,
      'WITHSCORES',
      'LIMIT',
      0,
      200,
    );
    let dispatched = 0;
    let forgotten = 0;
    for (let i = 0; i < entries.length; i += 2) {
      const callId = entries[i]!;
      const score = entries[i + 1]!;
      const lock = keys.call.sweepLock(callId);
      if ((await redis.set(lock, '1', 'PX', 10_000, 'NX')) !== 'OK') continue;
      try {
        const items = await store.outbox(callId);
        if (items.length === 0) {
          if (Number(score) < now - this.#o.forgetAfterMs)
            forgotten += await redis.zremIfScore(keys.outboxPending, callId, score);
          continue;
        }
        const stored = await store.load(callId);
        if (!stored) {
          await redis.del(keys.call.outbox(callId));
          continue;
        }
        this.#o.logger.info(
          { callId, effects: items.map((i) => i.effect.type) },
          'dispatching effects left in the outbox',
        );
        const snapshot = readable(stored.snapshot);
        if (!snapshot) {
          this.#o.logger.warn({ callId }, 'outbox of a call whose snapshot is of an older shape: left to expire');
          continue;
        }
        const left = await deliverer.dispatchItems(callId, items, snapshot.context);

        dispatched += items.length - left;
      } finally {
        await redis.del(lock);
      }
    }
    return { dispatched, forgotten };
  }

  async sweepStranded(now = Date.now()): Promise<number> {
    const { redis, keys, index, deliverer } = this.#o;
    // One worker per period does the pass.
    if ((await redis.set(`${keys.prefix}:sweep:stranded`, '1', 'PX', this.#o.strandedEveryMs, 'NX')) !== 'OK') return 0;
    const ids = await index.active(2000);
    let changed = 0;
    for (const callId of ids) {
      const out = await deliverer.deliver(callId, { type: 'TIMER.SWEEP', at: now });
      if (out.status === 'applied') {
        changed++;
        this.#o.logger.warn({ callId, state: out.state }, 'stranded call swept');
      } else if (out.status === 'unknown-call' || (out.status === 'ignored' && out.state === 'ended')) {
        // Expired or already ended: it no longer belongs in the active index.
        await redis.zrem(keys.callsActive, callId);
      }
    }
    return changed;
  }
}

import { type ChainableCommander, Cluster } from 'ioredis';
import type { RedisClient } from './redis.js';

type Done = (err: Error | null | undefined, reply: unknown) => void;

/**
 * Issues commands on `c` (a pipeline, or the client itself) with callbacks; `done` settles the caller's promise with
 * the first error or the reply it is given. A command's own callback sees its script fallbacks through.
 */
export type BatchedCommand = (c: ChainableCommander, done: Done) => void;

/**
 * Sends the commands that one callback and the promises it settles issue as one pipeline: one network write instead
 * of one per command, in the order they were issued, with nothing waiting for a timer. Many calls in flight answer
 * in bursts (one socket read resolves several commands), and the next commands of all of them go out together.
 * A cluster client takes each command on its own: a pipeline must stay in one slot there.
 */
export class RedisBatch {
  readonly #redis: RedisClient;
  #queued: { add: BatchedCommand; settle: Done }[] = [];

  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  send<T>(add: BatchedCommand): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null | undefined, reply: unknown) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(reply as T);
      };
      if (this.#redis instanceof Cluster) {
        // The client's own methods take the same trailing callbacks.
        add(this.#redis as unknown as ChainableCommander, settle);
        return;
      }
      if (this.#queued.length === 0) process.nextTick(() => this.#flush());
      this.#queued.push({ add, settle });
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    const p = this.#redis.pipeline();
    for (const q of queued) q.add(p, q.settle);
    // Each command settles through its own callback; this only catches a pipeline that never got sent.
    p.exec().then(
      (results) => {
        if (!results) for (const q of queued) q.settle(new Error('redis pipeline was discarded'), undefined);
      },
      (err: Error) => {
        for (const q of queued) q.settle(err, undefined);
      },
    );
  }
}

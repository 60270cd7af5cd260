import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

export type RedisClient = Redis | Cluster;

export interface RedisFactoryOptions {
  /** `redis://host:port[/db]`; for a cluster, a comma-separated list of seed nodes. */
  url: string;
  cluster: boolean;
  logger: Logger;
}

/**
 * Creates connections on demand. BullMQ's blocking connections need `maxRetriesPerRequest: null`; commands on the
 * normal connections fail after a bounded number of retries so that no request waits forever while Redis is away.
 */
export class RedisFactory {
  readonly url: string;
  readonly cluster: boolean;
  readonly #logger: Logger;
  readonly #clients = new Set<RedisClient>();

  constructor(opts: RedisFactoryOptions) {
    this.url = opts.url;
    this.cluster = opts.cluster;
    this.#logger = opts.logger;
  }

  /** A new connection; `blocking` for BullMQ workers and subscribers. */
  create(name: string, opts: { blocking?: boolean } = {}): RedisClient {
    const base: RedisOptions = {
      connectionName: name,
      maxRetriesPerRequest: opts.blocking ? null : 20,
      enableReadyCheck: true,
      // No auto-pipelining: with Lua commands (EVALSHA falling back to EVAL) it can drop replies (seen in tests as
      // "results[i] is not iterable"), and it did not raise throughput measurably (bench).
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    };
    let client: RedisClient;
    if (this.cluster) {
      const nodes = this.url.split(',').map((u) => {
        const parsed = new URL(u.trim());
        return { host: parsed.hostname, port: Number(parsed.port || 6379) };
      });
      client = new Cluster(nodes, { redisOptions: base, enableReadyCheck: true, scaleReads: 'master' });
    } else {
      client = new Redis(this.url, base);
    }
    let lastErr = '';
    client.on('error', (err: Error) => {
      // ioredis reconnects by itself; log each distinct error once so an outage doesn't flood the log.
      if (err.message !== lastErr) this.#logger.warn({ conn: name, err: err.message }, 'redis connection error');
      lastErr = err.message;
    });
    client.on('ready', () => {
      if (lastErr) this.#logger.info({ conn: name }, 'redis connection restored');
      lastErr = '';
    });
    this.#clients.add(client);
    client.once('end', () => this.#clients.delete(client));
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#clients].map((c) => c.quit().catch(() => c.disconnect())));
    this.#clients.clear();
  }
}

/** Resolves once `client` answers PING, or rejects after `timeoutMs`. */
export async function waitReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

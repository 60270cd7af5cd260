import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';
import { placementMember } from './commands.js';

export interface MediaNodeInfo {
  id: string;
  capacity: number;
  calls: number;
  draining: boolean;
  startedAt: number;
  /** Heartbeat lease expiry (ms). */
  expiresAt: number;
  /** When the node last reported its load (ms). */
  beatAt: number;
  cpu: number | null;
  pid: number | null;
  host: string | null;
  /** The media engine the node runs (`forward` | `wrtc`); null for a node that predates the field. */
  engine: string | null;
}

/** Placements are remembered this long (a few heartbeats), to count those a node has not reported yet. */
const RAMP_WINDOW_MS = 5000;

/**
 * Media nodes register in Redis with capacity and load; heartbeats renew a lease. Placement picks the least
 * loaded live node that is not draining and has room, counting its recent placements too (the ramp-up penalty:
 * a burst of calls spreads over nodes instead of piling onto the one that looked emptiest a moment ago).
 */
export class NodeRegistry {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly ttlMs: number;

  constructor(opts: { redis: RedisClient; keys: Keys; ttlMs: number }) {
    this.#redis = opts.redis;
    this.#keys = opts.keys;
    this.ttlMs = opts.ttlMs;
  }

  async heartbeat(
    node: {
      id: string;
      capacity: number;
      calls: number;
      draining: boolean;
      startedAt: number;
      cpu?: number;
      host?: string;
      engine?: string;
    },
    now = Date.now(),
  ): Promise<void> {
    const k = this.#keys.media;
    await this.#redis
      .multi()
      .hset(k.node(node.id), {
        capacity: node.capacity,
        calls: node.calls,
        draining: node.draining ? '1' : '0',
        startedAt: node.startedAt,
        cpu: node.cpu ?? '',
        pid: process.pid,
        host: node.host ?? '',
        engine: node.engine ?? '',
        beatAt: now,
      })
      .pexpire(k.node(node.id), this.ttlMs * 10)
      .exec();
    await this.#redis.zadd(k.nodes, now + this.ttlMs, node.id);
  }

  async deregister(nodeId: string): Promise<void> {
    await this.#redis.zrem(this.#keys.media.nodes, nodeId);
    await this.#redis.del(this.#keys.media.node(nodeId));
  }

  async list(now = Date.now()): Promise<MediaNodeInfo[]> {
    const entries = await this.#redis.zrange(this.#keys.media.nodes, '0', '-1', 'WITHSCORES');
    const out: MediaNodeInfo[] = [];
    for (let i = 0; i < entries.length; i += 2) {
      const id = entries[i]!;
      const h = await this.#redis.hgetall(this.#keys.media.node(id));
      out.push({
        id,
        capacity: Number(h.capacity ?? 0),
        calls: Number(h.calls ?? 0),
        draining: h.draining === '1',
        startedAt: Number(h.startedAt ?? 0),
        expiresAt: Number(entries[i + 1]),
        beatAt: Number(h.beatAt ?? 0),
        cpu: h.cpu ? Number(h.cpu) : null,
        pid: h.pid ? Number(h.pid) : null,
        host: h.host || null,
        engine: h.engine || null,
      });
    }
    return out.filter((n) => n.expiresAt > now || now - n.expiresAt < 60_000);
  }

  /** Nodes whose lease ran out: their calls must be ended. */
  async expired(now = Date.now()): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.media.nodes, '-inf', now);
  }

  /**
   * Chooses a node for a new call; undefined when no node can take it. Nothing is recorded: only the accept that
   * wins the call records its placement ({@link recordPlacement}), so racing losers do not count against a node.
   */
  async place(now = Date.now()): Promise<string | undefined> {
    const nodes = (await this.list(now)).filter((n) => n.expiresAt > now && !n.draining && n.capacity > 0);
    if (nodes.length === 0) return undefined;
    const recent = await this.#redis.zrangebyscore(
      this.#keys.media.recentPlacements,
      now - RAMP_WINDOW_MS,
      '+inf',
      'WITHSCORES',
    );
    // Placements made after a node's last heartbeat are not in its reported load yet: count them on top.
    const beatAt = new Map(nodes.map((n) => [n.id, n.beatAt]));
    const pending = new Map<string, number>();
    for (let i = 0; i < recent.length; i += 2) {
      const member = recent[i]!;
      const nodeId = member.slice(0, member.lastIndexOf('|'));
      if (Number(recent[i + 1]) > (beatAt.get(nodeId) ?? 0)) pending.set(nodeId, (pending.get(nodeId) ?? 0) + 1);
    }
    const scored = nodes
      .map((n) => {
        const load = Math.max(n.calls, 0) + (pending.get(n.id) ?? 0);
        return { n, load, score: load / n.capacity + Math.random() * 1e-6 };
      })
      .filter((x) => x.load < x.n.capacity)
      .sort((a, b) => a.score - b.score);
    return scored[0]?.n.id;
  }

  /** A call was placed on `nodeId`: it counts against the node until its heartbeat reports it (ramp-up penalty). */
  async recordPlacement(nodeId: string, callId: string, now = Date.now()): Promise<void> {
    await this.#redis
      .multi()
      .zadd(this.#keys.media.recentPlacements, now, placementMember(nodeId, callId))
      .zremrangebyscore(this.#keys.media.recentPlacements, '-inf', now - RAMP_WINDOW_MS)
      .exec();
  }
}

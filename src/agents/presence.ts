import type { Keys } from '../shared/keys.js';
import type { PresenceState } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { AgentRow } from '../shared/rest-types.js';
import type { AgentDirectory } from './directory.js';

export type { AgentRow };

/** What routing needs to know about one agent (a supervisor's agent row carries the same fields and more). */
export type AgentAvailability = Pick<
  AgentRow,
  'id' | 'teams' | 'presence' | 'available' | 'idleSince' | 'offers' | 'callId'
>;

/**
 * Presence lives in Redis so every replica sees the same truth:
 * - each socket (tab) holds a lease in `agent:{id}:sockets`, renewed by heartbeats; no live lease → offline, so a
 *   closed laptop goes offline within one lease period;
 * - the chosen status (online / away) is kept across tabs and reloads;
 * - busy is derived: a claim on a call, or wrap-up after one.
 */
export class PresenceService {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #directory: AgentDirectory;
  readonly leaseMs: number;

  constructor(opts: { redis: RedisClient; keys: Keys; directory: AgentDirectory; leaseMs: number }) {
    this.#redis = opts.redis;
    this.#keys = opts.keys;
    this.#directory = opts.directory;
    this.leaseMs = opts.leaseMs;
  }

  /** A socket connected or sent a heartbeat: (re)new its lease. Returns whether the agent was offline before. */
  async touch(agentId: string, socketId: string, now = Date.now()): Promise<{ wasOffline: boolean }> {
    const k = this.#keys.agent;
    const expiry = now + this.leaseMs;
    const [[, live]] = (await this.#redis
      .multi()
      .zcount(k.sockets(agentId), `(${now}`, '+inf')
      .zadd(k.sockets(agentId), expiry, socketId)
      .zremrangebyscore(k.sockets(agentId), '-inf', now)
      .hsetnx(k.state(agentId), 'idleSince', String(now))
      .exec()) as [[null, number]];
    await this.#redis.zadd(this.#keys.agentsOnline, 'GT', expiry, agentId);
    return { wasOffline: Number(live) === 0 };
  }

  /** A socket disconnected. Returns whether that was the agent's last live socket. */
  async drop(agentId: string, socketId: string, now = Date.now()): Promise<{ nowOffline: boolean }> {
    const k = this.#keys.agent;
    const [, [, live]] = (await this.#redis
      .multi()
      .zrem(k.sockets(agentId), socketId)
      .zcount(k.sockets(agentId), `(${now}`, '+inf')
      .exec()) as [[null, number], [null, number]];
    if (Number(live) === 0) await this.#redis.zrem(this.#keys.agentsOnline, agentId);
    return { nowOffline: Number(live) === 0 };
  }

  async setChosen(agentId: string, status: 'online' | 'away', now = Date.now()): Promise<void> {
    const prev = await this.#redis.hget(this.#keys.agent.state(agentId), 'status');
    const m = this.#redis.multi().hset(this.#keys.agent.state(agentId), 'status', status);
    // Coming back from away counts as becoming free for "longest idle".
    if (prev === 'away' && status === 'online') m.hset(this.#keys.agent.state(agentId), 'idleSince', String(now));
    await m.exec();
  }

  /**
   * Claims the agent for a call before their accept is delivered, so one agent can never win two calls at once.
   * Returns the call the agent is claimed by (this one on success).
   */
  async claim(agentId: string, callId: string, ttlMs: number): Promise<string> {
    const key = this.#keys.agent.claim(agentId);
    const set = await this.#redis.set(key, callId, 'PX', ttlMs, 'NX');
    if (set === 'OK') return callId;
    return (await this.#redis.get(key)) ?? (await this.claim(agentId, callId, ttlMs));
  }

  /** Drops the claim if it still belongs to `callId`. */
  async unclaim(agentId: string, callId: string): Promise<boolean> {
    return (await this.#cas().unclaimIf(this.#keys.agent.claim(agentId), callId)) === 1;
  }

  async claimedBy(agentId: string): Promise<string | null> {
    return this.#redis.get(this.#keys.agent.claim(agentId));
  }

  /** The call ended: the claim goes, wrap-up until `until`, then free (idle since then). */
  async release(agentId: string, callId: string, until: number): Promise<boolean> {
    const released = await this.unclaim(agentId, callId);
    if (!released) return false;
    const k = this.#keys.agent.state(agentId);
    await this.#redis.hset(k, 'wrapUpUntil', String(until), 'idleSince', String(until), 'wrapUpCallId', callId);
    return true;
  }

  #cas(): RedisClient & { unclaimIf(key: string, value: string): Promise<number> } {
    const r = this.#redis as RedisClient & { unclaimIf?: unknown };
    if (!r.unclaimIf) {
      // KEYS[1] claim key; ARGV[1] call id. Deletes the claim only if it is still that call's. Returns 1 or 0.
      this.#redis.defineCommand('unclaimIf', {
        numberOfKeys: 1,
        lua: "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      });
    }
    return this.#redis as RedisClient & { unclaimIf(key: string, value: string): Promise<number> };
  }

  async availability(agentId: string, now = Date.now()): Promise<AgentAvailability | undefined> {
    const agent = this.#directory.get(agentId);
    if (!agent) return undefined;
    return (await this.#read([agentId], now))[0];
  }

  async effective(agentId: string, now = Date.now()): Promise<PresenceState> {
    return (await this.availability(agentId, now))?.presence ?? 'offline';
  }

  /** Agents with a live lease who take calls (routing candidates), with their availability. */
  async online(now = Date.now()): Promise<AgentAvailability[]> {
    const ids = await this.#redis.zrangebyscore(this.#keys.agentsOnline, `(${now}`, '+inf');
    return this.#read(
      ids.filter((id) => {
        const a = this.#directory.get(id);
        return a?.takesCalls && !a.disabled;
      }),
      now,
    );
  }

  /** Every agent in the directory, for the supervisor view. */
  async list(now = Date.now()): Promise<AgentRow[]> {
    const all = this.#directory.all();
    const rows = await this.#read(
      all.map((a) => a.id),
      now,
    );
    return rows as AgentRow[];
  }

  /** Agents whose leases all ran out (their process died or the laptop closed) but still indexed as online. */
  async expired(now = Date.now()): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.agentsOnline, '-inf', now);
  }

  async forget(agentId: string, now = Date.now()): Promise<boolean> {
    const k = this.#keys.agent.sockets(agentId);
    await this.#redis.zremrangebyscore(k, '-inf', now);
    const live = await this.#redis.zcount(k, `(${now}`, '+inf');
    if (live > 0) return false;
    await this.#redis.zrem(this.#keys.agentsOnline, agentId);
    return true;
  }

  async dropOffer(agentId: string, callId: string): Promise<void> {
    await this.#redis.srem(this.#keys.agent.offers(agentId), callId);
  }

  async offersOf(agentId: string): Promise<string[]> {
    return this.#redis.smembers(this.#keys.agent.offers(agentId));
  }

  async #read(ids: string[], now: number): Promise<AgentRow[]> {
    if (ids.length === 0) return [];
    const k = this.#keys.agent;
    const results = await Promise.all(
      ids.map((id) =>
        Promise.all([
          this.#redis.hmget(k.state(id), 'status', 'wrapUpUntil', 'idleSince'),
          this.#redis.zcount(k.sockets(id), `(${now}`, '+inf'),
          this.#redis.scard(k.offers(id)),
          this.#redis.get(k.claim(id)),
        ]),
      ),
    );
    return ids.map((id, i) => {
      const [[status, wrapUpUntil, idleSince], sockets, offers, claim] = results[i]!;
      const agent = this.#directory.get(id)!;
      const wrap = wrapUpUntil ? Number(wrapUpUntil) : 0;
      let presence: PresenceState;
      if (Number(sockets) === 0) presence = 'offline';
      else if (claim || wrap > now) presence = 'busy';
      else presence = status === 'away' ? 'away' : 'online';
      return {
        id,
        name: agent.name,
        role: agent.role,
        teams: agent.teams,
        presence,
        available: presence === 'online',
        idleSince: Number(idleSince ?? 0),
        offers: Number(offers),
        callId: claim ?? null,
        sockets: Number(sockets),
        wrapUpUntil: wrap > now ? wrap : null,
        takesCalls: agent.takesCalls,
        disabled: agent.disabled,
      };
    });
  }
}

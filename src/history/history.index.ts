import { randomUUID } from 'node:crypto';
import type { CallContext } from '../machines/call.types.js';
import type { Keys } from '../shared/keys.js';
import { maskNumber } from '../shared/log.js';
import type { WrapUp } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { HistoryQuery, HistoryRow } from '../shared/rest-types.js';

export type { HistoryQuery, HistoryRow };

/** Fields of the call's own hash (its `{callId}` slot, expiring with the call) that history reads. */
const HISTORY_FIELD = 'history';
export const WRAP_UP_FIELD = 'wrapUp';

interface StoredRow {
  callerName: string | null;
  waId: string | null;
  businessNumber: string;
  agentId: string | null;
  teams: string[];
  outcome: string;
  endedBy: string | null;
  createdAt: number;
  liveAt: number | null;
  endedAt: number | null;
  offeredAgents: string[];
}

/** Digits only: how numbers are indexed and searched (`+44 7700-900123` finds `447700900123`). */
const normalizeNumber = (n: string) => n.replace(/\D/g, '');

/**
 * Ended calls, searchable by supervisors: a sorted set of every ended call and one per agent, team, outcome, wrap-up
 * code and caller number, all scored by arrival time and trimmed to the retention. A query intersects the sets it
 * filters on (one hash tag, one slot) and pages through the result newest first. Writes are idempotent (a replayed
 * effect adds the same members with the same scores).
 */
export class HistoryIndex {
  constructor(
    readonly deps: {
      redis: RedisClient;
      keys: Keys;
      retentionMs: number;
      /** The teams a call counts for: the number's routing teams and the answering agent's teams. */
      teamsOf: (ctx: CallContext) => string[];
    },
  ) {}

  /** The call ended: index it. */
  async record(callId: string, ctx: CallContext): Promise<void> {
    const { redis, keys } = this.deps;
    const row: StoredRow = {
      callerName: ctx.caller.name ?? null,
      waId: ctx.caller.waId ?? null,
      businessNumber: ctx.line.businessNumber,
      agentId: ctx.agentId ?? null,
      teams: this.deps.teamsOf(ctx),
      outcome: ctx.outcome.reason ?? 'unknown',
      endedBy: ctx.outcome.endedBy ?? null,
      createdAt: ctx.times.createdAt,
      liveAt: ctx.times.liveAt ?? null,
      endedAt: ctx.times.endedAt ?? null,
      offeredAgents: ctx.routing.offeredAgents,
    };
    await redis.hset(keys.call.state(callId), HISTORY_FIELD, JSON.stringify(row));
    const h = keys.history;
    const sets = [h.all, h.by('outcome', row.outcome), ...row.teams.map((t) => h.by('team', t))];
    if (row.agentId) sets.push(h.by('agent', row.agentId));
    if (row.waId) sets.push(h.by('number', normalizeNumber(row.waId)));
    await this.#add(callId, ctx.times.createdAt, sets);
  }

  /** The call's wrap-up was submitted: findable by its code. */
  async wrappedUp(callId: string, createdAt: number, code: string): Promise<void> {
    await this.#add(callId, createdAt, [this.deps.keys.history.by('code', code)]);
  }

  async #add(callId: string, score: number, sets: string[]): Promise<void> {
    const { redis, retentionMs } = this.deps;
    const m = redis.multi();
    const oldest = Date.now() - retentionMs;
    for (const key of sets) {
      m.zadd(key, score, callId).zremrangebyscore(key, '-inf', `(${oldest}`).pexpire(key, retentionMs);
    }
    await m.exec();
  }

  /** One page of ended calls matching every given filter, newest first, with the total count. */
  async query(q: HistoryQuery): Promise<{ total: number; rows: HistoryRow[] }> {
    const { redis, keys, retentionMs } = this.deps;
    const h = keys.history;
    const sets = [h.all];
    if (q.agent) sets.push(h.by('agent', q.agent));
    if (q.team) sets.push(h.by('team', q.team));
    if (q.outcome) sets.push(h.by('outcome', q.outcome));
    if (q.code) sets.push(h.by('code', q.code));
    if (q.number) sets.push(h.by('number', normalizeNumber(q.number)));
    const min = Math.max(q.from ?? 0, Date.now() - retentionMs);
    const max = q.to ?? '+inf';
    const offset = (q.page - 1) * q.pageSize;
    let source = h.all;
    let scratch: string | undefined;
    if (sets.length > 1) {
      scratch = h.scratch(randomUUID());
      source = scratch;
      await redis
        .multi()
        .zinterstore(scratch, sets.length, ...sets, 'AGGREGATE', 'MIN')
        .pexpire(scratch, 10_000)
        .exec();
    }
    try {
      const [total, ids] = await Promise.all([
        redis.zcount(source, min, max),
        redis.zrevrangebyscore(source, max, min, 'LIMIT', offset, q.pageSize),
      ]);
      return { total, rows: await this.rows(ids) };
    } finally {
      if (scratch) await redis.del(scratch);
    }
  }

  /** Rows for these calls, in order; a call whose keys already expired is left out. */
  async rows(ids: string[]): Promise<HistoryRow[]> {
    const { redis, keys } = this.deps;
    const raw = await Promise.all(ids.map((id) => redis.hmget(keys.call.state(id), HISTORY_FIELD, WRAP_UP_FIELD)));
    const out: HistoryRow[] = [];
    raw.forEach(([row, wrap], i) => {
      if (!row) return;
      const r = JSON.parse(row) as StoredRow;
      out.push({
        id: ids[i]!,
        createdAt: r.createdAt,
        liveAt: r.liveAt,
        endedAt: r.endedAt,
        caller: { name: r.callerName, number: maskNumber(r.waId) },
        businessNumber: r.businessNumber,
        agentId: r.agentId,
        teams: r.teams,
        outcome: r.outcome,
        endedBy: r.endedBy,
        waitMs: (r.liveAt ?? r.endedAt ?? r.createdAt) - r.createdAt,
        talkMs: r.liveAt !== null && r.endedAt !== null ? r.endedAt - r.liveAt : null,
        wrapUp: wrap ? (JSON.parse(wrap) as WrapUp) : null,
      });
    });
    return out;
  }
}

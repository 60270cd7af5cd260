import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';
import { RedisBatch } from '../shared/redis-batch.js';
import type { Effect } from './call.effects.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lua = (name: string) => readFileSync(path.join(here, 'lua', name), 'utf8');

/** Codes returned by cas-save.lua. */
export enum SaveResult {
  VersionConflict = -1,
  Missing = -2,
  Exists = -3,
}

/** What a compare-and-set write did. */
export type SaveOutcome =
  | { status: 'saved'; version: number }
  /** Someone wrote first: what is stored now (the snapshot JSON-parsed), read in the same atomic step. */
  | { status: 'conflict'; current: { version: number; snapshot: unknown } }
  | { status: 'missing' }
  | { status: 'exists' };

export interface StoredCall {
  /** XState persisted snapshot (JSON-parsed). */
  snapshot: unknown;
  version: number;
  state: string;
  createdAt: number;
  updatedAt: number;
}

/** One entry of a call's timeline: what happened, when, and the path through the machine. */
export interface TimelineEntry {
  at: number;
  event: string;
  from?: string | undefined;
  to?: string | undefined;
  /** A short, safe summary (never SDP, tokens or full numbers). */
  detail?: string | undefined;
  version?: number;
}

export interface OutboxItem {
  id: string;
  effect: Effect;
}

export interface SaveInput {
  callId: string;
  expectedVersion: number;
  snapshot: unknown;
  state: string;
  effects: Effect[];
  timeline?: TimelineEntry | undefined;
  /** Set once the call has ended: every key of the call expires after this. */
  expireMs?: number | undefined;
  offerSdp?: string | undefined;
  at: number;
  /** Outbox ids of this call dispatched since its last write: removed in the same script. */
  acks?: string[] | undefined;
  /**
   * Index the call in the pending-outbox set before the write, so a crash between the write and the dispatch
   * leaves an entry for the outbox sweep to find. Sent ahead of the script in the same network write.
   */
  markPendingAt?: number | undefined;
}

/** The scripts as pipeline (or client) methods with a trailing callback. */
type CasCommands = {
  casSave(...args: [...(string | number)[], (err: Error | null | undefined, reply: unknown) => void]): unknown;
};

type CasClient = RedisClient & {
  casSave(...args: (string | number)[]): Promise<(number | string)[]>;
  ackOutbox(...args: string[]): Promise<number>;
};

/**
 * The call actors' persistence: load, compare-and-set save (snapshot + outbox + timeline in one script), outbox
 * acknowledgement. Every call's keys share its `{callId}` hash tag.
 */
export class CallStore {
  readonly #redis: CasClient;
  readonly #batch: RedisBatch;
  readonly #keys: Keys;
  readonly timelineMax: number;

  constructor(redis: RedisClient, keys: Keys, opts: { timelineMax?: number } = {}) {
    this.#keys = keys;
    this.timelineMax = opts.timelineMax ?? 200;
    if (!('casSave' in redis)) {
      redis.defineCommand('casSave', { numberOfKeys: 6, lua: lua('cas-save.lua') });
      redis.defineCommand('ackOutbox', { numberOfKeys: 1, lua: lua('ack-outbox.lua') });
    }
    this.#redis = redis as CasClient;
    this.#batch = new RedisBatch(redis);
  }

  get redis(): RedisClient {
    return this.#redis;
  }

  get keys(): Keys {
    return this.#keys;
  }

  async load(callId: string): Promise<StoredCall | null> {
    const key = this.#keys.call.state(callId);
    const [snapshot, version, state, createdAt, updatedAt] = await this.#batch.send<(string | null)[]>((c, done) =>
      c.hmget(key, 'snapshot', 'version', 'state', 'createdAt', 'updatedAt', done),
    );
    if (!snapshot || !version) return null;
    return {
      snapshot: JSON.parse(snapshot),
      version: Number(version),
      state: state ?? '',
      createdAt: Number(createdAt),
      updatedAt: Number(updatedAt),
    };
  }

  /** Compare-and-set: writes only if the stored version is `expectedVersion` (0 creates the call). */
  async save(input: SaveInput): Promise<SaveOutcome> {
    const k = this.#keys.call;
    const id = input.callId;
    const acks = input.acks ?? [];
    const args = [
      k.state(id),
      k.outbox(id),
      k.timeline(id),
      k.sdp(id),
      k.graph(id),
      k.stats(id),
      input.expectedVersion,
      JSON.stringify(input.snapshot),
      input.state,
      input.at,
      input.timeline ? JSON.stringify({ ...input.timeline, version: input.expectedVersion + 1 }) : '',
      this.timelineMax,
      input.expireMs ?? 0,
      input.offerSdp ?? '',
      acks.length,
      ...acks,
      input.effects.length,
      ...input.effects.map((e) => JSON.stringify(e)),
    ];
    const pending = this.#keys.outboxPending;
    const markAt = input.markPendingAt;
    const reply = await this.#batch.send<(number | string)[]>((c, done) => {
      // The mark goes first on the same connection, so it reaches Redis before the write it announces.
      if (markAt !== undefined) c.zadd(pending, markAt, id, (err) => err && done(err, undefined));
      (c as unknown as CasCommands).casSave(...args, done);
    });
    return toOutcome(reply);
  }

  /** The effects still waiting for dispatch, in commit order. */
  async outbox(callId: string): Promise<OutboxItem[]> {
    const raw = await this.#redis.hgetall(this.#keys.call.outbox(callId));
    return Object.entries(raw)
      .map(([id, json]) => ({ id, effect: JSON.parse(json) as Effect }))
      .sort((a, b) => compareEffectIds(a.id, b.id));
  }

  /** Removes dispatched effects; returns how many remain. */
  async ackOutbox(callId: string, ids: string[]): Promise<number> {
    return Number(await this.#redis.ackOutbox(this.#keys.call.outbox(callId), ...ids));
  }

  /** Removes dispatched effects without asking what is left (one plain command). */
  async forgetDispatched(callId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = this.#keys.call.outbox(callId);
    await this.#batch.send((c, done) => c.hdel(key, ...ids, done));
  }

  async timeline(callId: string): Promise<TimelineEntry[]> {
    const raw = await this.#redis.lrange(this.#keys.call.timeline(callId), 0, -1);
    return raw.map((r) => JSON.parse(r) as TimelineEntry);
  }

  /** Appends an entry that is not a state transition (audio stats, DTMF, a refused action). Bounded like the rest. */
  async appendTimeline(callId: string, entry: TimelineEntry): Promise<void> {
    const key = this.#keys.call.timeline(callId);
    // One slot, one round trip; the list exists only for calls that exist (it is created with the call).
    await this.#redis.multi().rpush(key, JSON.stringify(entry)).ltrim(key, -this.timelineMax, -1).exec();
  }

  async sdp(callId: string): Promise<{ offer: string | null; answer: string | null }> {
    const [offer, answer] = await this.#redis.hmget(this.#keys.call.sdp(callId), 'offer', 'answer');
    return { offer: offer ?? null, answer: answer ?? null };
  }

  /** Business-initiated: stores our offer once (for Graph `connect`); the first offer wins. */
  async setOfferOnce(callId: string, sdp: string): Promise<boolean> {
    return (await this.#redis.hsetnx(this.#keys.call.sdp(callId), 'offer', sdp)) === 1;
  }

  /** Stores our answer once; the first answer wins so pre_accept and accept always carry the same SDP. */
  async setAnswerOnce(callId: string, sdp: string): Promise<boolean> {
    return (await this.#redis.hsetnx(this.#keys.call.sdp(callId), 'answer', sdp)) === 1;
  }
}

function toOutcome(reply: (number | string)[]): SaveOutcome {
  const code = Number(reply[0]);
  if (code > 0) return { status: 'saved', version: code };
  if (code === SaveResult.VersionConflict) {
    return { status: 'conflict', current: { version: Number(reply[1]), snapshot: JSON.parse(String(reply[2])) } };
  }
  if (code === SaveResult.Missing) return { status: 'missing' };
  if (code === SaveResult.Exists) return { status: 'exists' };
  throw new Error(`cas-save.lua: unexpected reply ${code}`);
}

function compareEffectIds(a: string, b: string): number {
  const [av = 0, ai = 0] = a.split('.').map(Number);
  const [bv = 0, bi = 0] = b.split('.').map(Number);
  return av - bv || ai - bi;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { initialTransition, type SnapshotFrom, transition } from 'xstate';
import type { Logger } from '../shared/log.js';
import { actionsToEffects, type Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { type CallStore, type OutboxItem, SaveResult, type TimelineEntry } from './call.store.js';
import type { CallContext, CallEvent, CallInput, CallState } from './call.types.js';

export type CallSnapshot = SnapshotFrom<typeof callMachine>;

/** Sends effects to where they belong (queues, sockets, media nodes). Must be idempotent per effect id. */
export interface EffectDispatcher {
  dispatch(callId: string, item: OutboxItem, context: CallContext): Promise<void>;
}

export interface DeliverMetrics {
  event(type: string, outcome: DeliverOutcome['status']): void;
  conflict(): void;
  transition(from: string, to: string): void;
}

export interface DeliverDeps {
  store: CallStore;
  dispatcher: EffectDispatcher;
  logger: Logger;
  metrics?: DeliverMetrics | undefined;
  /** How long an ended call's keys are kept. */
  retentionMs: number;
  now?: () => number;
  /** Called with each committed transition (the inspector, tests). */
  onTransition?: ((callId: string, entry: TimelineEntry, snapshot: CallSnapshot) => void) | undefined;
}

export type DeliverOutcome =
  | { status: 'applied'; state: CallState; version: number; effects: Effect[]; context: CallContext }
  | { status: 'created'; state: CallState; version: number; effects: Effect[]; context: CallContext }
  /** The event does not fit the call's state (late, duplicate, stale timer): nothing changed. */
  | { status: 'ignored'; state: CallState; version: number; context: CallContext }
  | { status: 'duplicate' }
  | { status: 'unknown-call' };

/** An event as callers hand it in; `at` is stamped by deliver unless given (timers carry their own). */
export type IncomingEvent = CallEvent extends infer E
  ? E extends { at: number }
    ? Omit<E, 'at'> & { at?: number }
    : never
  : never;

/** A conflicting write keeps retrying (with backoff) this long before giving up. */
const MAX_RETRY_MS = 10_000;

/** The state name of a snapshot (the machine is flat, so the value is a string). */
export function stateOf(snapshot: CallSnapshot): CallState {
  return snapshot.value as CallState;
}

export function restore(persisted: unknown): CallSnapshot {
  const p = persisted as { value: CallState; context: CallContext };
  return callMachine.resolveState({ value: p.value, context: p.context });
}

/**
 * Applies one event to a snapshot, purely. `handled` is false when the event does not fit (the final state takes
 * nothing; an unhandled event returns the same snapshot).
 */
export function step(
  snapshot: CallSnapshot,
  event: CallEvent,
): { snapshot: CallSnapshot; effects: Effect[]; handled: boolean } {
  if (snapshot.status !== 'active') return { snapshot, effects: [], handled: false };
  const [next, actions] = transition(callMachine, snapshot, event);
  const effects = actionsToEffects(actions);
  // A targetless transition with only effects returns the same snapshot object: effects alone count as handled.
  const handled = effects.length > 0 || (next !== snapshot && changed(snapshot, next));
  return { snapshot: next, effects, handled };
}

function changed(a: CallSnapshot, b: CallSnapshot): boolean {
  return a.value !== b.value || JSON.stringify(a.context) !== JSON.stringify(b.context);
}

const SAFE_FIELDS = [
  'status',
  'errorCode',
  'policy',
  'tier',
  'agentIds',
  'agentId',
  'mediaNodeId',
  'action',
  'metaCode',
  'httpStatus',
  'timer',
  'reason',
  'by',
  'note',
  'digit',
  'playId',
  'legId',
] as const;

/** A one-line, log-safe summary of an event for the timeline. */
export function summarizeEvent(event: CallEvent): string | undefined {
  const parts: string[] = [];
  const e = event as Record<string, unknown>;
  for (const f of SAFE_FIELDS) {
    const v = e[f];
    if (v === undefined) continue;
    parts.push(`${f}=${Array.isArray(v) ? v.join(',') : String(v).slice(0, 120)}`);
  }
  if (typeof e.message === 'string') parts.push(`message=${e.message.slice(0, 160)}`);
  return parts.length ? parts.join(' ') : undefined;
}

/**
 * The one place where pure and impure code meet: load → transition → compare-and-set (snapshot + outbox) →
 * dispatch. Safe to call from any process; a version conflict reloads and tries again, so every call sees one
 * ordering of its events across replicas.
 */
export class Deliverer {
  readonly #d: DeliverDeps;
  readonly #now: () => number;
  readonly #tails = new Map<string, Promise<void>>();

  constructor(deps: DeliverDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  get store(): CallStore {
    return this.#d.store;
  }

  /** Creates the call actor. A second create for the same id (Meta delivered `connect` twice) is a no-op. */
  async create(input: CallInput, offerSdp: string): Promise<DeliverOutcome> {
    const [snapshot, actions] = initialTransition(callMachine, input);
    const effects = actionsToEffects(actions);
    const state = stateOf(snapshot);
    const entry: TimelineEntry = { at: input.at, event: 'WA.CONNECT', to: state };
    await this.#markOutbox(input.callId, effects.length);
    const result = await this.#d.store.save({
      callId: input.callId,
      expectedVersion: 0,
      snapshot: callMachine.getPersistedSnapshot(snapshot),
      state,
      effects,
      timeline: entry,
      offerSdp,
      at: input.at,
    });
    if (result === SaveResult.Exists) {
      this.#d.metrics?.event('WA.CONNECT', 'duplicate');
      return { status: 'duplicate' };
    }
    this.#d.metrics?.event('WA.CONNECT', 'created');
    this.#d.metrics?.transition('none', state);
    this.#d.onTransition?.(input.callId, entry, snapshot);
    await this.#dispatchOwn(input.callId, result, effects, snapshot.context);
    return { status: 'created', state, version: result, effects, context: snapshot.context };
  }

  /**
   * Delivers one event to a call. Never throws for an event that does not fit: it is an `ignored` outcome.
   * Events for the same call from this process go one at a time (fewer version conflicts between replicas).
   */
  deliver(callId: string, incoming: IncomingEvent): Promise<DeliverOutcome> {
    const prev = this.#tails.get(callId) ?? Promise.resolve();
    const run = prev.then(
      () => this.#deliverNow(callId, incoming),
      () => this.#deliverNow(callId, incoming),
    );
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(callId, tail);
    void tail.then(() => {
      if (this.#tails.get(callId) === tail) this.#tails.delete(callId);
    });
    return run;
  }

  async #deliverNow(callId: string, incoming: IncomingEvent): Promise<DeliverOutcome> {
    const event = { ...incoming, at: incoming.at ?? this.#now() } as CallEvent;
    const deadline = Date.now() + MAX_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#d.store.load(callId);
      if (!stored) {
        this.#d.metrics?.event(event.type, 'unknown-call');
        return { status: 'unknown-call' };
      }
      const current = restore(stored.snapshot);
      const { snapshot: next, effects, handled } = step(current, event);
      if (!handled) {
        this.#d.metrics?.event(event.type, 'ignored');
        return { status: 'ignored', state: stateOf(current), version: stored.version, context: current.context };
      }
      const from = stateOf(current);
      const to = stateOf(next);
      const entry: TimelineEntry = { at: event.at, event: event.type, from, to, detail: summarizeEvent(event) };
      // The mark is sent before the write on the same connection, so it reaches Redis first; no need to wait for it.
      const marked = this.#markOutbox(callId, effects.length);
      const saving = this.#d.store.save({
        callId,
        expectedVersion: stored.version,
        snapshot: callMachine.getPersistedSnapshot(next),
        state: to,
        effects,
        timeline: entry,
        expireMs: to === 'ended' ? this.#d.retentionMs : undefined,
        at: event.at,
      });
      const [, result] = await Promise.all([marked, saving]);
      if (result === SaveResult.VersionConflict) {
        this.#d.metrics?.conflict();
        if (Date.now() > deadline) throw new Error(`call ${callId}: still conflicting after ${attempt} attempts`);
        // Contention on one call is short-lived; jittered backoff after a few rounds breaks lock-step retries.
        if (attempt > 2) await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
        continue;
      }
      if (result === SaveResult.Missing) {
        this.#d.metrics?.event(event.type, 'unknown-call');
        return { status: 'unknown-call' };
      }
      this.#d.metrics?.event(event.type, 'applied');
      if (from !== to) this.#d.metrics?.transition(from, to);
      this.#d.onTransition?.(callId, entry, next);
      await this.#dispatchOwn(callId, result, effects, next.context);
      return { status: 'applied', state: to, version: result, effects, context: next.context };
    }
  }

  /**
   * Records that this call has effects in its outbox, before the write that puts them there: a crash between the
   * write and the dispatch leaves an index entry for the sweep to find (architecture.md step 4).
   */
  async #markOutbox(callId: string, count: number): Promise<void> {
    if (count === 0) return;
    const k = this.#d.store.keys;
    await this.#d.store.redis.zadd(k.outboxPending, this.#now(), callId);
  }

  async #dispatchOwn(callId: string, version: number, effects: Effect[], context: CallContext): Promise<void> {
    if (effects.length === 0) return;
    const items = effects.map((effect, i) => ({ id: `${version}.${i + 1}`, effect }));
    await this.dispatchItems(callId, items, context);
  }

  /** Dispatches outbox items in order and acknowledges each one that went out; failures stay for the sweep. */
  async dispatchItems(callId: string, items: OutboxItem[], context: CallContext): Promise<number> {
    const done: string[] = [];
    for (const item of items) {
      try {
        await this.#d.dispatcher.dispatch(callId, item, context);
        done.push(item.id);
      } catch (err) {
        this.#d.logger.warn(
          { callId, effect: item.effect.type, err: (err as Error).message },
          'effect dispatch failed; the outbox sweep will retry it',
        );
        break; // keep order: later effects wait for the failed one
      }
    }
    if (done.length === 0) return items.length;
    return this.#d.store.ackOutbox(callId, done);
  }
}

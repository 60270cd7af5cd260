import { setTimeout as sleep } from 'node:timers/promises';
import type { SnapshotFrom } from 'xstate';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { checkContext, UnreadableSnapshotError } from './call.context.js';
import { actionsToEffects, type Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import type { CallStore, OutboxItem, SaveOutcome, TimelineEntry } from './call.store.js';

import type { CallContext, CallEvent, CallInput, CallState } from './call.types.js';
import type { EffectDispatcher } from './ports.js';
import { pureInitialTransition, pureTransition } from './pure-transition.js';

export type CallSnapshot = SnapshotFrom<typeof callMachine>;

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

/** How many calls' last written snapshots a deliverer keeps (the calls this process works on; a few KB each). */
const KNOWN_MAX = 2_000;

/** A call's snapshot and the version it is stored under. */
interface Known {
  version: number;
  snapshot: CallSnapshot;
}

/** The state name of a snapshot (the machine is flat, so the value is a string). */
export function stateOf(snapshot: CallSnapshot): CallState {
  return snapshot.value as CallState;
}

/** A stored snapshot as a machine snapshot; throws {@link UnreadableSnapshotError} for one of an older shape. */
export function restore(persisted: unknown): CallSnapshot {
  const p = (persisted ?? {}) as { value?: unknown; context?: unknown };
  if (typeof p.value !== 'string') throw new UnreadableSnapshotError('no state');
  checkContext(p.context);
  return callMachine.resolveState({ value: p.value, context: p.context });
}

/** {@link restore}, or undefined for a snapshot of an older shape (lists and sweeps pass over such calls). */
export function readable(persisted: unknown): CallSnapshot | undefined {
  try {
    return restore(persisted);
  } catch (err) {
    if (err instanceof UnreadableSnapshotError) return undefined;
    throw err;
  }
}

/**
 * What XState's
 `getPersistedSnapshot` stores for the call machine, without its walk through the context looking
 * for actor references: the machine has none (no invoked or spawned actors; `pure-transition.test.ts`).
 */
export function persistedSnapshot(snapshot: CallSnapshot): unknown {
  const { status, value, context, output, error } = snapshot;
  return { status, value, historyValue: {}, context, children: {}, output, error };
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
  const [next, actions] = pureTransition(callMachine, snapshot, event);
  const effects = actionsToEffects(actions);
  // A targetless transition with only effects returns the same snapshot object: effects alone count as handled.
  const handled = effects.length > 0 || (next !== snapshot && changed(snapshot, next));
  return { snapshot: next, effects, handled };
}

function changed(a: CallSnapshot, b: CallSnapshot): boolean {
  if (a.value !== b.value) return true;
  // An assign always makes a new context object, with every key of the old one; only the groups it replaced are
  // worth comparing.
  if (a.context === b.context) return false;
  const from = a.context as unknown as Record<string, unknown>;
  const to = b.context as unknown as Record<string, unknown>;
  for (const key in to) {
    if (from[key] !== to[key] && JSON.stringify(from[key]) !== JSON.stringify(to[key])) return true;
  }
  return false;
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
  'mode',
  'playId',
  'legId',
] as const;

/** A one-line, log-safe summary of an event for the timeline. */
function summarizeEvent(event: CallEvent): string | undefined {
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
 * The one place where pure and impure code meet: transition → compare-and-set (snapshot + outbox) → dispatch. Safe
 * to call from any process; a version conflict retries on what is stored, so every call sees one ordering of its
 * events across replicas.
 *
 * A deliverer remembers the snapshot it wrote last for each call it works on and transitions from it without reading
 * Redis first: the write names the version it started from, and when another process wrote in between, the script
 * answers with the stored snapshot and the event is applied again on that. An event that does not fit the remembered
 * snapshot is checked against the stored one before it is called ignored. Outbox acknowledgements ride on the call's
 * next write, or go out on their own in the next turn of the event loop.
 */
export class Deliverer {
  readonly #d: DeliverDeps;
  readonly #now: () => number;
  readonly #tails = new Map<string, Promise<void>>();
  readonly #known = new Map<string, Known>();
  readonly #acks = new Map<string, string[]>();
  #ackFlush: NodeJS.Immediate | undefined;

  constructor(deps: DeliverDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  get store(): CallStore {
    return this.#d.store;
  }

  /** Creates the call actor. A second create for the same id (Meta delivered `connect` twice) is a no-op. */
  async create(input: CallInput, offerSdp: string): Promise<DeliverOutcome> {
    const [snapshot, actions] = pureInitialTransition(callMachine, input);
    const effects = actionsToEffects(actions);
    const state = stateOf(snapshot);
    const entry: TimelineEntry = { at: input.at, event: 'WA.CONNECT', to: state };
    const saved = await this.#d.store.save({
      callId: input.callId,
      expectedVersion: 0,
      snapshot: persistedSnapshot(snapshot),
      state,
      effects,
      timeline: entry,
      offerSdp,
      at: input.at,
      markPendingAt: effects.length > 0 ? this.#now() : undefined,
    });
    if (saved.status === 'exists') {
      this.#d.metrics?.event('WA.CONNECT', 'duplicate');
      return { status: 'duplicate' };
    }
    const version = savedVersion(saved);
    this.#remember(input.callId, { version, snapshot });
    this.#d.metrics?.event('WA.CONNECT', 'created');
    this.#d.metrics?.transition('none', state);
    this.#d.onTransition?.(input.callId, entry, snapshot);
    await this.#dispatchOwn(input.callId, version, effects, snapshot.context);
    return { status: 'created', state, version, effects, context: snapshot.context };
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
    let known = this.#known.get(callId);
    // Whether `known` was read from Redis during this delivery (not remembered from an earlier one).
    let fresh = false;
    for (let conflicts = 0; ; ) {
      if (!known) {
        const stored = await this.#d.store.load(callId);
        if (!stored) return this.#unknown(callId, event);
        known = { version: stored.version, snapshot: restore(stored.snapshot) };
        fresh = true;
        this.#remember(callId, known);
      }
      const current = known.snapshot;
      const { snapshot: next, effects, handled } = step(current, event);
      if (!handled) {
        if (!fresh) {
          // Another process may have moved the call on since this one wrote it: ask Redis before saying no.
          known = undefined;
          continue;
        }
        this.#d.metrics?.event(event.type, 'ignored');
        return { status: 'ignored', state: stateOf(current), version: known.version, context: current.context };
      }
      const from = stateOf(current);
      const to = stateOf(next);
      const entry: TimelineEntry = { at: event.at, event: event.type, from, to, detail: summarizeEvent(event) };
      const acks = this.#takeAcks(callId);
      let saved: SaveOutcome;
      try {
        saved = await this.#d.store.save({
          callId,
          expectedVersion: known.version,
          snapshot: persistedSnapshot(next),
          state: to,
          effects,
          timeline: entry,
          expireMs: to === 'ended' ? this.#d.retentionMs : undefined,
          at: event.at,
          acks,
          markPendingAt: effects.length > 0 ? this.#now() : undefined,
        });
      } catch (err) {
        // Whether the write landed is unknown: read the call again next time.
        this.#known.delete(callId);
        this.#queueAcks(callId, acks);
        throw err;
      }
      if (saved.status === 'conflict') {
        this.#d.metrics?.conflict();
        conflicts++;
        if (Date.now() > deadline) throw new Error(`call ${callId}: still conflicting after ${conflicts} attempts`);
        // Contention on one call is short-lived; jittered backoff after a few rounds breaks lock-step retries.
        if (conflicts > 2) await sleep(Math.random() * Math.min(50, 2 ** Math.min(conflicts + 1, 6)));
        known = { version: saved.current.version, snapshot: restore(saved.current.snapshot) };
        fresh = true;
        this.#remember(callId, known);
        continue;
      }
      if (saved.status === 'missing') return this.#unknown(callId, event);
      const version = savedVersion(saved);
      this.#remember(callId, { version, snapshot: next });
      this.#d.metrics?.event(event.type, 'applied');
      if (from !== to) this.#d.metrics?.transition(from, to);
      this.#d.onTransition?.(callId, entry, next);
      await this.#dispatchOwn(callId, version, effects, next.context);
      return { status: 'applied', state: to, version, effects, context: next.context };
    }
  }

  #unknown(callId: string, event: CallEvent): DeliverOutcome {
    this.#known.delete(callId);
    this.#d.metrics?.event(event.type, 'unknown-call');
    return { status: 'unknown-call' };
  }

  /** Keeps a call's latest snapshot (never an older one over a newer); an ended call takes no more transitions. */
  #remember(callId: string, known: Known): void {
    const had = this.#known.get(callId);
    if (had && had.version > known.version) return;
    this.#known.delete(callId);
    if (stateOf(known.snapshot) === 'ended') return;
    this.#known.set(callId, known);
    if (this.#known.size > KNOWN_MAX) {
      const oldest = this.#known.keys().next().value;
      if (oldest !== undefined) this.#known.delete(oldest);
    }
  }

  async #dispatchOwn(callId: string, version: number, effects: Effect[], context: CallContext): Promise<void> {
    if (effects.length === 0) return;
    const items = effects.map((effect, i) => ({ id: `${version}.${i + 1}`, effect }));
    this.#queueAcks(callId, await this.#dispatchInOrder(callId, items, context));
  }

  /** Dispatches outbox items in order and acknowledges each one that went out; failures stay for the sweep. */
  async dispatchItems(callId: string, items: OutboxItem[], context: CallContext): Promise<number> {
    const done = await this.#dispatchInOrder(callId, items, context);
    if (done.length === 0) return items.length;
    return this.#d.store.ackOutbox(callId, done);
  }

  /** The ids of the items that went out, in order, up to the first that failed. */
  async #dispatchInOrder(callId: string, items: OutboxItem[], context: CallContext): Promise<string[]> {
    const done: string[] = [];
    for (const item of items) {
      try {
        await this.#d.dispatcher.dispatch(callId, item, context);
        done.push(item.id);
      } catch (err) {
        this.#d.logger.warn(
          { callId, effect: item.effect.type, err: errorMessage(err) },
          'effect dispatch failed; the outbox sweep will retry it',
        );
        break; // keep order: later effects wait for the failed one
      }
    }
    return done;
  }

  #takeAcks(callId: string): string[] {
    const ids = this.#acks.get(callId) ?? [];
    this.#acks.delete(callId);
    return ids;
  }

  /**
   * Acknowledges dispatched effects lazily: the call's next write carries them when it comes within this turn of
   * the event loop, otherwise they go out then, one command per call. Until then the outbox still holds them, which
   * costs at most a repeated (idempotent) dispatch should this process die first.
   */
  #queueAcks(callId: string, ids: string[]): void {
    if (ids.length === 0) return;
    const pending = this.#acks.get(callId);
    if (pending) pending.push(...ids);
    else this.#acks.set(callId, [...ids]);
    this.#ackFlush ??= setImmediate(() => {
      this.#ackFlush = undefined;
      for (const [id, list] of this.#acks) {
        this.#d.store.forgetDispatched(id, list).catch((err) => {
          this.#d.logger.warn({ callId: id, err: errorMessage(err) }, 'outbox ack failed; the sweep will see it');
        });
      }
      this.#acks.clear();
    });
  }
}

function savedVersion(saved: SaveOutcome): number {
  if (saved.status !== 'saved') throw new Error(`unexpected save outcome ${saved.status}`);
  return saved.version;
}

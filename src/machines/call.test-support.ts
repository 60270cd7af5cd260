/**
 * What the call machine's unit tests share: a call input, events without their time, and stepping the machine the
 * way deliver() does (persist and restore before every event). Imported only by `*.test.ts`.
 */
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import type { CallEvent, CallInput } from './call.types.js';
import { type CallSnapshot, restore, step } from './deliver.js';

/** A call event whose `at` the driver fills in. */
export type TestEvent = CallEvent extends infer X
  ? X extends { at: number }
    ? Omit<X, 'at'> & { at?: number }
    : never
  : never;

/** An inbound call arriving at `at` with the usual deadlines; `over` replaces any field. */
export function callInput(over: Partial<CallInput> & Pick<CallInput, 'callId' | 'at'>): CallInput {
  return {
    phoneNumberId: '100',
    businessNumber: '15550001111',
    caller: { waId: '919800012345', name: 'Priya' },
    answerDeadlineMs: 45_000,
    ringTimeoutMs: 15_000,
    acceptDeadlineMs: 10_000,
    maxCallMs: 3_600_000,
    ...over,
  };
}

/** The effects carried by a transition's actions. */
export function effectsOf(actions: ReadonlyArray<{ type: string; params?: unknown }>): Effect[] {
  return actions.flatMap((a) => (a.type === 'effect' ? ([] as Effect[]).concat(a.params as Effect[]) : []));
}

/** The snapshot after a round trip through JSON, as deliver() loads it from Redis. */
export function persisted(snap: CallSnapshot): CallSnapshot {
  return restore(JSON.parse(JSON.stringify(callMachine.getPersistedSnapshot(snap))));
}

/**
 * Persist and restore between every step, as deliver() does; each event at its own `at`, or 100 ms after the
 * previous one (the first 100 ms after `startAt`). Throws on an event the state does not handle.
 */
export function driveFrom(
  from: CallSnapshot,
  events: TestEvent[],
  startAt: number,
): { snap: CallSnapshot; effects: Effect[][] } {
  let snap = from;
  const effects: Effect[][] = [];
  let at = startAt;
  for (const e of events) {
    at = e.at ?? at + 100;
    snap = persisted(snap);
    const r = step(snap, { ...e, at } as CallEvent);
    if (!r.handled) throw new Error(`${e.type} not handled in ${String(snap.value)}`);
    snap = r.snapshot;
    effects.push(r.effects);
  }
  return { snap, effects };
}

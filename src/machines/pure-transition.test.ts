import { describe, expect, it, vi } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { callMachine } from './call.machine.js';
import type { CallEvent, CallInput } from './call.types.js';
import { type CallSnapshot, persistedSnapshot, restore } from './deliver.js';
import { type CollectedAction, pureInitialTransition, pureTransition } from './pure-transition.js';

/** Every (snapshot, event) the machine tests hand to step(), kept to be replayed here. */
const corpus: { snapshot: CallSnapshot; event: CallEvent }[] = [];

vi.mock('./deliver.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./deliver.js')>();
  return {
    ...real,
    step: (snapshot: CallSnapshot, event: CallEvent) => {
      corpus.push({ snapshot, event });
      return real.step(snapshot, event);
    },
  };
});

// The machine's own tests run here once more with step() recorded: their event sequences (ring, queue, IVR, hold,
// agent legs, deadlines, transfer, outbound, recording, failures) are the corpus the two transitions are compared on.
await import('./call.machine.test.js');
await import('./call.queue.test.js');
await import('./call.deadlines.test.js');
await import('./call.transfer.test.js');
await import('./call.outbound.test.js');
await import('./call.recording.test.js');

const T0 = 1_000_000;
const plain: CallInput = {
  callId: 'wacid.EQ',
  phoneNumberId: '100',
  businessNumber: '15550001111',
  caller: { waId: '919800012345', name: 'Priya' },
  at: T0,
  answerDeadlineMs: 45_000,
  ringTimeoutMs: 15_000,
  acceptDeadlineMs: 10_000,
  maxCallMs: 3_600_000,
};
const business: CallInput = {
  ...plain,
  business: {
    mediaNodeId: 'm1',
    flow: {
      greeting: ['greeting'],
      ivr: { prompt: ['menu'], options: { '1': ['sales'] }, timeoutMs: 5_000, retries: 1, defaultDigit: undefined },
      queue: {
        teams: ['support'],
        music: 'music',
        announceEveryMs: 30_000,
        maxWaitMs: 120_000,
        overflow: { action: 'hangup' },
        priority: 0,
      },
    },
  },
  holdAlertMs: 60_000,
};

/** A callback task (a business-initiated call waiting in the queue); no machine test drives it through step(). */
const callbackTask: CallInput = {
  ...plain,
  callId: 'wacid.CB',
  callback: { fromCallId: 'wacid.Q', teams: ['support'], priority: 0, enteredAt: T0, dialDeadlineMs: 45_000 },
};

/** Adds the callback task's own sequences to the corpus: offered then declined, expired, accepted; nobody in time. */
function callbackSteps(): void {
  const offer = (s: CallSnapshot): CallEvent => ({
    type: 'ROUTING.OFFER',
    seq: s.context.routing.seq,
    agentIds: ['alice'],
    policy: 'ring-one',
    tier: 'team',
    at: T0 + 100,
  });
  const sequences: ((s: CallSnapshot) => CallEvent)[][] = [
    [offer, () => ({ type: 'AGENT.DECLINE', agentId: 'alice', at: T0 + 200 })],
    [
      offer,
      (s) => ({
        type: 'TIMER.FIRED',
        timer: 'ring-expired',
        token: String(s.context.routing.offer?.seq),
        at: T0 + 300,
      }),
    ],
    [offer, () => ({ type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1', at: T0 + 200 })],
    [() => ({ type: 'TIMER.FIRED', timer: 'answer-deadline', token: 'a', at: T0 + 45_000 })],
  ];
  for (const sequence of sequences) {
    let snap = initialTransition(callMachine, callbackTask)[0];
    for (const next of sequence) {
      const event = next(snap);
      corpus.push({ snapshot: snap, event });
      snap = transition(callMachine, snap, event)[0];
    }
  }
}

const actionsOf = (actions: CollectedAction[]) => actions.map((a) => ({ type: a.type, params: a.params }));

type Outcome =
  | { threw: string }
  | { same: boolean; value: unknown; status: string; persisted: unknown; actions: unknown[] };

function outcome(run: () => [CallSnapshot, CollectedAction[]], from: CallSnapshot): Outcome {
  try {
    const [next, actions] = run();
    return {
      same: next === from,
      value: next.value,
      status: next.status,
      persisted: callMachine.getPersistedSnapshot(next),

      actions: actionsOf(actions),
    };
  } catch (err) {
    return { threw: String(err) };
  }
}

/** Both transitions from one snapshot; fails on the first difference, naming the state and event. */
function compare(snapshot: CallSnapshot, event: CallEvent): CallSnapshot {
  const theirs = outcome(() => transition(callMachine, snapshot, event) as [CallSnapshot, CollectedAction[]], snapshot);
  const ours = outcome(() => pureTransition(callMachine, snapshot, event), snapshot);
  expect(ours, `${String(snapshot.value)} + ${event.type}`).toEqual(theirs);
  const next = pureTransition(callMachine, snapshot, event)[0];
  // What deliver() stores: XState's persisted snapshot, made without its walk for actor references.
  expect(JSON.stringify(persistedSnapshot(next))).toBe(JSON.stringify(callMachine.getPersistedSnapshot(next)));

  return next;
}

/** A small deterministic generator, so a failing walk can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('pureTransition', () => {
  it('gives the same snapshots and actions as XState transition() for every step the machine tests take', () => {
    expect(corpus.length).toBeGreaterThan(200);
    callbackSteps();
    for (const { snapshot, event } of corpus) compare(snapshot, event);
    const left = new Set(corpus.map((c) => String(c.snapshot.value)));
    // Every state the machine rests in is left by some step of the corpus: all but `start`, which the initial
    // transition passes through, and the final state, which takes nothing.
    const states = Object.keys(callMachine.root.states).filter((s) => s !== 'start' && s !== 'ended');
    expect(states.length).toBeGreaterThan(6);
    expect(states.filter((s) => !left.has(s))).toEqual([]);
  });

  it('gives the same snapshots and actions as XState transition() on random walks over the corpus events', () => {
    const events = corpus.map((c) => c.event);
    const random = prng(16);
    let steps = 0;
    for (let walk = 0; walk < 600; walk++) {
      let snap = initialTransition(callMachine, [plain, business, callbackTask][walk % 3]!)[0];
      for (let i = 0; i < 40 && snap.status === 'active'; i++) {
        const event = events[Math.floor(random() * events.length)]!;
        const next = compare(snap, { ...event, at: T0 + i * 1000 } as CallEvent);
        // As deliver() does: the next step starts from what Redis would hand back.
        snap = restore(JSON.parse(JSON.stringify(callMachine.getPersistedSnapshot(next))));
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(2000);
  });

  it('starts a call as XState initialTransition() does: plain, with a business flow, a callback task', () => {
    for (const input of [plain, business, callbackTask]) {
      const [theirs, theirActions] = initialTransition(callMachine, input);
      const [ours, ourActions] = pureInitialTransition(callMachine, input);
      expect(ours.value).toEqual(theirs.value);
      expect(ours.status).toBe('active');
      expect(callMachine.getPersistedSnapshot(ours)).toEqual(callMachine.getPersistedSnapshot(theirs));
      expect(actionsOf(ourActions)).toEqual(actionsOf(theirActions));
      expect(ourActions.length).toBeGreaterThan(0);
    }
  });

  it('collects only the machine’s effect actions, so the shared actor and its system are never reached', () => {
    const types = new Set<string>();
    for (const { snapshot, event } of corpus) {
      for (const a of pureTransition(callMachine, snapshot, event)[1]) types.add(a.type);
    }
    expect([...types]).toEqual(['effect']);
    const nodes = Object.values(callMachine.root.states);
    expect(nodes.flatMap((n) => n.invoke)).toEqual([]);
    expect(nodes.flatMap((n) => n.after)).toEqual([]);
  });

  it('hands each caller its own action list, untouched by later transitions', () => {
    const [s0] = initialTransition(callMachine, plain);
    const offer = { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-one', tier: 'team', at: T0 };
    const [, first] = pureTransition(callMachine, s0, offer as CallEvent);
    const before = actionsOf(first);
    expect(before.length).toBeGreaterThan(0);
    pureTransition(callMachine, s0, offer as CallEvent);
    pureTransition(callMachine, s0, { type: 'CALL.CANCEL', by: 'test', at: T0 });
    expect(actionsOf(first)).toEqual(before);
  });
});

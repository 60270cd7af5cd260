import { describe, expect, it } from 'vitest';
import { initialContext, UnreadableSnapshotError } from './call.context.js';
import { callMachine } from './call.machine.js';
import { callInput } from './call.test-support.js';
import type { CallInput } from './call.types.js';
import { persistedSnapshot, readable, restore, step } from './deliver.js';
import { pureInitialTransition } from './pure-transition.js';

const T0 = 1_000_000;
const flow = {
  greeting: [],
  ivr: undefined,
  queue: {
    teams: ['support'],
    music: 'music',
    announceEveryMs: 30_000,
    maxWaitMs: 60_000,
    overflow: { action: 'hangup' as const },
    priority: 0,
  },
};
const inputs: CallInput[] = [
  callInput({ callId: 'plain', at: T0 }),
  callInput({ callId: 'business', at: T0, business: { flow, mediaNodeId: 'm1' }, record: 'all' }),
  callInput({
    callId: 'outbound',
    at: T0,
    direction: 'outbound',
    outbound: { to: '4915112345678', agentId: 'alice', mediaNodeId: 'm1' },
  }),
  callInput({
    callId: 'callback',
    at: T0,
    direction: 'outbound',
    callback: { fromCallId: 'q', teams: ['support'], priority: 0, enteredAt: T0, dialDeadlineMs: 45_000 },
  }),
];

describe('call context', () => {
  it('keeps at most 16 top-level fields, so the copy every assign makes stays a fast V8 object', () => {
    // V8 turns an object built by Object.assign({}, …) with about 20 or more properties into a slow dictionary,
    // and XState's assign builds every new context that way. Grow a group instead of the top level.
    for (const input of inputs) expect(Object.keys(initialContext(input)).length).toBeLessThanOrEqual(16);
  });

  it('every assign keeps the groups it does not touch, and the top level keeps its fields', () => {
    const [s0] = pureInitialTransition(callMachine, inputs[0]!);
    const r = step(s0, {
      type: 'ROUTING.OFFER',
      seq: 1,
      agentIds: ['alice'],
      policy: 'ring-one',
      tier: 'team',
      at: T0 + 10,
    });
    expect(r.handled).toBe(true);
    expect(Object.keys(r.snapshot.context)).toEqual(Object.keys(s0.context));
    expect(r.snapshot.context.routing).toMatchObject({ seq: 1, offer: { agentIds: ['alice'] }, tried: ['alice'] });
    expect(r.snapshot.context.bridge).toBe(s0.context.bridge);
    expect(r.snapshot.context.times).toMatchObject({ createdAt: T0, offeredAt: T0 + 10 });
  });

  it('a stored snapshot of an older shape gives a clear error, and lists pass over it', () => {
    const [s0] = pureInitialTransition(callMachine, inputs[0]!);
    const stored = JSON.parse(JSON.stringify(persistedSnapshot(s0)));
    expect(restore(stored).context).toEqual(s0.context);
    // The flat context of before: routingSeq, offer, liveAt… at the top level.
    const old = { ...stored, context: { callId: 'old', routingSeq: 0, offer: undefined, liveAt: undefined, dtmf: '' } };
    expect(() => restore(old)).toThrow(UnreadableSnapshotError);
    expect(() => restore(old)).toThrow(/missing line, caller, limits.*older version/);
    expect(() => restore({ value: 'live' })).toThrow(/no context/);
    expect(() => restore(null)).toThrow(/no state/);
    expect(readable(old)).toBeUndefined();
    expect(readable(stored)?.context.callId).toBe('plain');
  });
});

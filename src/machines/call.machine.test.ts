import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { callInput, driveFrom, type TestEvent as E, effectsOf, persisted } from './call.test-support.js';
import { type CallEvent, reasonForMetaError } from './call.types.js';
import { type CallSnapshot, step } from './deliver.js';

const T0 = 1_000_000;
const input = callInput({ callId: 'wacid.TEST', at: T0 });

/** Persist and restore between every step, as deliver() does. */
const drive = (events: E[], from?: CallSnapshot) =>
  driveFrom(from ?? initialTransition(callMachine, input)[0], events, T0);

const OFFER: E = { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice', 'bob'], policy: 'ring-all', tier: 'team' };
const ACCEPT: E = { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' };
const TO_STATE: Record<string, E[]> = {
  ringing: [],
  'agent-offered': [OFFER],
  bridging: [OFFER, ACCEPT],
  'pre-accepted': [OFFER, ACCEPT, { type: 'MEDIA.WA_ANSWER' }],
  live: [
    OFFER,
    ACCEPT,
    { type: 'MEDIA.WA_ANSWER' },
    { type: 'GRAPH.DONE', action: 'pre_accept' },
    { type: 'MEDIA.WA_CONNECTED' },
    { type: 'MEDIA.AGENT_CONNECTED' },
    { type: 'GRAPH.DONE', action: 'accept' },
  ],
};

const types = (effects: Effect[]) => effects.map((e) => e.type);
const graphOf = (effects: Effect[]) => effects.filter((e) => e.type.startsWith('graph.')).map((e) => e.type);

describe('call machine: happy path', () => {
  it('goes ringing → agent-offered → bridging → pre-accepted → live → ended with the right effects', () => {
    const [s0, a0] = initialTransition(callMachine, input);
    expect(s0.value).toBe('ringing');
    const first = effectsOf(a0);
    expect(first).toContainEqual({ type: 'timer.schedule', timer: 'answer-deadline', delayMs: 45_000, token: 'a' });
    expect(first).toContainEqual({ type: 'routing.request', seq: 1 });

    const { snap, effects } = drive([...TO_STATE.live!, { type: 'AGENT.HANGUP', agentId: 'alice' }]);
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('completed');
    expect(snap.context.outcome.endedBy).toBe('agent');
    const [offer, accept, answer, pre, wa, agent, acc, hang] = effects;
    expect(offer).toContainEqual({ type: 'agents.offer', agentIds: ['alice', 'bob'], deadlineAt: T0 + 45_000 });
    expect(types(accept!)).toEqual(
      expect.arrayContaining([
        'agents.withdraw',
        'queue.leave',
        'media.createBridge',
        'timer.schedule',
        'timer.cancel',
      ]),
    );
    expect(accept).toContainEqual({
      type: 'agents.withdraw',
      agentIds: ['alice', 'bob'],
      reason: 'taken',
      takenBy: 'alice',
    });
    expect(answer).toEqual([{ type: 'graph.preAccept' }]);
    expect(pre).toEqual([]);
    expect(wa).toEqual([]);
    // accept waits for pre_accept's 200, the WhatsApp leg and the agent leg — whichever comes last sends it.
    expect(agent).toEqual([
      { type: 'graph.accept', startAgentAudioOn: 'm1' },
      { type: 'timer.schedule', timer: 'accept-deadline', delayMs: 30_000, token: 'confirm' },
    ]);
    expect(types(acc!)).toEqual([
      'timer.cancel',
      'media.startAgentAudio',
      'agents.live',
      'timer.schedule',
      'timer.cancel',
    ]);
    expect(graphOf(hang!)).toEqual(['graph.terminate']);
    expect(types(hang!)).toEqual(
      expect.arrayContaining(['agents.ended', 'agents.release', 'media.close', 'call.ended']),
    );
  });

  it('accept goes out as soon as the last of pre_accept 200 / WhatsApp media / agent media arrives, in any order', () => {
    const base = TO_STATE['pre-accepted']!;
    const orders: E[][] = [
      [{ type: 'MEDIA.AGENT_CONNECTED' }, { type: 'MEDIA.WA_CONNECTED' }, { type: 'GRAPH.DONE', action: 'pre_accept' }],
      [{ type: 'MEDIA.WA_CONNECTED' }, { type: 'GRAPH.DONE', action: 'pre_accept' }, { type: 'MEDIA.AGENT_CONNECTED' }],
    ];
    for (const order of orders) {
      const { effects } = drive([...base, ...order]);
      expect(effects.slice(-3).map(graphOf)).toEqual([[], [], ['graph.accept']]);
    }
  });

  it('a restored snapshot carries on exactly where it was', () => {
    const { snap } = drive(TO_STATE['agent-offered']!);
    const restored = persisted(snap);
    expect(restored.value).toBe('agent-offered');
    expect(restored.context.routing.offer?.agentIds).toEqual(['alice', 'bob']);
  });
});

describe('call machine: first accept wins', () => {
  it('a second AGENT.ACCEPT finds the call no longer offered and is not handled', () => {
    const { snap } = drive(TO_STATE.bridging!);
    const r = step(snap, { type: 'AGENT.ACCEPT', agentId: 'bob', mediaNodeId: 'm2', at: T0 + 5000 });
    expect(r.handled).toBe(false);
    expect(r.snapshot.context.agentId).toBe('alice');
  });

  it('an accept from an agent who was never offered the call is not handled', () => {
    const { snap } = drive(TO_STATE['agent-offered']!);
    expect(step(snap, { type: 'AGENT.ACCEPT', agentId: 'mallory', mediaNodeId: 'm1', at: T0 + 1 }).handled).toBe(false);
  });

  it('a decline silences only that agent; the last decline sends the call back to routing', () => {
    const { snap, effects } = drive([...TO_STATE['agent-offered']!, { type: 'AGENT.DECLINE', agentId: 'bob' }]);
    expect(snap.value).toBe('agent-offered');
    expect(snap.context.routing.offer?.agentIds).toEqual(['alice']);
    expect(effects.at(-1)).toEqual([{ type: 'agents.withdraw', agentIds: ['bob'], reason: 'declined' }]);
    const again = drive([{ type: 'AGENT.DECLINE', agentId: 'alice' }], snap);
    expect(again.snap.value).toBe('ringing');
    expect(again.snap.context.routing.declined).toEqual(['bob', 'alice']);
    expect(again.effects[0]).toContainEqual({ type: 'routing.request', seq: 2 });
  });

  it('a stale routing answer (older seq) is ignored', () => {
    const { snap } = drive(
      [{ type: 'AGENT.DECLINE', agentId: 'alice' }],
      drive([...TO_STATE['agent-offered']!, { type: 'AGENT.DECLINE', agentId: 'bob' }]).snap,
    );
    expect(step(snap, { ...(OFFER as object), at: T0 + 9000 } as CallEvent).handled).toBe(false);
  });
});

describe('call machine: ring-one rotation and timers', () => {
  it('a ring-one offer expires after the ring timeout and the call is routed again', () => {
    const { snap, effects } = drive([
      { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-one', tier: 'team', ringTimeoutMs: 15_000 },
    ]);
    expect(effects[0]).toContainEqual({ type: 'timer.schedule', timer: 'ring-expired', delayMs: 15_000, token: '1' });
    const expired = drive([{ type: 'TIMER.FIRED', timer: 'ring-expired', token: '1' }], snap);
    expect(expired.snap.value).toBe('ringing');
    expect(expired.snap.context.routing.tried).toEqual(['alice']);
    expect(expired.effects[0]).toContainEqual({ type: 'agents.withdraw', agentIds: ['alice'], reason: 'expired' });
  });

  it('no eligible agent schedules another routing attempt (an effect without a state change is still handled)', () => {
    const { snap, effects } = drive([{ type: 'ROUTING.NO_AGENTS', seq: 1, note: 'no eligible agent online' }]);
    expect(snap.value).toBe('ringing');
    expect(effects[0]).toEqual([{ type: 'timer.schedule', timer: 'reroute', delayMs: 5000, token: '1' }]);
    const again = drive([{ type: 'TIMER.FIRED', timer: 'reroute', token: '1' }], snap);
    expect(again.effects[0]).toContainEqual({ type: 'routing.request', seq: 2 });
  });

  it('a timer that fires after its state was left changes nothing', () => {
    const { snap } = drive(TO_STATE.live!);
    for (const e of [
      { type: 'TIMER.FIRED', timer: 'ring-expired', token: '1' },
      { type: 'TIMER.FIRED', timer: 'answer-deadline', token: 'a' },
      { type: 'TIMER.FIRED', timer: 'accept-deadline', token: '1' },
      { type: 'TIMER.FIRED', timer: 'agent-grace', token: '1' },
    ] as E[]) {
      expect(step(snap, { at: T0 + 99_000, ...e } as CallEvent).handled).toBe(false);
    }
  });

  it('the accept deadline with WhatsApp media up sends accept anyway (fallback)', () => {
    const { snap, effects } = drive([
      ...TO_STATE['pre-accepted']!,
      { type: 'MEDIA.WA_CONNECTED' },
      { type: 'TIMER.FIRED', timer: 'accept-deadline', token: '1' },
    ]);
    expect(snap.value).toBe('pre-accepted');
    expect(snap.context.bridge.acceptFallback).toBe(true);
    expect(effects.at(-1)).toEqual([
      { type: 'graph.accept' },
      { type: 'timer.schedule', timer: 'accept-deadline', delayMs: 30_000, token: 'confirm' },
    ]);
  });

  it('an agent leg that stays down past the grace period ends a live call', () => {
    const { snap, effects } = drive([
      ...TO_STATE.live!,
      { type: 'MEDIA.AGENT_LEG_DOWN' },
      { type: 'TIMER.FIRED', timer: 'agent-grace', token: '1' },
    ]);
    expect(snap.context.outcome.reason).toBe('agent-disconnected');
    expect(graphOf(effects.at(-1)!)).toEqual(['graph.terminate']);
  });

  it('a closed tab (pagehide) ends a live call after the short leave grace, as the agent hanging up', () => {
    const { snap, effects } = drive([...TO_STATE.live!, { type: 'AGENT.LEFT', agentId: 'alice' }]);
    expect(effects.at(-1)).toEqual([{ type: 'timer.schedule', timer: 'agent-grace', delayMs: 5000, token: '1' }]);
    const ended = drive([{ type: 'TIMER.FIRED', timer: 'agent-grace', token: '1' }], snap);
    expect(ended.snap.context.outcome.reason).toBe('completed');
    expect(ended.snap.context.outcome.endedBy).toBe('agent');
    expect(graphOf(ended.effects[0]!)).toEqual(['graph.terminate']);
  });

  it('a reloaded tab whose media comes back within the leave grace keeps the call', () => {
    const { snap } = drive([
      ...TO_STATE.live!,
      { type: 'AGENT.LEFT', agentId: 'alice' },
      { type: 'MEDIA.AGENT_CONNECTED' },
    ]);
    expect(snap.context.bridge.agentLeft).toBe(false);
    expect(step(snap, { type: 'TIMER.FIRED', timer: 'agent-grace', token: '1', at: T0 + 60_000 }).handled).toBe(false);
    // Only the bridged agent can leave a call.
    expect(step(snap, { type: 'AGENT.LEFT', agentId: 'bob', at: T0 + 60_000 }).handled).toBe(false);
  });

  it('leaving while the call is still connecting gives it up after the grace', () => {
    const { snap } = drive([...TO_STATE['pre-accepted']!, { type: 'AGENT.LEFT', agentId: 'alice' }]);
    const ended = drive([{ type: 'TIMER.FIRED', timer: 'agent-grace', token: '1' }], snap);
    expect(ended.snap.context.outcome.reason).toBe('rejected');
    expect(graphOf(ended.effects[0]!)).toEqual(['graph.terminate']);
  });

  it('an agent leg that comes back in time keeps the call', () => {
    const { snap } = drive([...TO_STATE.live!, { type: 'MEDIA.AGENT_LEG_DOWN' }, { type: 'MEDIA.AGENT_CONNECTED' }]);
    expect(step(snap, { type: 'TIMER.FIRED', timer: 'agent-grace', token: '1', at: T0 + 50_000 }).handled).toBe(false);
  });
});

/**
 * Every state × every terminating event. `null` means the event does not apply in that state (not handled).
 * Otherwise: the reason recorded and the Graph API action the call asks Meta for (none when the caller already
 * hung up or Meta ended it).
 */
const TERMINATING: { name: string; event: E; expect: Record<string, [string, string | null] | null> }[] = [
  {
    name: 'caller hangs up (terminate COMPLETED)',
    event: { type: 'WA.TERMINATE', status: 'COMPLETED' },
    expect: {
      ringing: ['caller-hung-up', null],
      'agent-offered': ['caller-hung-up', null],
      bridging: ['caller-hung-up', null],
      'pre-accepted': ['caller-hung-up', null],
      live: ['completed', null],
    },
  },
  ...(
    [
      [138021, 'no-media-received'],
      [138022, 'no-media-sent'],
      [138023, 'media-unknown'],
      [138007, 'answer-timeout'],
      [138020, 'media-failed'],
      [131044, 'meta-error'],
    ] as const
  ).map(([code, reason]) => ({
    name: `Meta terminates with ${code}`,
    event: { type: 'WA.TERMINATE', status: 'FAILED', errorCode: code } as E,
    expect: Object.fromEntries(Object.keys(TO_STATE).map((s) => [s, [reason, null]])) as Record<string, [string, null]>,
  })),
  {
    name: 'answer deadline passes',
    event: { type: 'TIMER.FIRED', timer: 'answer-deadline', token: 'a' },
    expect: {
      ringing: ['missed', 'graph.reject'],
      'agent-offered': ['missed', 'graph.reject'],
      bridging: null,
      'pre-accepted': null,
      live: null,
    },
  },
  {
    name: 'accept deadline passes with no WhatsApp media',
    event: { type: 'TIMER.FIRED', timer: 'accept-deadline', token: '1' },
    expect: {
      ringing: null,
      'agent-offered': null,
      bridging: ['media-failed', 'graph.reject'],
      'pre-accepted': ['media-failed', 'graph.terminate'],
      live: null,
    },
  },
  {
    name: 'media fails',
    event: { type: 'MEDIA.FAILED', reason: 'ice failed' },
    expect: {
      ringing: null,
      'agent-offered': null,
      bridging: ['media-failed', 'graph.reject'],
      'pre-accepted': ['media-failed', 'graph.terminate'],
      live: ['media-failed', 'graph.terminate'],
    },
  },
  {
    name: 'Graph API accept fails for good',
    event: { type: 'GRAPH.FAILED', action: 'accept', metaCode: 100, httpStatus: 400, message: 'Invalid SDP' },
    expect: {
      ringing: null,
      'agent-offered': null,
      bridging: null,
      'pre-accepted': ['graph-failed', 'graph.terminate'],
      live: ['graph-failed', 'graph.terminate'],
    },
  },
  {
    name: 'the bridged agent hangs up',
    event: { type: 'AGENT.HANGUP', agentId: 'alice' },
    expect: {
      ringing: null,
      'agent-offered': null,
      bridging: ['rejected', 'graph.reject'],
      'pre-accepted': ['rejected', 'graph.terminate'],
      live: ['completed', 'graph.terminate'],
    },
  },
  {
    name: 'a supervisor cancels',
    event: { type: 'CALL.CANCEL', by: 'sam' },
    expect: {
      ringing: ['rejected', 'graph.reject'],
      'agent-offered': ['rejected', 'graph.reject'],
      bridging: ['rejected', 'graph.reject'],
      'pre-accepted': ['rejected', 'graph.terminate'],
      live: ['completed', 'graph.terminate'],
    },
  },
  {
    name: 'the live call reaches its maximum length',
    event: { type: 'TIMER.FIRED', timer: 'max-duration', token: '1' },
    expect: {
      ringing: null,
      'agent-offered': null,
      bridging: null,
      'pre-accepted': null,
      live: ['max-duration', 'graph.terminate'],
    },
  },
  {
    name: "Meta's offer is unusable",
    event: { type: 'WA.BAD_OFFER', reason: 'no fingerprint' },
    expect: {
      ringing: ['media-failed', 'graph.reject'],
      'agent-offered': null,
      bridging: null,
      'pre-accepted': null,
      live: null,
    },
  },
];

describe('call machine: every state × every terminating event', () => {
  for (const t of TERMINATING) {
    for (const [state, want] of Object.entries(t.expect)) {
      it(`${t.name} in ${state} → ${want ? `ended (${want[0]})` : 'not handled'}`, () => {
        const { snap } = drive(TO_STATE[state]!);
        expect(snap.value).toBe(state);
        const r = step(snap, { at: T0 + 30_000, ...t.event } as CallEvent);
        if (!want) {
          expect(r.handled).toBe(false);
          return;
        }
        expect(r.snapshot.value).toBe('ended');
        expect(r.snapshot.status).toBe('done');
        expect(r.snapshot.context.outcome.reason).toBe(want[0]);
        expect(r.snapshot.context.times.endedAt).toBe(T0 + 30_000);
        expect(graphOf(r.effects)).toEqual(want[1] ? [want[1]] : []);
        const ended = r.effects.filter((e) => e.type === 'call.ended');
        expect(ended).toEqual([{ type: 'call.ended', reason: want[0] }]);
        // Whoever was ringing or bridged hears why; the bridged agent is released; the bridge is closed.
        if (state === 'agent-offered')
          expect(r.effects).toContainEqual({ type: 'agents.ended', agentIds: ['alice', 'bob'], reason: want[0] });
        if (['bridging', 'pre-accepted', 'live'].includes(state)) {
          expect(r.effects).toContainEqual({ type: 'agents.release', agentId: 'alice' });
          expect(r.effects).toContainEqual({ type: 'media.close', nodeId: 'm1', reason: want[0] });
        }
        // Ended takes nothing more: a duplicate terminate is a no-op.
        expect(step(r.snapshot, { type: 'WA.TERMINATE', status: 'COMPLETED', at: T0 + 40_000 }).handled).toBe(false);
      });
    }
  }

  it('maps Meta error codes to reasons', () => {
    expect(reasonForMetaError(138021)).toBe('no-media-received');
    expect(reasonForMetaError(undefined)).toBe('meta-error');
  });

  it('the stranded-call sweep ends a call whose deadline passed without its timer', () => {
    const { snap } = drive(TO_STATE['agent-offered']!);
    expect(step(snap, { type: 'TIMER.SWEEP', at: T0 + 10_000 }).handled).toBe(false);
    const r = step(snap, { type: 'TIMER.SWEEP', at: T0 + 46_000 });
    expect(r.snapshot.context.outcome.reason).toBe('missed');
  });
});

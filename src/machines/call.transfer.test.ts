import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { callInput, type TestEvent as E, persisted } from './call.test-support.js';
import type { CallEvent } from './call.types.js';
import { type CallSnapshot, step } from './deliver.js';

const T0 = 1_000_000;
const input = callInput({ callId: 'wacid.TRANSFER', at: T0 });

/** Persist and restore between every step, as deliver() does; returns null for an event the state ignores. */
function run(snap: CallSnapshot, e: E, at: number): { snap: CallSnapshot; effects: Effect[] } | null {
  const r = step(persisted(snap), { at, ...e } as CallEvent);
  return r.handled ? { snap: r.snapshot, effects: r.effects } : null;
}

function live(): CallSnapshot {
  let snap = initialTransition(callMachine, input)[0];
  let at = T0;
  for (const e of [
    { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-all', tier: 'team' },
    { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' },
    { type: 'MEDIA.WA_ANSWER' },
    { type: 'GRAPH.DONE', action: 'pre_accept' },
    { type: 'MEDIA.WA_CONNECTED' },
    { type: 'MEDIA.AGENT_CONNECTED' },
    { type: 'GRAPH.DONE', action: 'accept' },
  ] as E[]) {
    at += 100;
    snap = run(snap, e, at)!.snap;
  }
  expect(snap.value).toBe('live');
  return snap;
}

const TRANSFER: E = {
  type: 'AGENT.TRANSFER',
  agentId: 'alice',
  to: { agentId: 'bob' },
  targets: ['bob'],
  team: 'support',
};
const ringFired = (token: string): E => ({ type: 'TIMER.FIRED', timer: 'transfer-ring', token });
const T1 = T0 + 10_000;

describe('call machine: blind transfer', () => {
  it('AGENT.TRANSFER in live offers the target, starts the ring timer, tells the first agent and plays music to the caller', () => {
    const r = run(live(), TRANSFER, T1)!;
    expect(r.snap.value).toBe('transferring');
    expect(r.snap.context.agentId).toBe('alice');
    expect(r.effects).toEqual([
      { type: 'agents.offer', agentIds: ['bob'], deadlineAt: T1 + 15_000 },
      { type: 'timer.schedule', timer: 'transfer-ring', delayMs: 15_000, token: 't1' },
      { type: 'agents.transferStatus', agentId: 'alice', status: 'ringing', targets: ['bob'] },
      { type: 'media.route', nodeId: 'm1', routes: { caller: ['player'], 'agent:alice': ['caller'] } },
      { type: 'media.play', nodeId: 'm1', playId: 'transfer-1', clips: ['music'], loop: true },
    ]);
    // Meta is told nothing.
    expect(r.effects.some((e) => e.type.startsWith('graph.'))).toBe(false);
  });

  it('a transfer from someone who is not on the call, to oneself or to nobody is not handled', () => {
    const s = live();
    expect(run(s, { ...TRANSFER, agentId: 'bob' } as E, T1)).toBeNull();
    expect(run(s, { ...TRANSFER, targets: ['alice'] } as E, T1)).toBeNull();
    expect(run(s, { ...TRANSFER, targets: [] } as E, T1)).toBeNull();
  });

  it('the target accepting takes over: same media node, the first agent leaves, no Graph action', () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    const r = run(t, { type: 'AGENT.ACCEPT', agentId: 'bob', mediaNodeId: 'other-node' }, T1 + 2000)!;
    expect(r.snap.value).toBe('live');
    expect(r.snap.context).toMatchObject({
      agentId: 'bob',
      mediaNodeId: 'm1',
      live: { transfer: undefined },
      routing: { offer: undefined },
    });
    expect(r.snap.context.live.handledBy).toEqual(['alice', 'bob']);
    expect(r.effects).toEqual([
      { type: 'timer.cancel', timer: 'transfer-ring', token: 't1' },
      { type: 'agents.handover', from: 'alice', to: 'bob', target: { agentId: 'bob' } },
      { type: 'media.route', nodeId: 'm1', routes: { caller: ['agent:bob'], 'agent:bob': ['caller'] } },
      { type: 'media.stopPlay', nodeId: 'm1' },
      { type: 'media.closeLeg', nodeId: 'm1', legId: 'agent:alice' },
      { type: 'agents.live', agentId: 'bob' },
    ]);
    // Hanging up now is bob's to do, and ends the call normally.
    expect(run(r.snap, { type: 'AGENT.HANGUP', agentId: 'alice' }, T1 + 3000)).toBeNull();
    const end = run(r.snap, { type: 'AGENT.HANGUP', agentId: 'bob' }, T1 + 3000)!;
    expect(end.snap.context.outcome).toMatchObject({ reason: 'completed', endedBy: 'agent' });
    expect(end.effects).toContainEqual({ type: 'agents.release', agentId: 'bob' });
  });

  it("after a transfer the first agent's leg events are ignored and the new agent's leg counts", () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    const bob = run(t, { type: 'AGENT.ACCEPT', agentId: 'bob', mediaNodeId: 'm1' }, T1 + 100)!.snap;
    expect(run(bob, { type: 'MEDIA.AGENT_LEG_DOWN' }, T1 + 200)).toBeNull();
    const up = run(bob, { type: 'MEDIA.LEG_CONNECTED', legId: 'agent:bob' }, T1 + 300)!;
    expect(up.snap.context.bridge.agentConnected).toBe(true);
    expect(run(up.snap, { type: 'MEDIA.LEG_DOWN', legId: 'sup:sam' }, T1 + 400)).toBeNull();
    const down = run(up.snap, { type: 'MEDIA.LEG_DOWN', legId: 'agent:bob' }, T1 + 400)!;
    expect(down.snap.context.bridge.agentLegDown).toBe(true);
    expect(down.effects).toEqual([
      { type: 'timer.schedule', timer: 'agent-grace', delayMs: down.snap.context.limits.agentGraceMs, token: '1' },
    ]);
  });

  it('an accept from someone not offered the transfer is ignored', () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    expect(run(t, { type: 'AGENT.ACCEPT', agentId: 'carol', mediaNodeId: 'm1' }, T1 + 100)).toBeNull();
  });

  it('unanswered in time, the call goes back to the first agent, who is still on it', () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    expect(run(t, ringFired('t0'), T1 + 15_000)).toBeNull(); // a stale timer
    const r = run(t, ringFired('t1'), T1 + 15_000)!;
    expect(r.snap.value).toBe('live');
    expect(r.snap.context).toMatchObject({
      agentId: 'alice',
      live: { transfer: undefined },
      routing: { offer: undefined },
    });
    expect(r.effects).toEqual([
      { type: 'timer.cancel', timer: 'transfer-ring', token: 't1' },
      { type: 'agents.withdraw', agentIds: ['bob'], reason: 'expired' },
      { type: 'agents.transferStatus', agentId: 'alice', status: 'returned', targets: [] },
      { type: 'media.route', nodeId: 'm1', routes: { caller: ['agent:alice'], 'agent:alice': ['caller'] } },
      { type: 'media.stopPlay', nodeId: 'm1' },
    ]);
  });

  it('every target declining is like the ring timing out', () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    const r = run(t, { type: 'AGENT.DECLINE', agentId: 'bob' }, T1 + 1000)!;
    expect(r.snap.value).toBe('live');
    expect(r.snap.context.routing.declined).toContain('bob');
    expect(r.effects).toContainEqual({ type: 'agents.withdraw', agentIds: ['bob'], reason: 'declined' });
  });

  it('if the first agent left, an unanswered transfer goes to the team through routing, and its agents ring', () => {
    let s = run(live(), TRANSFER, T1)!.snap;
    const left = run(s, { type: 'AGENT.HANGUP', agentId: 'alice' }, T1 + 500)!;
    expect(left.snap.value).toBe('transferring');
    expect(left.effects).toEqual([{ type: 'agents.leave', agentId: 'alice' }]);
    s = left.snap;
    const seq = s.context.routing.seq + 1;
    const out = run(s, ringFired('t1'), T1 + 15_000)!;
    expect(out.snap.value).toBe('transferring');
    expect(out.effects).toContainEqual({ type: 'routing.request', seq });
    const offered = run(
      out.snap,
      { type: 'ROUTING.OFFER', seq, agentIds: ['bob', 'carol'], policy: 'ring-all', tier: 'team' },
      T1 + 15_100,
    )!;
    expect(offered.effects).toEqual([
      { type: 'agents.offer', agentIds: ['bob', 'carol'], deadlineAt: T1 + 15_100 + 15_000 },
      { type: 'timer.schedule', timer: 'transfer-ring', delayMs: 15_000, token: `r${seq}` },
    ]);
    const taken = run(offered.snap, { type: 'AGENT.ACCEPT', agentId: 'carol', mediaNodeId: 'm1' }, T1 + 16_000)!;
    expect(taken.snap.context.agentId).toBe('carol');
    expect(taken.effects).toContainEqual({ type: 'agents.withdraw', agentIds: ['bob'], reason: 'ended' });
  });

  it('the caller hanging up during a transfer ends the call and stops the ringing and its timer', () => {
    const t = run(live(), TRANSFER, T1)!.snap;
    const r = run(t, { type: 'WA.TERMINATE', status: 'COMPLETED' }, T1 + 1000)!;
    expect(r.snap.value).toBe('ended');
    expect(r.snap.context.outcome.reason).toBe('completed');
    expect(r.effects).toContainEqual({ type: 'timer.cancel', timer: 'transfer-ring', token: 't1' });
    expect(r.effects).toContainEqual({ type: 'agents.ended', agentIds: ['bob', 'alice'], reason: 'completed' });
  });
});

describe('call machine: supervisor monitoring', () => {
  const LISTEN: E = { type: 'SUP.MONITOR', by: 'sam', mode: 'listen' };

  it('listen gives the supervisor both sides on two tracks and nobody hears them', () => {
    const r = run(live(), LISTEN, T1)!;
    expect(r.snap.context.live.monitors).toEqual({ sam: 'listen' });
    expect(r.effects).toEqual([
      {
        type: 'media.route',
        nodeId: 'm1',
        routes: { caller: ['agent:alice'], 'agent:alice': ['caller'], 'sup:sam': ['caller', 'agent:alice'] },
      },
    ]);
  });

  it('whisper adds the supervisor to what the agent hears, never to the caller; stop closes their leg', () => {
    const listening = run(live(), LISTEN, T1)!.snap;
    expect(run(listening, LISTEN, T1 + 1)).toBeNull(); // already listening: nothing changes
    const w = run(listening, { type: 'SUP.MONITOR', by: 'sam', mode: 'whisper' }, T1 + 100)!;
    expect(w.effects[0]).toMatchObject({
      routes: { caller: ['agent:alice'], 'agent:alice': ['caller', 'sup:sam'], 'sup:sam': ['caller', 'agent:alice'] },
    });
    const stop = run(w.snap, { type: 'SUP.MONITOR', by: 'sam', mode: 'stop' }, T1 + 200)!;
    expect(stop.snap.context.live.monitors).toEqual({});
    expect(stop.effects).toEqual([
      { type: 'media.route', nodeId: 'm1', routes: { caller: ['agent:alice'], 'agent:alice': ['caller'] } },
      { type: 'media.closeLeg', nodeId: 'm1', legId: 'sup:sam' },
    ]);
    expect(run(stop.snap, { type: 'SUP.MONITOR', by: 'sam', mode: 'stop' }, T1 + 300)).toBeNull();
  });

  it('a transfer keeps the supervisor listening, now to the new agent', () => {
    const listening = run(live(), LISTEN, T1)!.snap;
    const t = run(listening, TRANSFER, T1 + 100)!.snap;
    const r = run(t, { type: 'AGENT.ACCEPT', agentId: 'bob', mediaNodeId: 'm1' }, T1 + 200)!;
    expect(r.effects).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['agent:bob'], 'agent:bob': ['caller'], 'sup:sam': ['caller', 'agent:bob'] },
    });
  });
});

describe('call machine: consult transfer', () => {
  const CONSULT: E = { type: 'AGENT.CONSULT', agentId: 'alice', to: 'bob' };
  const consulting = () =>
    run(run(live(), CONSULT, T1)!.snap, { type: 'AGENT.ACCEPT', agentId: 'bob', mediaNodeId: 'x' }, T1 + 500)!;

  it('AGENT.CONSULT holds the caller with music and rings bob', () => {
    const r = run(live(), CONSULT, T1)!;
    expect(r.snap.value).toBe('consulting');
    expect(r.effects).toEqual([
      { type: 'agents.offer', agentIds: ['bob'], deadlineAt: T1 + 15_000 },
      { type: 'timer.schedule', timer: 'consult-ring', delayMs: 15_000, token: 'c1' },
      { type: 'media.route', nodeId: 'm1', routes: { caller: ['player'], 'agent:alice': [] } },
      { type: 'media.play', nodeId: 'm1', playId: 'consult-1', clips: ['music'], loop: true },
      { type: 'agents.transferStatus', agentId: 'alice', status: 'ringing', targets: ['bob'] },
    ]);
  });

  it('bob answering connects alice and bob to each other; the caller still holds', () => {
    const r = consulting();
    expect(r.snap.value).toBe('consulting');
    expect(r.snap.context).toMatchObject({ agentId: 'alice', live: { consult: { with: 'bob', connected: true } } });
    expect(r.effects).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['player'], 'agent:alice': ['agent:bob'], 'agent:bob': ['agent:alice'] },
    });
  });

  it('complete hands the caller to bob; cancel brings them back to alice and lets bob go', () => {
    const done = run(consulting().snap, { type: 'AGENT.CONSULT_COMPLETE', agentId: 'alice' }, T1 + 1000)!;
    expect(done.snap.value).toBe('live');
    expect(done.snap.context.agentId).toBe('bob');
    expect(done.effects).toContainEqual({ type: 'media.closeLeg', nodeId: 'm1', legId: 'agent:alice' });
    const back = run(consulting().snap, { type: 'AGENT.CONSULT_CANCEL', agentId: 'alice' }, T1 + 1000)!;
    expect(back.snap.value).toBe('live');
    expect(back.snap.context.agentId).toBe('alice');
    expect(back.effects).toEqual(
      expect.arrayContaining([
        { type: 'agents.leave', agentId: 'bob', reason: 'consult-ended' },
        { type: 'media.closeLeg', nodeId: 'm1', legId: 'agent:bob' },
        { type: 'media.route', nodeId: 'm1', routes: { caller: ['agent:alice'], 'agent:alice': ['caller'] } },
      ]),
    );
    // Only alice completes or cancels; complete needs bob on the line.
    expect(run(consulting().snap, { type: 'AGENT.CONSULT_COMPLETE', agentId: 'bob' }, T1 + 1000)).toBeNull();
    expect(
      run(run(live(), CONSULT, T1)!.snap, { type: 'AGENT.CONSULT_COMPLETE', agentId: 'alice' }, T1 + 1),
    ).toBeNull();
  });

  it('the caller hanging up while consulting tells and frees bob too', () => {
    const r = run(consulting().snap, { type: 'WA.TERMINATE', status: 'COMPLETED' }, T1 + 1000)!;
    expect(r.snap.value).toBe('ended');
    expect(r.effects).toContainEqual({ type: 'agents.ended', agentIds: ['alice', 'bob'], reason: 'completed' });
    expect(r.effects).toContainEqual({ type: 'agents.release', agentId: 'bob' });
  });
});

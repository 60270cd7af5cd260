/**
 * Two waits that had no deadline of their own:
 * - after a fallback accept (the accept deadline passed with WhatsApp media up but no agent leg), the call went live
 *   and could stay live with nobody on our side until MAX_CALL_SECONDS;
 * - `pre-accepted` after the accept request waited for Meta's 200 for ever (a lost or stuck Graph job).
 */
import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { callMachine } from './call.machine.js';
import { callInput, driveFrom, type TestEvent as E } from './call.test-support.js';
import { type CallSnapshot, step } from './deliver.js';

const T0 = 2_000_000;
const input = callInput({ callId: 'wacid.DEADLINES', at: T0, agentGraceMs: 20_000 });

function drive(events: E[], from?: CallSnapshot) {
  const snap = from ?? initialTransition(callMachine, input)[0];
  return driveFrom(snap, events, snap.context.times.endedAt ?? T0);
}

const TO_PRE_ACCEPTED: E[] = [
  { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-all', tier: 'team' },
  { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' },
  { type: 'MEDIA.WA_ANSWER' },
];
const FALLBACK: E[] = [
  ...TO_PRE_ACCEPTED,
  { type: 'MEDIA.WA_CONNECTED' },
  { type: 'TIMER.FIRED', timer: 'accept-deadline', token: '1' },
];
const confirmTimer = { type: 'timer.schedule', timer: 'accept-deadline', delayMs: 30_000, token: 'confirm' };

describe('call machine: deadlines after the accept request', () => {
  it('a live call reached by a fallback accept with no agent leg ends agent-disconnected after the agent grace', () => {
    const { snap, effects } = drive([...FALLBACK, { type: 'GRAPH.DONE', action: 'accept' }]);
    expect(snap.value).toBe('live');
    expect(snap.context.bridge.agentLegDown).toBe(true);
    expect(effects.at(-1)).toContainEqual({
      type: 'timer.schedule',
      timer: 'agent-grace',
      delayMs: 20_000,
      token: '1',
    });
    expect(effects.at(-1)).toContainEqual({ type: 'timer.cancel', timer: 'accept-deadline', token: 'confirm' });
    const ended = drive([{ type: 'TIMER.FIRED', timer: 'agent-grace', token: '1' }], snap);
    expect(ended.snap.value).toBe('ended');
    expect(ended.snap.context.outcome.reason).toBe('agent-disconnected');
    expect(ended.effects[0]!.map((e) => e.type)).toContain('graph.terminate');
  });

  it('a fallback-accepted call whose agent leg arrives in time stays live', () => {
    const { snap } = drive([...FALLBACK, { type: 'GRAPH.DONE', action: 'accept' }, { type: 'MEDIA.AGENT_CONNECTED' }]);
    expect(snap.context.bridge.agentLegDown).toBe(false);
    expect(step(snap, { type: 'TIMER.FIRED', timer: 'agent-grace', token: '1', at: T0 + 30_000 }).handled).toBe(false);
    expect(snap.value).toBe('live');
  });

  it('a call that goes live with its agent leg up schedules no agent grace', () => {
    const { snap, effects } = drive([
      ...TO_PRE_ACCEPTED,
      { type: 'GRAPH.DONE', action: 'pre_accept' },
      { type: 'MEDIA.WA_CONNECTED' },
      { type: 'MEDIA.AGENT_CONNECTED' },
      { type: 'GRAPH.DONE', action: 'accept' },
    ]);
    expect(snap.value).toBe('live');
    expect(effects.at(-2)).toContainEqual(confirmTimer); // the accept request (MEDIA.AGENT_CONNECTED made it ready)
    expect(
      effects
        .at(-1)!
        .filter((e) => e.type === 'timer.schedule')
        .map((e) => (e as { timer: string }).timer),
    ).toEqual(['max-duration']);
  });

  it('pre-accepted after the accept request ends graph-failed when Meta never confirms it, with terminate', () => {
    const { snap, effects } = drive([...FALLBACK]);
    expect(effects.at(-1)).toContainEqual(confirmTimer);
    const ended = drive([{ type: 'TIMER.FIRED', timer: 'accept-deadline', token: 'confirm' }], snap);
    expect(ended.snap.value).toBe('ended');
    expect(ended.snap.context.outcome.reason).toBe('graph-failed');
    expect(ended.snap.context.outcome.detail).toMatch(/did not confirm/);
    expect(ended.effects[0]!.map((e) => e.type)).toContain('graph.terminate');
  });

  it('the stranded-call sweep ends a pre-accepted call whose accept confirmation is long overdue', () => {
    const { snap } = drive([...FALLBACK]);
    const deadline = snap.context.times.acceptDeadlineAt!;
    expect(step(snap, { type: 'TIMER.SWEEP', at: deadline + 29_000 }).handled).toBe(false);
    const ended = drive([{ type: 'TIMER.SWEEP', at: deadline + 30_000 }], snap);
    expect(ended.snap.context.outcome.reason).toBe('graph-failed');
  });

  it('the first accept deadline firing after a ready accept changes nothing', () => {
    const { snap } = drive([
      ...TO_PRE_ACCEPTED,
      { type: 'GRAPH.DONE', action: 'pre_accept' },
      { type: 'MEDIA.WA_CONNECTED' },
      { type: 'MEDIA.AGENT_CONNECTED' },
    ]);
    expect(snap.value).toBe('pre-accepted');
    expect(snap.context.bridge.acceptRequested).toBe(true);
    expect(step(snap, { type: 'TIMER.FIRED', timer: 'accept-deadline', token: '1', at: T0 + 11_000 }).handled).toBe(
      false,
    );
  });
});

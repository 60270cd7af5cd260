import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { callInput, driveFrom, type TestEvent as E } from './call.test-support.js';

const T0 = 2_000_000;
const input = callInput({
  callId: 'out.TEST',
  caller: { waId: '919800012345' },
  at: T0,
  direction: 'outbound',
  outbound: { to: '919800012345', agentId: 'alice', mediaNodeId: 'm1' },
});

/** Persist and restore between every step, as deliver() does. */
const drive = (events: E[]) => driveFrom(initialTransition(callMachine, input)[0], events, T0);

const types = (effects: Effect[]) => effects.map((e) => e.type);
const CONNECTED: E[] = [
  { type: 'MEDIA.WA_OFFER' },
  { type: 'GRAPH.DONE', action: 'connect', metaCallId: 'wacid.M' },
  { type: 'WA.ANSWER' },
  { type: 'WA.STATUS', status: 'RINGING' },
];

describe('call machine: business-initiated calls', () => {
  it('starts dialing: the media node makes the offer, no routing and no queue', () => {
    const [snap, actions] = initialTransition(callMachine, input);
    expect(snap.value).toBe('dialing');
    const effects = actions.flatMap((a) => (a.type === 'effect' ? [a.params as Effect | Effect[]].flat() : []));
    expect(types(effects)).toEqual(['call.created', 'timer.schedule', 'media.createOutbound', 'agents.progress']);
    expect(snap.context.agentId).toBe('alice');
  });

  it('an inbound call still starts ringing with a routing request', () => {
    const [snap] = initialTransition(callMachine, { ...input, direction: undefined, outbound: undefined });
    expect(snap.value).toBe('ringing');
  });

  it('offer → connect → answer applied → RINGING → ACCEPTED goes live with agent audio', () => {
    const { snap, effects } = drive([...CONNECTED, { type: 'WA.STATUS', status: 'ACCEPTED' }]);
    expect(snap.value).toBe('live');
    expect(types(effects[0]!)).toEqual(['graph.connect']);
    expect(snap.context.outbound?.metaCallId).toBe('wacid.M');
    expect(types(effects[2]!)).toEqual(['media.applyAnswer']);
    expect(effects[3]).toEqual([{ type: 'agents.progress', agentId: 'alice', status: 'ringing' }]);
    expect(types(effects[4]!)).toEqual([
      'timer.cancel',
      'media.startAgentAudio',
      'agents.live',
      'agents.progress',
      'timer.schedule',
    ]);
  });

  it('REJECTED ends the call declined, without a Graph action (Meta already ended it)', () => {
    const { snap, effects } = drive([...CONNECTED, { type: 'WA.STATUS', status: 'REJECTED' }]);
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('declined');
    expect(types(effects.at(-1)!).filter((t) => t.startsWith('graph.'))).toEqual([]);
  });

  it('connect refused with 138006 ends the call and tells the agent in plain words', () => {
    const { snap, effects } = drive([
      { type: 'MEDIA.WA_OFFER' },
      { type: 'GRAPH.FAILED', action: 'connect', metaCode: 138006, httpStatus: 401, message: 'x' },
    ]);
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.errorCode).toBe(138006);
    const progress = effects[1]!.find((e) => e.type === 'agents.progress');
    expect(progress).toMatchObject({ status: 'failed', message: expect.stringContaining('permission') });
    expect(types(effects[1]!).filter((t) => t.startsWith('graph.'))).toEqual([]);
  });

  it('the agent hanging up while it rings terminates at Meta', () => {
    const { snap, effects } = drive([...CONNECTED, { type: 'AGENT.HANGUP', agentId: 'alice' }]);
    expect(snap.value).toBe('ended');
    expect(types(effects.at(-1)!)).toContain('graph.terminate');
  });

  it('hanging up before Meta named the call sends nothing (the connect job ends it)', () => {
    const { effects } = drive([{ type: 'MEDIA.WA_OFFER' }, { type: 'AGENT.HANGUP', agentId: 'alice' }]);
    expect(types(effects.at(-1)!).filter((t) => t.startsWith('graph.'))).toEqual([]);
  });

  it('a terminate before ACCEPTED ends it not-answered; the deadline does too', () => {
    expect(drive([...CONNECTED, { type: 'WA.TERMINATE', status: 'COMPLETED' }]).snap.context.outcome.reason).toBe(
      'not-answered',
    );
    const { snap, effects } = drive([...CONNECTED, { type: 'TIMER.FIRED', timer: 'answer-deadline', token: 'a' }]);
    expect(snap.context.outcome.reason).toBe('not-answered');
    expect(types(effects.at(-1)!)).toContain('graph.terminate');
  });
});

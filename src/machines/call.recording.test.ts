import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { callInput, driveFrom, type TestEvent as E } from './call.test-support.js';
import type { CallInput } from './call.types.js';

const T0 = 3_000_000;
const input = (record: CallInput['record']): CallInput => callInput({ callId: 'wacid.REC', at: T0, record });

/** Persist and restore between every step, as deliver() does. */
const drive = (record: CallInput['record'], events: E[]) =>
  driveFrom(initialTransition(callMachine, input(record))[0], events, T0);

const LIVE: E[] = [
  { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-all', tier: 'team' },
  { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' },
  { type: 'MEDIA.WA_ANSWER' },
  { type: 'GRAPH.DONE', action: 'pre_accept' },
  { type: 'MEDIA.WA_CONNECTED' },
  { type: 'MEDIA.AGENT_CONNECTED' },
  { type: 'GRAPH.DONE', action: 'accept' },
];
const types = (effects: Effect[]) => effects.map((e) => e.type);

describe('call machine: recording', () => {
  it('record all: going live plays the notice to the caller, and recording starts when it ends', () => {
    const { snap, effects } = drive('all', [...LIVE, { type: 'MEDIA.PLAY_ENDED', playId: 'recording-notice' }]);
    // The accept asks for no early agent audio: the caller is to hear the notice first.
    expect(effects[LIVE.length - 2]).toContainEqual({ type: 'graph.accept' });
    const goingLive = effects[LIVE.length - 1]!;
    expect(goingLive).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['player'], 'agent:alice': ['caller'] },
    });
    expect(goingLive).toContainEqual(expect.objectContaining({ type: 'media.play', clips: ['recording-notice'] }));
    // The caller is switched to the notice before agent audio starts: none of the agent reaches them first.
    expect(types(goingLive).indexOf('media.route')).toBeLessThan(types(goingLive).indexOf('media.startAgentAudio'));
    expect(types(goingLive).filter((t) => t === 'media.play')).toHaveLength(1);
    expect(effects.at(-1)).toContainEqual({ type: 'media.record', nodeId: 'm1', on: true });
    expect(snap.context.live.recording?.state).toBe('on');
  });

  it('the agent pauses and resumes; only the bridged agent can', () => {
    const { snap, effects } = drive('all', [
      ...LIVE,
      { type: 'MEDIA.PLAY_ENDED', playId: 'recording-notice' },
      { type: 'AGENT.RECORD', agentId: 'alice', on: false },
      { type: 'AGENT.RECORD', agentId: 'alice', on: true },
    ]);
    expect(effects.at(-2)).toEqual([{ type: 'media.record', nodeId: 'm1', on: false }]);
    expect(effects.at(-1)).toEqual([{ type: 'media.record', nodeId: 'm1', on: true }]);
    expect(snap.context.live.recording).toMatchObject({ state: 'on', pauses: 1 });
    expect(() => drive('all', [...LIVE, { type: 'AGENT.RECORD', agentId: 'bob', on: false }])).toThrow(/not handled/);
  });

  it('record off: nothing is played or recorded and the agent cannot start it; record agent: the agent can', () => {
    const off = drive('off', LIVE);
    expect(types(off.effects.at(-1)!)).not.toContain('media.play');
    expect(() => drive('off', [...LIVE, { type: 'AGENT.RECORD', agentId: 'alice', on: true }])).toThrow(/not handled/);
    const agent = drive('agent', [...LIVE, { type: 'AGENT.RECORD', agentId: 'alice', on: true }]);
    expect(agent.snap.context.live.recording?.state).toBe('announcing');
    expect(agent.effects.at(-1)).toContainEqual(expect.objectContaining({ type: 'media.play' }));
  });
});

import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import type { Effect } from './call.effects.js';
import { callMachine } from './call.machine.js';
import { callInput, driveFrom, type TestEvent as E, effectsOf } from './call.test-support.js';
import type { BusinessFlow, CallInput } from './call.types.js';
import { type CallSnapshot, step } from './deliver.js';

const T0 = 1_000_000;
const flow = (over: Partial<BusinessFlow> = {}): BusinessFlow => ({
  greeting: ['greeting'],
  ivr: {
    prompt: ['menu'],
    options: { '1': ['sales'], '2': ['support'] },
    timeoutMs: 5_000,
    retries: 1,
    defaultDigit: undefined,
  },
  queue: {
    teams: ['support'],
    music: 'music',
    announceEveryMs: 30_000,
    maxWaitMs: 120_000,
    overflow: { action: 'hangup' },
    priority: 0,
  },
  ...over,
});
const input = (f: BusinessFlow = flow()): CallInput =>
  callInput({ callId: 'wacid.Q', at: T0, business: { flow: f, mediaNodeId: 'm1' }, holdAlertMs: 60_000 });

/** Persist and restore between every step, as deliver() does; each event 100 ms after the previous unless timed. */
const drive = (events: E[], from: CallSnapshot) => driveFrom(from, events, T0);

const start = (f?: BusinessFlow) => {
  const [snap, actions] = initialTransition(callMachine, input(f));
  const effects = effectsOf(actions);
  return { snap, effects };
};
const ANSWER: E[] = [
  { type: 'MEDIA.WA_ANSWER' },
  { type: 'GRAPH.DONE', action: 'pre_accept' },
  { type: 'MEDIA.WA_CONNECTED' },
  { type: 'GRAPH.DONE', action: 'accept' },
];
const types = (effects: Effect[]) => effects.map((e) => e.type);
const all = (effects: Effect[][]) => effects.flat();
const graphOf = (effects: Effect[]) => effects.filter((e) => e.type.startsWith('graph.')).map((e) => e.type);
const plays = (effects: Effect[]) => effects.filter((e) => e.type === 'media.play');
const fired = (timer: string, token: string, at?: number): E =>
  ({ type: 'TIMER.FIRED', timer, token, ...(at ? { at } : {}) }) as E;

/** In the queue (support), answered, with the menu done. */
const queuedAfterKey2 = () => drive([...ANSWER, { type: 'MEDIA.DTMF', digit: '2' }], start().snap);

describe('business answer: the call is answered at once and Meta hears one accept', () => {
  it('a business call starts in ivr and creates its bridge with no agent, before anyone rings', () => {
    const { snap, effects } = start();
    expect(snap.value).toBe('ivr');
    expect(effects).toContainEqual({ type: 'media.createBridge', nodeId: 'm1' });
    expect(effects).toContainEqual({ type: 'timer.schedule', timer: 'accept-deadline', delayMs: 10_000, token: 'w' });
    expect(types(effects)).not.toContain('routing.request');
    expect(types(effects)).not.toContain('agents.offer');
  });

  it('pre_accept goes with the answer, accept once the WhatsApp leg is connected, then greeting and menu play', () => {
    const { snap, effects } = drive(ANSWER, start().snap);
    expect(snap.value).toBe('ivr');
    expect(graphOf(effects[0]!)).toEqual(['graph.preAccept']);
    expect(graphOf(effects[2]!)).toEqual(['graph.accept']);
    expect(snap.context.times.answeredAt).toBe(T0 + 400);
    expect(plays(effects[3]!)).toEqual([
      { type: 'media.play', nodeId: 'm1', playId: 'ivr.1', clips: ['greeting', 'menu'] },
    ]);
    expect(effects[3]).toContainEqual({ type: 'timer.cancel', timer: 'accept-deadline', token: 'w' });
  });

  it('accept waits for pre_accept when the leg connects first', () => {
    const { effects } = drive(
      [{ type: 'MEDIA.WA_ANSWER' }, { type: 'MEDIA.WA_CONNECTED' }, { type: 'GRAPH.DONE', action: 'pre_accept' }],
      start().snap,
    );
    expect(graphOf(effects[1]!)).toEqual([]);
    expect(graphOf(effects[2]!)).toEqual(['graph.accept']);
  });

  it('without an IVR the call goes straight to queued and hears the greeting, running straight into the music', () => {
    const { snap: s0, effects: e0 } = start(flow({ ivr: undefined }));
    expect(s0.value).toBe('queued');
    expect(e0).toContainEqual({ type: 'timer.schedule', timer: 'max-wait', delayMs: 120_000, token: '1' });
    const { snap, effects } = drive(ANSWER, s0);
    expect(snap.value).toBe('queued');
    // The media node goes on to the music itself: the greeting's end asks for nothing (no gap for a round trip).
    expect(plays(effects[3]!)).toEqual([
      { type: 'media.play', nodeId: 'm1', playId: 'greeting', clips: ['greeting'], thenLoop: ['music'] },
    ]);
    expect(types(effects[3]!)).toContain('routing.request');
    expect(step(snap, { type: 'MEDIA.PLAY_ENDED', playId: 'greeting', at: T0 + 5000 }).handled).toBe(false);
  });

  it('the WhatsApp leg never connecting ends the call media-failed with a terminate', () => {
    const { snap, effects } = drive(
      [{ type: 'MEDIA.WA_ANSWER' }, { type: 'GRAPH.DONE', action: 'pre_accept' }, fired('accept-deadline', 'w')],
      start().snap,
    );
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('media-failed');
    expect(graphOf(effects[2]!)).toEqual(['graph.terminate']);
  });
});

describe('ivr', () => {
  it('a valid key keeps the choice on the call and enters that team queue with music', () => {
    const { snap, effects } = queuedAfterKey2();
    expect(snap.value).toBe('queued');
    expect(snap.context.ivr.choice).toBe('2');
    expect(snap.context.queue?.teams).toEqual(['support']);
    expect(snap.context.queue?.enteredAt).toBe(T0 + 500);
    const last = effects[4]!;
    expect(last).toContainEqual({ type: 'queue.enter', teams: ['support'], priority: 0, enteredAt: T0 + 500 });
    expect(last).toContainEqual({ type: 'media.play', nodeId: 'm1', playId: 'music', clips: ['music'], loop: true });
    expect(last).toContainEqual({ type: 'timer.schedule', timer: 'max-wait', delayMs: 120_000, token: '1' });
    expect(last).toContainEqual({ type: 'timer.schedule', timer: 'announce', delayMs: 30_000, token: '0' });
    expect(last).toContainEqual({ type: 'timer.cancel', timer: 'ivr-timeout', token: '1' });
    expect(last).toContainEqual({ type: 'routing.request', seq: snap.context.routing.seq });
  });

  it('an invalid key gets a re-prompt, then a valid one is taken', () => {
    const { snap, effects } = drive(
      [...ANSWER, { type: 'MEDIA.DTMF', digit: '7' }, { type: 'MEDIA.DTMF', digit: '1' }],
      start().snap,
    );
    expect(plays(effects[4]!)).toEqual([
      { type: 'media.play', nodeId: 'm1', playId: 'ivr.2', clips: ['invalid-choice', 'menu'] },
    ]);
    expect(snap.value).toBe('queued');
    expect(snap.context.queue?.teams).toEqual(['sales']);
    expect(snap.context.caller.dtmf).toBe('71');
  });

  it('no key: the menu once more, then goodbye and a terminate after the prompt', () => {
    const { snap, effects } = drive(
      [
        ...ANSWER,
        { type: 'MEDIA.PLAY_ENDED', playId: 'ivr.1' },
        fired('ivr-timeout', '1'),
        { type: 'MEDIA.PLAY_ENDED', playId: 'ivr.2' },
        fired('ivr-timeout', '2'),
        { type: 'MEDIA.PLAY_ENDED', playId: 'goodbye' },
      ],
      start().snap,
    );
    expect(effects[4]).toContainEqual({ type: 'timer.schedule', timer: 'ivr-timeout', delayMs: 5000, token: '1' });
    expect(plays(effects[5]!)[0]).toMatchObject({ playId: 'ivr.2', clips: ['no-choice', 'menu'] });
    expect(plays(effects[7]!)[0]).toMatchObject({ playId: 'goodbye', clips: ['goodbye'] });
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('no-choice');
    expect(graphOf(all(effects))).toEqual(['graph.preAccept', 'graph.accept', 'graph.terminate']);
  });

  it('no key and a default option: the default team queue', () => {
    const f = flow();
    f.ivr!.retries = 0;
    f.ivr!.defaultDigit = '2';
    const { snap } = drive([...ANSWER, fired('ivr-timeout', '1.s')], start(f).snap);
    expect(snap.value).toBe('queued');
    expect(snap.context.ivr.choice).toBe('2');
  });

  it('a stale menu timer (an older attempt) does nothing', () => {
    const s = drive([...ANSWER, { type: 'MEDIA.DTMF', digit: '9' }], start().snap).snap;
    const r = step(s, { type: 'TIMER.FIRED', timer: 'ivr-timeout', token: '1', at: T0 + 9000 });
    expect(r.handled).toBe(false);
  });

  it('a caller who hangs up in the menu ends abandoned and nothing goes to Meta', () => {
    const { snap, effects } = drive([...ANSWER, { type: 'WA.TERMINATE', status: 'COMPLETED' }], start().snap);
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('abandoned');
    expect(graphOf(effects[4]!)).toEqual([]);
    expect(effects[4]).toContainEqual({ type: 'media.close', nodeId: 'm1', reason: 'abandoned' });
  });
});

describe('queued', () => {
  const OFFER: E = { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-one', tier: 'team' };

  it('an offer rings the agent with a deadline and the call stays queued, hearing music', () => {
    const { snap: q } = queuedAfterKey2();
    expect(q.context.routing.seq).toBe(1);
    const { snap, effects } = drive([OFFER], q);
    expect(snap.value).toBe('queued');
    expect(effects[0]).toContainEqual({ type: 'agents.offer', agentIds: ['alice'], deadlineAt: T0 + 100 + 15_000 });
    expect(types(effects[0]!)).not.toContain('media.play');
  });

  it('an agent accepting from the queue leaves the queue, with no second pre_accept or accept', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive([OFFER, { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm9' }], q);
    expect(snap.value).toBe('bridging');
    expect(snap.context.mediaNodeId).toBe('m1');
    expect(effects[1]).toContainEqual({ type: 'queue.exit', teams: ['support'] });
    expect(types(effects[1]!)).not.toContain('media.createBridge');
    expect(graphOf(effects[1]!)).toEqual([]);
  });

  it('the agent leg connecting switches the caller from the player to the agent and goes live', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive(
      [
        OFFER,
        { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' },
        { type: 'MEDIA.LEG_CONNECTED', legId: 'agent:alice' },
      ],
      q,
    );
    expect(snap.value).toBe('live');
    expect(snap.context.queue?.leftAt).toBe(snap.context.times.liveAt);
    const live = effects[2]!;
    // Another browser leg (a supervisor) connecting is not the agent's: nothing changes.
    const sup = step(drive([OFFER, { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' }], q).snap, {
      type: 'MEDIA.LEG_CONNECTED',
      legId: 'sup:boss',
      at: T0 + 1,
    });
    expect(sup.handled).toBe(false);
    expect(live).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['agent:alice'], 'agent:alice': ['caller'] },
    });
    expect(types(live).indexOf('media.route')).toBeLessThan(types(live).indexOf('media.stopPlay'));
    expect(graphOf(live)).toEqual([]);
    expect(types(live)).toContain('agents.live');
  });

  it('an agent who accepts but never connects sends the caller back to the queue in the same place', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive(
      [OFFER, { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' }, fired('accept-deadline', 'q1')],
      q,
    );
    expect(snap.value).toBe('queued');
    expect(snap.context.agentId).toBeUndefined();
    expect(snap.context.routing.declined).toContain('alice');
    expect(effects[2]).toContainEqual({ type: 'queue.enter', teams: ['support'], priority: 0, enteredAt: T0 + 500 });
    expect(effects[2]).toContainEqual({ type: 'agents.release', agentId: 'alice' });
  });

  it('a declined or expired offer makes the queue look again', () => {
    const { snap: q } = queuedAfterKey2();
    const d = drive([OFFER, { type: 'AGENT.DECLINE', agentId: 'alice' }], q);
    expect(d.snap.context.routing.offer).toBeUndefined();
    expect(d.effects[1]).toContainEqual({ type: 'routing.request', seq: 2 });
    const x = drive([OFFER, fired('ring-expired', '1')], q);
    expect(x.effects[1]).toContainEqual({ type: 'routing.request', seq: 2 });
    expect(types(x.effects[1]!)).toContain('agents.withdraw');
  });

  it('announcements come every announceEverySeconds and the media node resumes the music after each', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive([fired('announce', '0')], q);
    expect(effects[0]).toContainEqual({
      type: 'queue.announce',
      nodeId: 'm1',
      playId: 'announce.0',
      teams: ['support'],
      thenLoop: ['music'],
    });
    expect(effects[0]).toContainEqual({ type: 'timer.schedule', timer: 'announce', delayMs: 30_000, token: '1' });
    expect(step(snap, { type: 'MEDIA.PLAY_ENDED', playId: 'announce.0', at: T0 + 5000 }).handled).toBe(false);
  });

  it('maxWaitSeconds with overflow teams moves the caller to them, keeping their entry time', () => {
    const f = flow();
    f.queue.overflow = { teams: ['sales'] };
    const { snap: q } = drive([...ANSWER, { type: 'MEDIA.DTMF', digit: '2' }], start(f).snap);
    const { snap, effects } = drive([fired('max-wait', '1')], q);
    expect(snap.value).toBe('queued');
    expect(snap.context.queue).toMatchObject({ teams: ['sales'], overflowed: true, enteredAt: T0 + 500 });
    expect(effects[0]).toContainEqual({ type: 'queue.exit', teams: ['support'] });
    expect(effects[0]).toContainEqual({ type: 'queue.enter', teams: ['sales'], priority: 0, enteredAt: T0 + 500 });
    expect(effects[0]).toContainEqual({ type: 'timer.schedule', timer: 'max-wait', delayMs: 120_000, token: '2' });
    expect(plays(effects[0]!)).toEqual([]);
  });

  it('maxWaitSeconds without overflow says goodbye, then terminates', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive([OFFER, fired('max-wait', '1'), fired('goodbye', '1')], q);
    expect(plays(effects[1]!)[0]).toMatchObject({ playId: 'goodbye', clips: ['all-agents-busy', 'goodbye'] });
    expect(effects[1]).toContainEqual({ type: 'queue.exit', teams: ['support'] });
    expect(types(effects[1]!)).toContain('agents.withdraw');
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('queue-timeout');
    expect(graphOf(effects[2]!)).toEqual(['graph.terminate']);
  });

  it('a caller who hangs up in the queue ends abandoned with the wait, ringing agents are told, Meta is not', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive([OFFER, { type: 'WA.TERMINATE', status: 'COMPLETED', at: T0 + 20_500 }], q);
    expect(snap.context.outcome.reason).toBe('abandoned');
    expect(snap.context.times.endedAt! - snap.context.queue!.enteredAt).toBe(20_000);
    expect(graphOf(effects[1]!)).toEqual([]);
    expect(effects[1]).toContainEqual({ type: 'agents.ended', agentIds: ['alice'], reason: 'abandoned' });
    expect(effects[1]).toContainEqual({ type: 'queue.exit', teams: ['support'] });
    expect(effects[1]).toContainEqual({ type: 'timer.cancel', timer: 'max-wait', token: '1' });
  });

  it('a caller who hangs up during the goodbye keeps the queue-timeout outcome, and Meta hears nothing more', () => {
    const { snap: q } = queuedAfterKey2();
    const { snap, effects } = drive([fired('max-wait', '1'), { type: 'WA.TERMINATE', status: 'COMPLETED' }], q);
    expect(snap.context.outcome.reason).toBe('queue-timeout');
    expect(snap.context.outcome.endedBy).toBe('caller');
    expect(graphOf(effects[1]!)).toEqual([]);
    expect(effects[1]).toContainEqual({ type: 'timer.cancel', timer: 'goodbye', token: '1' });
  });

  it('a second offer while one rings is ignored: a call is offered as a new call to one set of agents at once', () => {
    const { snap: q } = queuedAfterKey2();
    const s = drive([OFFER], q).snap;
    const r = step(s, { type: 'ROUTING.OFFER', seq: 1, agentIds: ['bob'], policy: 'ring-one', tier: 'team', at: T0 });
    expect(r.handled).toBe(false);
  });
});

describe('hold', () => {
  const live = () =>
    drive(
      [
        { type: 'ROUTING.OFFER', seq: 1, agentIds: ['alice'], policy: 'ring-one', tier: 'team' },
        { type: 'AGENT.ACCEPT', agentId: 'alice', mediaNodeId: 'm1' },
        { type: 'MEDIA.AGENT_CONNECTED' },
      ],
      queuedAfterKey2().snap,
    ).snap;

  it('hold plays music to the caller, stops forwarding the agent, and alerts after the limit; resume undoes it', () => {
    const { snap, effects } = drive(
      [
        { type: 'AGENT.HOLD', agentId: 'alice', at: T0 + 10_000 },
        fired('hold-alert', '1', T0 + 70_000),
        { type: 'AGENT.RESUME', agentId: 'alice', at: T0 + 75_000 },
      ],
      live(),
    );
    expect(effects[0]).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['player'], 'agent:alice': ['caller'] },
    });
    expect(plays(effects[0]!)[0]).toMatchObject({ playId: 'hold', loop: true });
    expect(effects[1]).toContainEqual({ type: 'agents.holdAlert', agentId: 'alice', heldMs: 60_000 });
    expect(effects[1]).toContainEqual({ type: 'timer.schedule', timer: 'hold-alert', delayMs: 60_000, token: '1.1' });
    expect(snap.value).toBe('live');
    expect(snap.context.live.hold).toMatchObject({ since: undefined, totalMs: 65_000 });
    expect(effects[2]).toContainEqual({
      type: 'media.route',
      nodeId: 'm1',
      routes: { caller: ['agent:alice'], 'agent:alice': ['caller'] },
    });
  });

  it('only the agent on the call can hold it, and a held call still ends when the agent hangs up', () => {
    const s = live();
    expect(step(s, { type: 'AGENT.HOLD', agentId: 'bob', at: T0 + 1 }).handled).toBe(false);
    const { snap, effects } = drive(
      [
        { type: 'AGENT.HOLD', agentId: 'alice' },
        { type: 'AGENT.HANGUP', agentId: 'alice' },
      ],
      s,
    );
    expect(snap.value).toBe('ended');
    expect(snap.context.outcome.reason).toBe('completed');
    expect(effects[1]).toContainEqual({ type: 'timer.cancel', timer: 'hold-alert', token: '1' });
  });
});

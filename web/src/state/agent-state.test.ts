import { describe, expect, it } from 'vitest';
import type { AgentSession, CallOffered } from '../../../src/shared/protocol.js';
import { type AgentAction, type AgentState, agentReducer, initialAgentState } from './agent-state.js';

const offer = (callId: string, createdAt = 1_000): CallOffered => ({
  callId,
  from: { name: 'Priya', number: '9198•••••130' },
  deadlineAt: createdAt + 45_000,
  createdAt,
});
const session = (over: Partial<AgentSession> = {}): AgentSession => ({
  agentId: 'alice',
  name: 'Alice',
  role: 'agent',
  presence: 'online',
  offers: [],
  activeCall: null,
  protocol: 1,
  ...over,
});
const run = (actions: AgentAction[], from: AgentState = initialAgentState) => actions.reduce(agentReducer, from);
const signedIn = run([{ type: 'session', session: session(), now: 0 }]);

describe('agent console state', () => {
  it('a session rebuilds offers (oldest first) and presence', () => {
    const s = run([{ type: 'session', session: session({ offers: [offer('b', 2000), offer('a', 1000)] }), now: 0 }]);
    expect(s.offers.map((o) => o.callId)).toEqual(['a', 'b']);
    expect(s.me?.agentId).toBe('alice');
    expect(s.presence).toBe('online');
  });

  it('call:taken by another agent removes the card at once', () => {
    const s = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'taken', callId: 'c1', agentId: 'bob', now: 5 },
      ],
      signedIn,
    );
    expect(s.offers).toEqual([]);
    expect(s.call).toBeNull();
  });

  it('call:taken by this agent in another tab shows the call as held elsewhere', () => {
    const s = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'taken', callId: 'c1', agentId: 'alice', now: 5 },
      ],
      signedIn,
    );
    expect(s.offers).toEqual([]);
    expect(s.call).toMatchObject({ callId: 'c1', holder: 'elsewhere' });
  });

  it('this tab’s own accept wins even when call:taken arrives before the ack', () => {
    const s = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'accept-start', offer: offer('c1') },
        { type: 'taken', callId: 'c1', agentId: 'alice', now: 5 },
        { type: 'accepted', callId: 'c1', state: 'bridging', now: 6 },
      ],
      signedIn,
    );
    expect(s.call).toMatchObject({ callId: 'c1', holder: 'here', from: { name: 'Priya' } });
    expect(s.pending).toEqual({});
  });

  it('call:live starts the timer; call:ended shows the reason', () => {
    const s = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'accept-start', offer: offer('c1') },
        { type: 'accepted', callId: 'c1', state: 'bridging', now: 6 },
        { type: 'live', callId: 'c1', liveAt: 100 },
        { type: 'ended', callId: 'c1', reason: 'completed', now: 200 },
      ],
      signedIn,
    );
    expect(s.call).toBeNull();
    expect(s.ended).toMatchObject({ callId: 'c1', reason: 'completed', liveAt: 100, endedAt: 200 });
  });

  it('a ringing call that ends says why; another agent’s call ending changes nothing', () => {
    const s = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'ended', callId: 'c1', reason: 'caller-hung-up', now: 9 },
      ],
      signedIn,
    );
    expect(s.offers).toEqual([]);
    expect(s.ended).toMatchObject({ callId: 'c1', reason: 'caller-hung-up' });
    expect(agentReducer(signedIn, { type: 'ended', callId: 'other', reason: 'completed', now: 9 })).toEqual(signedIn);
  });

  it('a reload resumes the call from the session, holder unknown until the tabs answer', () => {
    const s = run([
      {
        type: 'session',
        session: session({
          presence: 'busy',
          activeCall: { callId: 'c1', state: 'live', from: { name: null, number: 'x' }, acceptedAt: 1, liveAt: 2 },
        }),
        now: 10,
      },
    ]);
    expect(s.call).toMatchObject({ callId: 'c1', liveAt: 2, holder: 'unknown' });
  });

  it('a session without the call this tab was on means it ended while disconnected', () => {
    const onCall = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'accept-start', offer: offer('c1') },
        { type: 'accepted', callId: 'c1', state: 'bridging', now: 0 },
      ],
      signedIn,
    );
    const s = agentReducer(onCall, { type: 'session', session: session(), now: 60_000 });
    expect(s.call).toBeNull();
    expect(s.ended).toMatchObject({ callId: 'c1', reason: null });
    // …but a snapshot taken just before this tab's accept does not end it.
    expect(agentReducer(onCall, { type: 'session', session: session(), now: 1_000 }).call?.callId).toBe('c1');
  });

  it('a locally decided end (no microphone) is not overwritten by the server’s reason', () => {
    const onCall = run(
      [
        { type: 'offered', offer: offer('c1') },
        { type: 'accept-start', offer: offer('c1') },
        { type: 'accepted', callId: 'c1', state: 'bridging', now: 0 },
        { type: 'local-end', callId: 'c1', reason: 'microphone-unavailable', note: 'blocked', now: 1 },
        { type: 'ended', callId: 'c1', reason: 'rejected', now: 2 },
      ],
      signedIn,
    );
    expect(onCall.ended).toMatchObject({ reason: 'microphone-unavailable', local: true });
  });
});

import { describe, expect, it } from 'vitest';
import { type Candidate, decide, type NumberRouting, type RoutingRequest } from './policy.js';

const routing = (over: Partial<NumberRouting> = {}): NumberRouting => ({
  policy: 'ring-all',
  teams: ['support'],
  tiers: ['assigned', 'team', 'anyone'],
  ringTimeoutMs: 15_000,
  ...over,
});
const agent = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  teams: ['support'],
  available: true,
  idleSince: 0,
  offers: 0,
  ...over,
});
const req = (over: Partial<RoutingRequest>): RoutingRequest => ({
  routing: routing(),
  candidates: [],
  declined: [],
  tried: [],
  ringing: [],
  assignedAgentId: undefined,
  ...over,
});

describe('routing policy', () => {
  it('ring-all offers every available team agent, skipping busy, away and declined ones', () => {
    const d = decide(
      req({
        candidates: [
          agent('a'),
          agent('b', { available: false }),
          agent('c'),
          agent('d'),
          agent('x', { teams: ['sales'] }),
        ],
        declined: ['d'],
      }),
    );
    expect(d).toMatchObject({
      kind: 'offer',
      agentIds: ['a', 'c'],
      tier: 'team',
      policy: 'ring-all',
      ringTimeoutMs: 15_000,
    });
  });

  it('ring-all: the assigned agent rings alone first, then the team joins after the ring timeout', () => {
    const candidates = [agent('a'), agent('b'), agent('c')];
    const first = decide(req({ candidates, assignedAgentId: 'b' }));
    expect(first).toMatchObject({ kind: 'offer', agentIds: ['b'], tier: 'assigned', ringTimeoutMs: 15_000 });
    const second = decide(req({ candidates, assignedAgentId: 'b', tried: ['b'] }));
    expect(second).toMatchObject({ kind: 'offer', agentIds: ['b', 'a', 'c'], tier: 'team' });
    // Nobody further to add: ring until the answer deadline.
    expect(second.kind === 'offer' && second.ringTimeoutMs).toBeUndefined();
  });

  it('ring-all falls through to anyone when no team agent is available', () => {
    const d = decide(req({ candidates: [agent('a', { available: false }), agent('x', { teams: ['sales'] })] }));
    expect(d).toMatchObject({ kind: 'offer', agentIds: ['x'], tier: 'anyone' });
  });

  it('ring-one picks the longest idle untried agent and times out', () => {
    const r = routing({ policy: 'ring-one' });
    const candidates = [agent('a', { idleSince: 300 }), agent('b', { idleSince: 100 }), agent('c', { idleSince: 200 })];
    expect(decide(req({ routing: r, candidates }))).toMatchObject({ agentIds: ['b'], ringTimeoutMs: 15_000 });
    expect(decide(req({ routing: r, candidates, tried: ['b'] }))).toMatchObject({ agentIds: ['c'] });
    expect(decide(req({ routing: r, candidates, tried: ['b', 'c'] }))).toMatchObject({ agentIds: ['a'] });
  });

  it('ring-one starts a new round after everyone was tried, avoiding the one who just let it ring out', () => {
    const r = routing({ policy: 'ring-one' });
    const candidates = [agent('a', { idleSince: 1 }), agent('b', { idleSince: 2 })];
    expect(decide(req({ routing: r, candidates, tried: ['a', 'b'] }))).toMatchObject({
      agentIds: ['a'],
      resetTried: true,
    });
    expect(decide(req({ routing: r, candidates, tried: ['b', 'a'] }))).toMatchObject({
      agentIds: ['b'],
      resetTried: true,
    });
  });

  it('ring-one skips agents already ringing for another call', () => {
    const r = routing({ policy: 'ring-one' });
    const d = decide(
      req({ routing: r, candidates: [agent('a', { offers: 1, idleSince: 1 }), agent('b', { idleSince: 2 })] }),
    );
    expect(d).toMatchObject({ agentIds: ['b'] });
  });

  it('says why when nobody can take the call', () => {
    expect(decide(req({ candidates: [] }))).toEqual({ kind: 'none', note: 'no eligible agent online' });
    expect(decide(req({ candidates: [agent('a')], declined: ['a'] }))).toMatchObject({ kind: 'none' });
  });
});

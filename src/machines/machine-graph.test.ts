import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { callMachine } from './call.machine.js';
import { describeMachine } from './machine-graph.js';

describe('describeMachine', () => {
  it('the call machine: every state, the initial one, the happy path and the ways to ended', () => {
    const g = describeMachine(callMachine);
    const names = g.states.map((s) => s.name);
    for (const s of ['ringing', 'agent-offered', 'bridging', 'pre-accepted', 'live', 'ended'])
      expect(names).toContain(s);
    // The initial state is the machine's own; a call without an IVR or queue goes from it to ringing at once.
    expect(g.initial).toBe(callMachine.root.initial?.target?.[0]?.key);
    expect(g.edges.filter((e) => e.from === g.initial).map((e) => e.to)).toContain('ringing');
    expect(g.states.find((s) => s.name === 'ended')?.final).toBe(true);
    const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
    expect(edge('ringing', 'agent-offered')?.events).toContain('ROUTING.OFFER');
    expect(edge('agent-offered', 'bridging')?.events).toContain('AGENT.ACCEPT');
    expect(edge('pre-accepted', 'live')?.events).toContain('GRAPH.DONE');
    // A transition the machine declares for every state (Meta's terminate) reaches ended from each of them.
    for (const s of names.filter((n) => n !== 'ended' && n !== g.initial))
      expect(edge(s, 'ended')?.events).toContain('WA.TERMINATE');
    // Nothing leaves a final state, and no edge loops on its own state.
    expect(g.edges.filter((e) => e.from === 'ended' || e.from === e.to)).toEqual([]);
  });

  it('nested states count for their top-level state; targetless transitions draw no edge', () => {
    const m = createMachine({
      id: 'm',
      initial: 'a',
      on: { STOP: '.done' },
      states: {
        a: { on: { GO: 'b', PING: {} } },
        b: { initial: 'x', states: { x: { on: { BACK: '#m.a' } } } },
        done: { type: 'final' },
      },
    });
    expect(describeMachine(m)).toEqual({
      id: 'm',
      initial: 'a',
      states: [
        { name: 'a', final: false },
        { name: 'b', final: false },
        { name: 'done', final: true },
      ],
      edges: [
        { from: 'a', to: 'b', events: ['GO'] },
        { from: 'b', to: 'a', events: ['BACK'] },
        { from: 'a', to: 'done', events: ['STOP'] },
        { from: 'b', to: 'done', events: ['STOP'] },
      ],
    });
  });
});

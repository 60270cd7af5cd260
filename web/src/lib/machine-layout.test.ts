import { describe, expect, it } from 'vitest';
import type { MachineGraph } from '../../../src/shared/rest-types.js';
import { callPath, layoutMachine } from './machine-layout.js';

const graph: MachineGraph = {
  id: 'call',
  initial: 'ringing',
  states: [
    { name: 'ringing', final: false },
    { name: 'agent-offered', final: false },
    { name: 'bridging', final: false },
    { name: 'live', final: false },
    { name: 'ended', final: true },
  ],
  edges: [
    { from: 'ringing', to: 'agent-offered', events: ['ROUTING.OFFER'] },
    { from: 'agent-offered', to: 'ringing', events: ['AGENT.DECLINE'] },
    { from: 'agent-offered', to: 'bridging', events: ['AGENT.ACCEPT'] },
    { from: 'bridging', to: 'live', events: ['GRAPH.DONE'] },
    { from: 'ringing', to: 'ended', events: ['WA.TERMINATE'] },
    { from: 'live', to: 'ended', events: ['AGENT.HANGUP'] },
  ],
};

describe('layoutMachine', () => {
  const layout = layoutMachine(graph);
  const state = (n: string) => layout.states.find((s) => s.name === n)!;
  const edge = (from: string, to: string) => layout.edges.find((e) => e.from === from && e.to === to)!;

  it('puts the initial state on top, each step of the happy path one layer lower, and final states last', () => {
    expect(['ringing', 'agent-offered', 'bridging', 'live', 'ended'].map((n) => state(n).layer)).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(state('ringing').y).toBeLessThan(state('agent-offered').y);
  });

  it('draws an edge back up as a back edge and an edge that skips layers as a long one', () => {
    expect(edge('agent-offered', 'ringing')).toMatchObject({ back: true, long: false });
    expect(edge('ringing', 'ended')).toMatchObject({ back: false, long: true });
    expect(edge('ringing', 'agent-offered')).toMatchObject({ back: false, long: false });
  });

  it('keeps every box and every edge inside the picture, and no two boxes overlap', () => {
    for (const s of layout.states) {
      expect(s.x - s.w / 2).toBeGreaterThanOrEqual(0);
      expect(s.x + s.w / 2).toBeLessThanOrEqual(layout.width);
      expect(s.y + s.h / 2).toBeLessThanOrEqual(layout.height);
    }
    for (const e of layout.edges) {
      const xs = [...e.d.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((m) => Number(m[1]));
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...xs)).toBeLessThanOrEqual(layout.width);
    }
    const boxes = layout.states;
    for (const a of boxes)
      for (const b of boxes)
        if (a !== b && a.layer === b.layer) expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual((a.w + b.w) / 2);
  });

  it('places states of one layer side by side', () => {
    const wide = layoutMachine({
      ...graph,
      states: [...graph.states, { name: 'on-hold', final: false }],
      edges: [...graph.edges, { from: 'agent-offered', to: 'on-hold', events: ['X'] }],
    });
    const [b, h] = ['bridging', 'on-hold'].map((n) => wide.states.find((s) => s.name === n)!);
    expect(b!.layer).toBe(h!.layer);
    expect(b!.y).toBe(h!.y);
    expect(b!.x).not.toBe(h!.x);
  });
});

describe('callPath', () => {
  it('follows the timeline: created, then each change of state; events that kept the state are not steps', () => {
    const p = callPath(
      [
        { to: 'ringing' },
        { from: 'ringing', to: 'agent-offered' },
        { from: 'agent-offered', to: 'agent-offered' },
        {},
        { from: 'agent-offered', to: 'ringing' },
        { from: 'ringing', to: 'agent-offered' },
      ],
      'agent-offered',
    );
    expect(p.states).toEqual(['ringing', 'agent-offered', 'ringing', 'agent-offered']);
    expect(p.steps).toEqual([
      ['ringing', 'agent-offered'],
      ['agent-offered', 'ringing'],
      ['ringing', 'agent-offered'],
    ]);
  });

  it('with no timeline yet, the path is where the call is', () => {
    expect(callPath([], 'ringing')).toEqual({ states: ['ringing'], steps: [] });
  });
});

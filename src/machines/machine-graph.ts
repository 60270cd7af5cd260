import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { MachineGraph } from '../shared/rest-types.js';

/** The top-level state a state node belongs to (the machine's own children are its states). */
function topLevel(node: AnyStateNode, root: AnyStateNode): AnyStateNode {
  let n = node;
  while (n.parent && n.parent !== root) n = n.parent;
  return n;
}

/**
 * The states and transitions of a machine's top level, read from its definition. Transitions declared on the
 * machine itself apply in every state that is not final; those declared in nested states count for their top-level
 * ancestor. Guards are not evaluated: an edge says a transition can happen, not when.
 */
export function describeMachine(machine: AnyStateMachine): MachineGraph {
  const root = machine.root;
  const states = Object.values(root.states) as AnyStateNode[];
  const edges = new Map<string, { from: string; to: string; events: Set<string> }>();
  const add = (from: AnyStateNode, event: string, targets: readonly AnyStateNode[] | undefined) => {
    for (const t of targets ?? []) {
      const to = topLevel(t, root);
      if (to === from || to === root) continue;
      const key = `${from.key}\u0000${to.key}`;
      const edge = edges.get(key) ?? { from: from.key, to: to.key, events: new Set<string>() };
      edge.events.add(event);
      edges.set(key, edge);
    }
  };
  const walk = (node: AnyStateNode, owner: AnyStateNode) => {
    for (const [event, defs] of node.transitions) for (const d of defs) add(owner, event, d.target);
    for (const d of node.always ?? []) add(owner, '(always)', d.target);
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child, owner);
  };
  for (const s of states) walk(s, s);
  for (const s of states) {
    if (s.type === 'final') continue;
    for (const [event, defs] of root.transitions) for (const d of defs) add(s, event, d.target);
  }
  const initial = root.initial?.target?.[0];
  return {
    id: root.id,
    initial: initial ? topLevel(initial, root).key : (states[0]?.key ?? ''),
    states: states.map((s) => ({ name: s.key, final: s.type === 'final' })),
    edges: [...edges.values()].map((e) => ({ from: e.from, to: e.to, events: [...e.events].sort() })),
  };
}

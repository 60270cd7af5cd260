import type { MachineGraph } from '../../../src/shared/rest-types.js';

/** A state placed on the picture: its box's centre, width and height. */
interface PlacedState {
  name: string;
  final: boolean;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A transition drawn as an SVG path; `back` edges lead to an earlier layer, `long` ones skip layers. */
interface PlacedEdge {
  from: string;
  to: string;
  events: string[];
  d: string;
  back: boolean;
  long: boolean;
}

export interface MachineLayout {
  width: number;
  height: number;
  states: PlacedState[];
  edges: PlacedEdge[];
}

const NODE_H = 28;
const LAYER_GAP = 40;
const NODE_GAP = 18;
const CHAR_W = 7;
const PAD_X = 14;
const MARGIN = 12;
/** How far a side-routed edge bulges out, and how much more per layer it spans. */
const BULGE = 26;
const BULGE_STEP = 10;

/**
 * A layered drawing of a state machine, top to bottom: the initial state on top, every transition pointing down
 * where it can (states are layered by the longest path from the initial one once the edges that close a cycle are
 * set aside), final states at the bottom. Edges between neighbouring layers are drawn straight down; edges that skip
 * layers bulge out on the right, and edges back up on the left, so none runs through a box.
 */
export function layoutMachine(graph: MachineGraph): MachineLayout {
  const names = graph.states.map((s) => s.name);
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of graph.edges) out.get(e.from)?.push(e.to);

  // Edges that close a cycle (to a state still on the depth-first path) are drawn as back edges.
  const back = new Set<string>();
  const seen = new Set<string>();
  const onPath = new Set<string>();
  const visit = (n: string) => {
    seen.add(n);
    onPath.add(n);
    for (const t of out.get(n) ?? []) {
      if (onPath.has(t)) back.add(`${n}\u0000${t}`);
      else if (!seen.has(t)) visit(t);
    }
    onPath.delete(n);
  };
  visit(graph.initial);
  for (const n of names) if (!seen.has(n)) visit(n);
  const isBack = (from: string, to: string) => back.has(`${from}\u0000${to}`);

  // Longest path from the top over the remaining (acyclic) edges.
  const layer = new Map<string, number>(names.map((n) => [n, 0]));
  const indegree = new Map<string, number>(names.map((n) => [n, 0]));
  for (const e of graph.edges) if (!isBack(e.from, e.to)) indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  const ready = names.filter((n) => indegree.get(n) === 0);
  while (ready.length > 0) {
    const n = ready.shift()!;
    for (const t of out.get(n) ?? []) {
      if (isBack(n, t)) continue;
      layer.set(t, Math.max(layer.get(t)!, layer.get(n)! + 1));
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) ready.push(t);
    }
  }
  const finals = graph.states.filter((s) => s.final).map((s) => s.name);
  const deepest = Math.max(0, ...names.filter((n) => !finals.includes(n)).map((n) => layer.get(n)!));
  for (const f of finals) layer.set(f, deepest + 1);

  // Within a layer: declaration order, then each state under the mean position of the states leading to it.
  const depth = Math.max(0, ...layer.values());
  const rows = Array.from({ length: depth + 1 }, (_, i) => names.filter((n) => layer.get(n) === i)).filter(
    (row) => row.length > 0,
  );
  const order = new Map<string, number>();
  rows.forEach((row) => {
    row.forEach((n, i) => {
      order.set(n, i);
    });
  });
  for (let i = 1; i < rows.length; i++) {
    const mean = (n: string) => {
      const from = graph.edges.filter((e) => e.to === n && !isBack(e.from, e.to)).map((e) => order.get(e.from)!);
      return from.length ? from.reduce((a, b) => a + b, 0) / from.length : order.get(n)!;
    };
    rows[i]!.sort((a, b) => mean(a) - mean(b));
    rows[i]!.forEach((n, j) => {
      order.set(n, j);
    });
  }

  const width = (n: string) => Math.max(64, n.length * CHAR_W + 2 * PAD_X);
  const rowWidth = (row: string[]) => row.reduce((a, n) => a + width(n), 0) + NODE_GAP * (row.length - 1);
  const maxSpan = Math.max(1, ...graph.edges.map((e) => Math.abs(layer.get(e.to)! - layer.get(e.from)!)));
  const side = BULGE + BULGE_STEP * maxSpan;
  const inner = Math.max(...rows.map(rowWidth));
  const total = inner + 2 * (side + MARGIN);
  const finalOf = new Map(graph.states.map((s) => [s.name, s.final]));
  const states: PlacedState[] = [];
  rows.forEach((row, li) => {
    let x = (total - rowWidth(row)) / 2;
    for (const n of row) {
      const w = width(n);
      states.push({
        name: n,
        final: finalOf.get(n) ?? false,
        layer: li,
        x: x + w / 2,
        y: MARGIN + NODE_H / 2 + li * (NODE_H + LAYER_GAP),
        w,
        h: NODE_H,
      });
      x += w + NODE_GAP;
    }
  });
  const at = new Map(states.map((s) => [s.name, s]));
  const r = (v: number) => Math.round(v * 10) / 10;

  const edges: PlacedEdge[] = graph.edges.map((e) => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const span = b.layer - a.layer;
    const isLong = span > 1 || span === 0;
    if (isBack(e.from, e.to) || span < 0) {
      // Up the left side: from the source's left edge to the target's left edge.
      const bulge = BULGE + BULGE_STEP * Math.abs(span);
      const [sx, sy, tx, ty] = [a.x - a.w / 2, a.y, b.x - b.w / 2, b.y];
      const cx = Math.min(sx, tx) - bulge;
      return {
        ...e,
        back: true,
        long: false,
        d: `M${r(sx)},${r(sy)} C${r(cx)},${r(sy)} ${r(cx)},${r(ty)} ${r(tx)},${r(ty)}`,
      };
    }
    if (isLong) {
      // Down the right side, further out the more layers it skips.
      const bulge = BULGE + BULGE_STEP * span;
      const [sx, sy, tx, ty] = [a.x + a.w / 2, a.y, b.x + b.w / 2, b.y];
      const cx = Math.max(sx, tx) + bulge;
      return {
        ...e,
        back: false,
        long: true,
        d: `M${r(sx)},${r(sy)} C${r(cx)},${r(sy)} ${r(cx)},${r(ty)} ${r(tx)},${r(ty)}`,
      };
    }
    const [sx, sy, tx, ty] = [a.x, a.y + a.h / 2, b.x, b.y - b.h / 2];
    const my = (sy + ty) / 2;
    return {
      ...e,
      back: false,
      long: false,
      d: `M${r(sx)},${r(sy)} C${r(sx)},${r(my)} ${r(tx)},${r(my)} ${r(tx)},${r(ty)}`,
    };
  });
  const height = MARGIN * 2 + rows.length * NODE_H + (rows.length - 1) * LAYER_GAP;
  return { width: Math.ceil(total), height, states, edges };
}

/** The states a call went through, in order, and the transitions it took, from its timeline. */
export function callPath(
  timeline: { from?: string | undefined; to?: string | undefined }[],
  current: string,
): { states: string[]; steps: [string, string][] } {
  const states: string[] = [];
  const steps: [string, string][] = [];
  for (const t of timeline) {
    if (!t.to) continue;
    if (states.length === 0) states.push(t.from ?? t.to);
    const last = states[states.length - 1]!;
    if (t.to === last) continue;
    steps.push([last, t.to]);
    states.push(t.to);
  }
  if (states.length === 0) states.push(current);
  return { states, steps };
}

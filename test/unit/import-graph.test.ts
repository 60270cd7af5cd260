/**
 * The import graph of `src` stays a layering: no module imports itself back through others, no two rooms
 * (top-level folders: machines, workers, http, …) import each other, directly or around a loop, and every import
 * goes down the layers below (never up, never sideways), while product code never imports the test tooling. Imports
 * are read from the sources (static `import`/`export … from` and dynamic `import()`), types included: a type-only
 * import still ties two rooms together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

const IMPORT_RE =
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Each source file (relative to src) → the source files it imports. */
function importGraph(files: string[]): Map<string, Set<string>> {
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const out = new Set<string>();
    for (const m of text.matchAll(IMPORT_RE)) {
      const target = path.resolve(path.dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, '');
      const hit = [`${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts')].find((c) => known.has(c));
      if (hit) out.add(path.relative(SRC, hit));
    }
    graph.set(path.relative(SRC, file), out);
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-loop): Tarjan's algorithm. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const roomOf = (file: string) => file.split(path.sep)[0]!.replace(/\.tsx?$/, '');

function roomGraph(graph: Map<string, Set<string>>): Map<string, Set<string>> {
  const rooms = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = roomOf(file);
    const out = rooms.get(from) ?? new Set<string>();
    rooms.set(from, out);
    for (const t of targets) if (roomOf(t) !== from) out.add(roomOf(t));
  }
  return rooms;
}

/** The imports that make up a room cycle, to say in a failure which lines to move. */
function explain(graph: Map<string, Set<string>>, rooms: string[]): string[] {
  const inCycle = new Set(rooms);
  return [...graph].flatMap(([file, targets]) =>
    [...targets]
      .filter((t) => roomOf(t) !== roomOf(file) && inCycle.has(roomOf(t)) && inCycle.has(roomOf(file)))
      .map((t) => `${file} → ${t}`),
  );
}

/**
 * The layers of the product, lowest first. A room may import its own files and the rooms of lower layers only; a
 * new room must be given a layer here (the test says so).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['shared'], // config, errors, keys, logging, Redis, the agent protocol's shapes
  ['rtc', 'client'], // peer connections, ICE, RTP clocks; the typed agent client (browser and tests)
  ['audio'], // tones, markers, DTMF: analysis and synthesis
  ['machines'], // the call machine: pure transitions, the store, deliver()
  ['media'], // media nodes and engines
  ['agents', 'events', 'history'], // agent directory and presence, call events out, call history
  ['workers'], // BullMQ queues and workers
  ['outbound', 'recording', 'routing', 'supervision', 'transfer', 'wrapup'], // contact-center features
  ['http'], // Hono routes, Socket.IO signaling
  ['runtime'], // wires one process's parts together
  ['roles'], // http | worker | media | all
  ['main'], // the entry point
];

/** Test and operations tooling: it may import anything, and product code imports none of it. */
const TOOLING = ['testing', 'sim', 'cluster'];

/**
 * The one door from product code into tooling: demo mode runs the WhatsApp simulator in-process, and only the entry
 * point brings it in (the roles receive it as a function).
 */
const TOOLING_ALLOWED = new Set([`main.ts → ${path.join('sim', 'demo.ts')}`]);

const layerOf = (room: string) => LAYERS.findIndex((rooms) => rooms.includes(room));

/** Every import that goes up or sideways between layers, into tooling from product code, or from an unknown room. */
function layerViolations(graph: Map<string, Set<string>>): string[] {
  return [...graph].flatMap(([file, targets]) => {
    const from = roomOf(file);
    if (TOOLING.includes(from)) return [];
    if (layerOf(from) < 0) return [`${file}: the room "${from}" has no layer`];
    return [...targets]
      .filter((t) => roomOf(t) !== from)
      .filter((t) => {
        const to = roomOf(t);
        if (TOOLING.includes(to)) return !TOOLING_ALLOWED.has(`${file} → ${t}`);
        return !(layerOf(to) >= 0 && layerOf(to) < layerOf(from));
      })
      .map((t) => `${file} → ${t}`);
  });
}

describe('the import graph of src', () => {
  const graph = importGraph(sourceFiles(SRC));

  it('is read from the sources (the reader finds the imports it should)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get(path.join('machines', 'deliver.ts'))).toContain(path.join('machines', 'call.store.ts'));
    expect(graph.get(path.join('http', 'app.ts'))).toContain(path.join('http', 'api.routes.ts'));
  });

  it('has no cycle between modules', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no cycle between rooms (top-level folders)', () => {
    const found = cycles(roomGraph(graph));
    expect(found.map((c) => ({ rooms: c.join(' ↔ '), imports: explain(graph, c) }))).toEqual([]);
  });

  it('imports only down the layers, and product code imports no tooling', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('gives every room a layer or calls it tooling', () => {
    const rooms = new Set([...graph.keys()].map(roomOf));
    expect([...rooms].filter((r) => layerOf(r) < 0 && !TOOLING.includes(r))).toEqual([]);
  });

  it('finds an upward, a sideways and a tooling import (the layer check can fail)', () => {
    const g = new Map([
      [path.join('machines', 'a.ts'), new Set([path.join('http', 'b.ts'), path.join('shared', 'c.ts')])],
      [path.join('agents', 'd.ts'), new Set([path.join('events', 'e.ts')])],
      [path.join('http', 'f.ts'), new Set([path.join('testing', 'g.ts')])],
      [path.join('testing', 'h.ts'), new Set([path.join('http', 'f.ts')])],
    ]);
    expect(layerViolations(g)).toEqual([
      `${path.join('machines', 'a.ts')} → ${path.join('http', 'b.ts')}`,
      `${path.join('agents', 'd.ts')} → ${path.join('events', 'e.ts')}`,
      `${path.join('http', 'f.ts')} → ${path.join('testing', 'g.ts')}`,
    ]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const g = new Map([
      ['a.ts', new Set(['b.ts'])],
      ['b.ts', new Set(['c.ts'])],
      ['c.ts', new Set(['a.ts'])],
      ['d.ts', new Set(['a.ts'])],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});

import { useMemo } from 'react';
import type { MachineGraph } from '../../../src/shared/rest-types.js';
import { callPath, layoutMachine } from '../lib/machine-layout.js';

/**
 * The call machine, drawn from its definition as the service runs it (`GET /api/machine`): every state, every
 * transition, the path this call took (numbered in order) and the state it is in now.
 */
export function MachineDiagram({
  graph,
  timeline,
  current,
}: {
  graph: MachineGraph;
  timeline: { from?: string | undefined; to?: string | undefined }[];
  current: string;
}) {
  const layout = useMemo(() => layoutMachine(graph), [graph]);
  const path = callPath(timeline, current);
  const visited = new Set(path.states);
  const taken = new Map<string, number[]>();
  // A call is created in the machine's initial state; when that state passes straight on (it is transient, so the
  // timeline starts after it), the way out of it is step 0.
  const first = path.states[0];
  if (first !== graph.initial && graph.edges.some((e) => e.from === graph.initial && e.to === first)) {
    visited.add(graph.initial);
    taken.set(`${graph.initial}→${first}`, [0]);
  }
  path.steps.forEach(([from, to], i) => {
    const key = `${from}→${to}`;
    taken.set(key, [...(taken.get(key) ?? []), i + 1]);
  });
  return (
    <svg
      className="machine"
      data-testid="machine-diagram"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      width={layout.width}
      height={layout.height}
      role="img"
      aria-label={`Call machine: now ${current}; path ${path.states.join(' → ')}`}
    >
      <defs>
        <marker id="machine-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" className="machine-arrowhead" />
        </marker>
        <marker
          id="machine-arrow-taken"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" className="machine-arrowhead taken" />
        </marker>
      </defs>
      {layout.edges.map((e) => {
        const steps = taken.get(`${e.from}→${e.to}`);
        return (
          <path
            key={`${e.from}→${e.to}`}
            d={e.d}
            className={`machine-edge${steps ? ' taken' : ''}${e.back ? ' back' : ''}`}
            data-from={e.from}
            data-to={e.to}
            data-taken={steps ? steps.join(',') : undefined}
            markerEnd={`url(#${steps ? 'machine-arrow-taken' : 'machine-arrow'})`}
          >
            <title>{`${e.from} → ${e.to}: ${e.events.join(', ')}${steps ? ` (this call: step ${steps.join(', ')})` : ''}`}</title>
          </path>
        );
      })}
      {layout.states.map((s) => {
        const isCurrent = s.name === current;
        return (
          <g
            key={s.name}
            className={`machine-state${visited.has(s.name) ? ' visited' : ''}${isCurrent ? ' current' : ''}${s.final ? ' final' : ''}`}
            data-state={s.name}
            data-current={isCurrent ? 'true' : undefined}
            data-visited={visited.has(s.name) ? 'true' : undefined}
          >
            <rect x={s.x - s.w / 2} y={s.y - s.h / 2} width={s.w} height={s.h} rx={s.final ? 14 : 6} />
            <text x={s.x} y={s.y} dominantBaseline="central" textAnchor="middle">
              {s.name}
            </text>
            {s.name === graph.initial && <circle cx={s.x - s.w / 2 - 8} cy={s.y} r={4} className="machine-initial" />}
          </g>
        );
      })}
    </svg>
  );
}

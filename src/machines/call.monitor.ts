/**
 * The call's routing table (who hears whom on the media node) and supervisor monitoring, as transition fragments
 * for the call machine (pure; effects as data).
 */
import type { Effect } from './call.effects.js';
import { type ArgsOf, agentLeg, assignOn } from './call.transitions.js';
import type { LiveFeatures } from './call.types.js';

const supLeg = (supervisorId: string) => `sup:${supervisorId}`;

/**
 * The call's routing table: caller ⇄ this agent; each monitoring supervisor hears the caller and the agent (two
 * tracks); a whispering one is also heard by the agent (their second track), never by the caller.
 */
export const routesFor = (agentId: string, monitors: LiveFeatures['monitors'] = {}): Record<string, string[]> => {
  const whisperers = Object.entries(monitors)
    .filter(([, m]) => m === 'whisper')
    .map(([s]) => supLeg(s));
  const routes: Record<string, string[]> = {
    caller: [agentLeg(agentId)],
    [agentLeg(agentId)]: ['caller', ...whisperers],
  };
  for (const s of Object.keys(monitors)) routes[supLeg(s)] = ['caller', agentLeg(agentId)];
  return routes;
};

/** In `live`: a supervisor starts, changes or stops monitoring; the routing table follows. */
export const monitor = {
  guard: ({ context, event }: ArgsOf<'SUP.MONITOR'>) =>
    context.mediaNodeId !== undefined &&
    context.agentId !== undefined &&
    (event.mode !== 'stop' || context.live.monitors?.[event.by] !== undefined) &&
    context.live.monitors?.[event.by] !== event.mode,
  actions: [
    assignOn<'SUP.MONITOR'>(({ context, event }) => {
      const monitors = { ...(context.live.monitors ?? {}) };
      if (event.mode === 'stop') delete monitors[event.by];
      else monitors[event.by] = event.mode;
      return { live: { monitors } };
    }),
    {
      type: 'effect' as const,
      params: ({ context, event }: ArgsOf<'SUP.MONITOR'>): Effect[] => [
        {
          type: 'media.route',
          nodeId: context.mediaNodeId!,
          routes: routesFor(context.agentId!, context.live.monitors),
        },
        ...(event.mode === 'stop'
          ? [{ type: 'media.closeLeg' as const, nodeId: context.mediaNodeId!, legId: supLeg(event.by) }]
          : []),
      ],
    },
  ],
};

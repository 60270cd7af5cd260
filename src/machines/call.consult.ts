/**
 * Consult transfer, as transition fragments for the call machine (pure; effects as data). From `live` the agent on
 * the call (A) asks another agent (B) first: the call goes to `consulting`, the caller holds with the music, B
 * rings; once B answers, A and B hear each other. A then completes (B has the caller, A leaves)
 * or cancels (the caller is back with A, B leaves). B not answering, declining or hanging up is a cancel; A hanging
 * up once B is on is a complete. Meta hears nothing of any of it.
 */
import type { Effect } from './call.effects.js';
import { routesFor } from './call.monitor.js';
import {
  type Args,
  type ArgsOf,
  agentLeg,
  assignOn,
  cancel,
  fx,
  isTimer,
  maxDurationFired,
  maxDurationSwept,
  playHoldMusic,
  timer,
  union,
  withdraw,
} from './call.transitions.js';
import type { CallContext } from './call.types.js';

/**
 * While consulting: the caller holds with music; A and B hear each other once B is on; supervisors still hear the
 * caller and A.
 */
const consultRoutes = (ctx: CallContext, from: string, withAgent: string, connected: boolean) => {
  const routes = routesFor(from, ctx.live.monitors);
  routes.caller = ['player'];
  routes[agentLeg(from)] = connected ? [agentLeg(withAgent)] : [];
  if (connected) routes[agentLeg(withAgent)] = [agentLeg(from)];
  return routes;
};

export const startConsult = {
  guard: ({ context, event }: ArgsOf<'AGENT.CONSULT'>) =>
    event.agentId === context.agentId && event.to !== event.agentId && context.mediaNodeId !== undefined,
  target: 'consulting' as const,
  actions: [
    assignOn<'AGENT.CONSULT'>(({ context, event }) => {
      const seq = (context.live.transfers ?? 0) + 1;
      return {
        live: {
          transfers: seq,
          consult: { seq, from: event.agentId, with: event.to, connected: false, ringToken: `c${seq}` },
          handledBy: context.live.handledBy ?? [event.agentId],
        },
        routing: {
          offer: {
            seq,
            agentIds: [event.to],
            policy: 'ring-all',
            tier: 'consult',
            expiresAt: event.at + context.limits.ringTimeoutMs,
          },
          offeredAgents: union(context.routing.offeredAgents, [event.to]),
        },
      };
    }),
    fx(({ context }: Args): Effect[] => {
      const c = context.live.consult!;
      return [
        { type: 'agents.offer', agentIds: [c.with], deadlineAt: context.routing.offer!.expiresAt! },
        timer('consult-ring', context.limits.ringTimeoutMs, c.ringToken),
        { type: 'media.route', nodeId: context.mediaNodeId!, routes: consultRoutes(context, c.from, c.with, false) },
        playHoldMusic(context, `consult-${c.seq}`),
        { type: 'agents.transferStatus', agentId: c.from, status: 'ringing', targets: [c.with] },
      ];
    }),
  ],
};

/** Back to A with the caller; B (ringing or on) leaves. */
const backToFirst = (why: 'expired' | 'declined' | 'cancelled') => ({
  target: 'live' as const,
  actions: [
    fx(({ context }: Args): Effect[] => {
      const c = context.live.consult!;
      return [
        ...(c.connected
          ? [
              { type: 'agents.leave' as const, agentId: c.with, reason: 'consult-ended' },
              { type: 'media.closeLeg' as const, nodeId: context.mediaNodeId!, legId: agentLeg(c.with) },
            ]
          : [cancel('consult-ring', c.ringToken), ...withdraw([c.with], why === 'cancelled' ? 'ended' : why)]),
        { type: 'media.route', nodeId: context.mediaNodeId!, routes: routesFor(c.from, context.live.monitors) },
        { type: 'media.stopPlay', nodeId: context.mediaNodeId! },
        { type: 'agents.transferStatus', agentId: c.from, status: 'returned', targets: [] },
      ];
    }),
    assignOn(() => ({ live: { consult: undefined }, routing: { offer: undefined } })),
  ],
});

/** B has the caller; A leaves. */
const complete = {
  target: 'live' as const,
  actions: [
    fx(({ context }: Args): Effect[] => {
      const c = context.live.consult!;
      return [
        { type: 'agents.handover', from: c.from, to: c.with, target: { agentId: c.with } },
        { type: 'media.route', nodeId: context.mediaNodeId!, routes: routesFor(c.with, context.live.monitors) },
        { type: 'media.stopPlay', nodeId: context.mediaNodeId! },
        { type: 'media.closeLeg', nodeId: context.mediaNodeId!, legId: agentLeg(c.from) },
      ];
    }),
    assignOn(({ context }) => ({
      agentId: context.live.consult!.with,
      live: { consult: undefined, handledBy: union(context.live.handledBy ?? [], [context.live.consult!.with]) },
      // B's leg has been up since the consultation started.
      bridge: { agentConnected: true, agentLegDown: false, agentLeft: false },
    })),
  ],
};

const byFrom = ({ context, event }: Args) => 'agentId' in event && event.agentId === context.live.consult?.from;
const byWith = ({ context, event }: Args) => 'agentId' in event && event.agentId === context.live.consult?.with;
const connected = ({ context }: Args) => !!context.live.consult?.connected;

export const consultingState = {
  on: {
    'AGENT.ACCEPT': {
      guard: (a: Args) => byWith(a) && !connected(a),
      actions: [
        fx(({ context }: Args): Effect[] => {
          const c = context.live.consult!;
          return [
            cancel('consult-ring', c.ringToken),
            { type: 'agents.live', agentId: c.with },
            {
              type: 'media.route',
              nodeId: context.mediaNodeId!,
              routes: consultRoutes(context, c.from, c.with, true),
            },
          ];
        }),
        assignOn(({ context }) => ({
          live: { consult: { ...context.live.consult!, connected: true } },
          routing: { offer: undefined },
        })),
      ],
    },
    'AGENT.CONSULT_COMPLETE': { guard: (a: Args) => byFrom(a) && connected(a), ...complete },
    'AGENT.CONSULT_CANCEL': { guard: byFrom, ...backToFirst('cancelled') },
    'AGENT.DECLINE': { guard: (a: Args) => byWith(a) && !connected(a), ...backToFirst('declined') },
    'AGENT.HANGUP': [
      { guard: (a: Args) => byWith(a) && connected(a), ...backToFirst('cancelled') },
      { guard: (a: Args) => byFrom(a) && connected(a), ...complete },
    ],
    'TIMER.FIRED': [
      {
        guard: ({ context, event }: Args) =>
          isTimer(event, 'consult-ring') &&
          event.type === 'TIMER.FIRED' &&
          event.token === context.live.consult?.ringToken &&
          !context.live.consult.connected,
        ...backToFirst('expired'),
      },
      maxDurationFired,
    ],
    'TIMER.SWEEP': maxDurationSwept,
  },
};

/**
 * Blind transfer, as transition fragments for the call machine (pure; effects as data). From `live` the bridged
 * agent sends AGENT.TRANSFER with the agents to offer; the call goes to `transferring`, the caller hears the hold
 * music while the targets ring for the ring timeout, and:
 * - a target accepts: they are the call's agent now (same media node, same WhatsApp leg: Meta hears nothing), the
 *   first agent leaves (`call:ended` reason `transferred`, free at once: the wrap-up belongs to who finishes it);
 * - nobody answers (or every target declines): back to the first agent if they are still on the call; if they
 *   left, the team's available agents are offered it through routing, round after round, until someone takes it
 *   or the call ends (the call's max-duration timer still runs).
 * The first agent may hang up while it rings: they leave, and the transfer goes on.
 */
import type { Effect } from './call.effects.js';
import { routesFor } from './call.monitor.js';
import {
  type Args,
  type ArgsOf,
  agentLeg,
  assignOn,
  cancel,
  isTimer,
  maxDurationFired,
  maxDurationSwept,
  offerWithout,
  playHoldMusic,
  timer,
  union,
  withdraw,
} from './call.transitions.js';
import type { CallContext, CallOffer, CallTransfer } from './call.types.js';

/**
 * MEDIA.AGENT_CONNECTED / AGENT_LEG_DOWN speak of the leg of the agent who first answered; any other agent's leg
 * reports MEDIA.LEG_CONNECTED / LEG_DOWN with its leg id.
 */
export const isFirstAgent = (ctx: CallContext, agentId = ctx.agentId) =>
  !ctx.live.handledBy || ctx.live.handledBy[0] === agentId;

const offerOf = (ctx: CallContext, seq: number, agentIds: string[], at: number): CallOffer => ({
  seq,
  agentIds,
  policy: 'ring-all',
  tier: 'transfer',
  expiresAt: at + ctx.limits.ringTimeoutMs,
});

const ringTimer = (ctx: CallContext, token: string) => timer('transfer-ring', ctx.limits.ringTimeoutMs, token);

/** `live` → `transferring` on AGENT.TRANSFER from the bridged agent, with targets that do not include them. */
export const startTransfer = {
  guard: ({ context, event }: ArgsOf<'AGENT.TRANSFER'>) =>
    event.agentId === context.agentId &&
    event.targets.length > 0 &&
    !event.targets.includes(event.agentId) &&
    context.mediaNodeId !== undefined,
  target: 'transferring' as const,
  actions: [
    assignOn<'AGENT.TRANSFER'>(({ context, event }) => {
      const seq = (context.live.transfers ?? 0) + 1;
      const transfer: CallTransfer = {
        seq,
        kind: 'blind',
        from: event.agentId,
        to: event.to,
        team: event.team,
        startedAt: event.at,
        fromGone: false,
        ringToken: `t${seq}`,
      };
      return {
        live: { transfer, transfers: seq, handledBy: context.live.handledBy ?? [event.agentId] },
        routing: {
          offer: offerOf(context, seq, event.targets, event.at),
          offeredAgents: union(context.routing.offeredAgents, event.targets),
        },
      };
    }),
    {
      type: 'effect' as const,
      params: ({ context }: Args): Effect[] => {
        const offer = context.routing.offer!;
        const t = context.live.transfer!;
        return [
          { type: 'agents.offer', agentIds: offer.agentIds, deadlineAt: offer.expiresAt! },
          ringTimer(context, t.ringToken),
          { type: 'agents.transferStatus', agentId: t.from, status: 'ringing', targets: offer.agentIds },
          // The caller waits with music while the target rings; the first agent still hears them.
          {
            type: 'media.route',
            nodeId: context.mediaNodeId!,
            routes: { ...routesFor(t.from, context.live.monitors), caller: ['player'] },
          },
          playHoldMusic(context, `transfer-${t.seq}`),
        ];
      },
    },
  ],
};

/** A target accepted: they take over the call. */
const takeOver = {
  guard: ({ context, event }: ArgsOf<'AGENT.ACCEPT'>) => !!context.routing.offer?.agentIds.includes(event.agentId),
  target: 'live' as const,
  actions: [
    {
      type: 'effect' as const,
      params: ({ context, event }: ArgsOf<'AGENT.ACCEPT'>): Effect[] => {
        const t = context.live.transfer!;
        const others = context.routing.offer!.agentIds.filter((a) => a !== event.agentId);
        return [
          cancel('transfer-ring', t.ringToken),
          ...withdraw(others, 'ended'),
          { type: 'agents.handover', from: t.from, to: event.agentId, target: t.to },
          {
            type: 'media.route',
            nodeId: context.mediaNodeId!,
            routes: routesFor(event.agentId, context.live.monitors),
          },
          { type: 'media.stopPlay', nodeId: context.mediaNodeId! },
          { type: 'media.closeLeg', nodeId: context.mediaNodeId!, legId: agentLeg(t.from) },
          { type: 'agents.live', agentId: event.agentId },
        ];
      },
    },
    assignOn<'AGENT.ACCEPT'>(({ context, event }) => ({
      agentId: event.agentId,
      routing: { offer: undefined },
      live: { transfer: undefined, handledBy: union(context.live.handledBy ?? [], [event.agentId]) },
      // The new agent's leg is still to come; the old one's state says nothing about it.
      bridge: { agentConnected: false, agentLegDown: false, agentLeft: false },
    })),
  ],
};

/** The first agent is still on the call (did not hang up, their leg is up). */
const fromStillThere = ({ context }: Args) => !context.live.transfer?.fromGone && !context.bridge.agentLegDown;

/** Nobody took it: back to the first agent, or (they left) to the team's agents through routing. */
const ringOut = (guard: (a: Args) => boolean, reason: 'expired' | 'declined') => [
  {
    guard: (a: Args) => guard(a) && fromStillThere(a),
    target: 'live' as const,
    actions: [
      {
        type: 'effect' as const,
        params: ({ context }: Args): Effect[] => {
          const t = context.live.transfer!;
          return [
            cancel('transfer-ring', t.ringToken),
            ...withdraw(context.routing.offer?.agentIds ?? [], reason),
            { type: 'agents.transferStatus', agentId: t.from, status: 'returned', targets: [] },
            { type: 'media.route', nodeId: context.mediaNodeId!, routes: routesFor(t.from, context.live.monitors) },
            { type: 'media.stopPlay', nodeId: context.mediaNodeId! },
          ];
        },
      },
      assignOn(() => ({ live: { transfer: undefined }, routing: { offer: undefined } })),
    ],
  },
  {
    guard,
    actions: [
      {
        type: 'effect' as const,
        params: ({ context }: Args): Effect[] => [
          cancel('transfer-ring', context.live.transfer!.ringToken),
          ...withdraw(context.routing.offer?.agentIds ?? [], reason),
          { type: 'routing.request', seq: context.routing.seq + 1 },
        ],
      },
      assignOn(({ context }) => ({ routing: { seq: context.routing.seq + 1, offer: undefined } })),
    ],
  },
];

const ringTimerFired = ({ context, event }: Args) =>
  isTimer(event, 'transfer-ring') && event.type === 'TIMER.FIRED' && event.token === context.live.transfer?.ringToken;

const isLastTarget = ({ context, event }: Args) =>
  event.type === 'AGENT.DECLINE' &&
  !!context.routing.offer?.agentIds.includes(event.agentId) &&
  context.routing.offer.agentIds.every((a) => a === event.agentId);

/** The first agent leaves while it rings (hang-up or closed tab): the transfer goes on without them. */
const fromLeaves = {
  guard: ({ context, event }: Args) =>
    'agentId' in event && event.agentId === context.live.transfer?.from && !context.live.transfer.fromGone,
  actions: [
    {
      type: 'effect' as const,
      params: ({ context }: Args): Effect => ({ type: 'agents.leave', agentId: context.live.transfer!.from }),
    },
    assignOn(({ context }) => ({ live: { transfer: { ...context.live.transfer!, fromGone: true } } })),
  ],
};

export const transferringState = {
  on: {
    'AGENT.ACCEPT': takeOver,
    'AGENT.DECLINE': [
      ...ringOut(isLastTarget, 'declined').map((t) => ({
        ...t,
        actions: [
          assignOn<'AGENT.DECLINE'>(({ context, event }) => ({
            routing: { declined: union(context.routing.declined, [event.agentId]) },
          })),
          ...t.actions,
        ],
      })),
      {
        guard: ({ context, event }: ArgsOf<'AGENT.DECLINE'>) =>
          !!context.routing.offer?.agentIds.includes(event.agentId),
        actions: [
          assignOn<'AGENT.DECLINE'>(({ context, event }) => ({
            routing: {
              declined: union(context.routing.declined, [event.agentId]),
              offer: offerWithout(context, event.agentId),
            },
          })),
          {
            type: 'effect' as const,
            params: ({ event }: ArgsOf<'AGENT.DECLINE'>) => withdraw([event.agentId], 'declined'),
          },
        ],
      },
    ],
    'AGENT.HANGUP': fromLeaves,
    'AGENT.LEFT': fromLeaves,
    'MEDIA.AGENT_LEG_DOWN': {
      guard: ({ context }: Args) => isFirstAgent(context, context.live.transfer?.from),
      actions: assignOn(() => ({ bridge: { agentLegDown: true } })),
    },
    'MEDIA.LEG_DOWN': {
      guard: ({ context, event }: Args) =>
        event.type === 'MEDIA.LEG_DOWN' && event.legId === agentLeg(context.live.transfer?.from ?? ''),
      actions: assignOn(() => ({ bridge: { agentLegDown: true } })),
    },
    'ROUTING.OFFER': {
      guard: ({ context, event }: ArgsOf<'ROUTING.OFFER'>) =>
        event.seq === context.routing.seq && !context.routing.offer,
      actions: [
        assignOn<'ROUTING.OFFER'>(({ context, event }) => ({
          routing: {
            offer: offerOf(context, event.seq, event.agentIds, event.at),
            offeredAgents: union(context.routing.offeredAgents, event.agentIds),
          },
          live: { transfer: { ...context.live.transfer!, ringToken: `r${event.seq}` } },
        })),
        {
          type: 'effect' as const,
          params: ({ context }: Args): Effect[] => [
            {
              type: 'agents.offer',
              agentIds: context.routing.offer!.agentIds,
              deadlineAt: context.routing.offer!.expiresAt!,
            },
            ringTimer(context, context.live.transfer!.ringToken),
          ],
        },
      ],
    },
    'ROUTING.NO_AGENTS': {
      guard: ({ context, event }: ArgsOf<'ROUTING.NO_AGENTS'>) => event.seq === context.routing.seq,
      actions: {
        type: 'effect' as const,
        params: ({ event }: ArgsOf<'ROUTING.NO_AGENTS'>) => timer('reroute', 5000, event.seq),
      },
    },
    'TIMER.SWEEP': maxDurationSwept,
    'TIMER.FIRED': [
      ...ringOut(ringTimerFired, 'expired'),
      {
        guard: ({ context, event }: Args) =>
          isTimer(event, 'reroute') && event.type === 'TIMER.FIRED' && event.token === String(context.routing.seq),
        actions: [
          assignOn(({ context }) => ({ routing: { seq: context.routing.seq + 1 } })),

          {
            type: 'effect' as const,
            params: ({ context }: Args): Effect => ({ type: 'routing.request', seq: context.routing.seq }),
          },
        ],
      },
      maxDurationFired,
    ],
  },
};

/**
 * `on-hold`: the caller hears music and the agent's microphone is not forwarded; Meta never learns of it. A hold
 * longer than the limit alerts the agent, again after every further limit.
 */

import { leg, talking } from './call.business.js';
import { holdToken } from './call.timers.js';
import { isFirstAgent } from './call.transfer.js';
import {
  type Args,
  agentBack,
  agentLeft,
  agentLeg,
  cancel,
  endWith,
  fx,
  graceOver,
  isTimer,
  maxDurationFired,
  maxDurationSwept,
  playHoldMusic,
  set,
  timer,
} from './call.transitions.js';
import type { CallContext, Ev } from './call.types.js';

// ---------------------------------------------------------------------------------------------------------------
// on-hold: the caller hears music and the agent's microphone is not forwarded; Meta never learns of it.

export const holdTransition = {
  guard: (a: Args) => (a.event as { agentId: string }).agentId === a.context.agentId,
  target: 'on-hold' as const,
  actions: [
    set(({ context, event }) => ({
      live: { hold: { totalMs: context.live.hold.totalMs, since: event.at, seq: context.live.hold.seq + 1 } },
    })),
    fx(({ context }) => {
      const nodeId = context.mediaNodeId!;
      return [
        { type: 'media.route', nodeId, routes: { caller: ['player'], [leg(context)]: ['caller'] } },
        playHoldMusic(context, 'hold'),
        timer('hold-alert', context.limits.holdAlertMs, holdToken(context)),
      ];
    }),
  ],
};

export const resumeTransition = {
  guard: (a: Args) => (a.event as { agentId: string }).agentId === a.context.agentId,
  target: 'live' as const,
  actions: [
    fx(({ context }) => [
      cancel('hold-alert', holdToken(context)),
      { type: 'media.route', nodeId: context.mediaNodeId!, routes: talking(context) },
      { type: 'media.stopPlay', nodeId: context.mediaNodeId! },
    ]),
    set(({ context, event }) => {
      const hold = context.live.hold;
      return { live: { hold: { ...hold, since: undefined, totalMs: hold.totalMs + (event.at - hold.since!) } } };
    }),
  ],
};

/** Still on hold after the limit: the agent is alerted, and again after every further limit. */
export const holdAlert = {
  guard: ({ context, event }: Args) =>
    isTimer(event, 'hold-alert') && (event as Ev<'TIMER.FIRED'>).token.split('.')[0] === holdToken(context),
  actions: fx(({ context, event }) => {
    const n = Number((event as Ev<'TIMER.FIRED'>).token.split('.')[1] ?? 0) + 1;
    return [
      { type: 'agents.holdAlert', agentId: context.agentId!, heldMs: event.at - context.live.hold.since! },
      // A new token: a job id that already ran is never added again.
      timer('hold-alert', context.limits.holdAlertMs, `${holdToken(context)}.${n}`),
    ];
  }),
};

export const isAgentLeg = (ctx: CallContext, legId: string) =>
  ctx.agentId !== undefined && legId === agentLeg(ctx.agentId);

const legDown = {
  actions: [
    set(({ context }) => ({ bridge: { agentLegDown: true, graceSeq: context.bridge.graceSeq + 1 } })),
    {
      type: 'effect' as const,
      params: ({ context }: Args) => timer('agent-grace', context.limits.agentGraceMs, context.bridge.graceSeq),
    },
  ],
};

/** What a call with an agent on it takes, live or on hold. */
export const onCall = {
  'MEDIA.LEG_DOWN': {
    guard: ({ context, event }: Args) =>
      !context.bridge.agentLegDown && isAgentLeg(context, (event as Ev<'MEDIA.LEG_DOWN'>).legId),
    ...legDown,
  },
  'AGENT.HANGUP': {
    guard: 'isBridgedAgent' as const,
    target: 'ended' as const,
    actions: endWith({ reason: 'completed', endedBy: 'agent', graph: 'terminate' }),
  },
  // After a transfer the first agent's leg events (MEDIA.AGENT_*) no longer speak of the call's agent.
  'MEDIA.AGENT_LEG_DOWN': {
    guard: ({ context }: Args) => !context.bridge.agentLegDown && isFirstAgent(context),
    ...legDown,
  },
  'AGENT.LEFT': agentLeft,
  'MEDIA.LEG_CONNECTED': {
    guard: ({ context, event }: Args) => isAgentLeg(context, (event as Ev<'MEDIA.LEG_CONNECTED'>).legId),
    actions: agentBack,
  },
  'MEDIA.AGENT_CONNECTED': { actions: agentBack },
  'TIMER.FIRED': [
    {
      // The agent closed their tab and did not come back: they hung up.
      guard: (a: Args) => graceOver(a) && a.context.bridge.agentLeft,
      target: 'ended' as const,
      actions: endWith({ reason: 'completed', endedBy: 'agent', graph: 'terminate' }),
    },
    {
      guard: graceOver,
      target: 'ended' as const,
      actions: endWith({ reason: 'agent-disconnected', endedBy: 'system', graph: 'terminate' }),
    },
    maxDurationFired,
  ],
  'TIMER.SWEEP': maxDurationSwept,
};

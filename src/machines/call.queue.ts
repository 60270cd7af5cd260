import {
  acceptOnce,
  answerDeadline,
  answered,
  answering,
  answerSweep,
  flowOf,
  goodbye,
  hearPlayer,
  isAcceptDone,
  isBusiness,
  leavingTransitions,
  leg,
  music,
  node,
  promptThenMusic,
  talking,
} from './call.business.js';
import type { Effect } from './call.effects.js';
import { ANSWER_TOKEN, agentAcceptToken, maxWaitToken } from './call.timers.js';
import {
  type Args,
  acceptDeadlineTransitions,
  cancel,
  fx,
  graceOver,
  isTimer,
  offerWithout,
  set,
  timer,
  union,
  withdraw,
} from './call.transitions.js';
import type { CallContext, Ev } from './call.types.js';

// ---------------------------------------------------------------------------------------------------------------
// queued

const waiting = (a: Args) => answered(a) && !a.context.leaving;
const nextRouting = [
  set(({ context }) => ({ routingSeq: context.routingSeq + 1, offer: undefined })),
  fx(({ context }) => ({ type: 'routing.request', seq: context.routingSeq })),
];
/** What a waiting caller hears: the announcement cycle starts with the music. */
const startWaiting = (ctx: CallContext): Effect[] => [
  music(ctx),
  timer('announce', flowOf(ctx).queue.announceEveryMs, ctx.queue!.announceSeq),
];

const isMaxWait = (a: Args) =>
  !a.context.leaving &&
  isTimer(a.event, 'max-wait') &&
  (a.event as Ev<'TIMER.FIRED'>).token === maxWaitToken(a.context);

/**
 * A routing offer for a waiting call (a queued caller, or a callback task): ring the agents, and always expire the
 * offer, so an agent who does not answer does not hold the queue. `firstOffer` records when the call was first
 * offered (a caller's speed of answer counts from it).
 */
export const queueOfferActions = (firstOffer: boolean) => [
  set(({ context, event }) => {
    const e = event as Ev<'ROUTING.OFFER'>;
    return {
      offer: {
        seq: e.seq,
        agentIds: e.agentIds,
        policy: e.policy,
        tier: e.tier,
        expiresAt: e.at + (e.ringTimeoutMs ?? context.ringTimeoutMs),
      },
      ...(firstOffer ? { offeredAt: context.offeredAt ?? e.at } : {}),
      offeredAgents: union(context.offeredAgents, e.agentIds),
      tried: [...(e.resetTried ? [] : context.tried), ...e.agentIds],
    };
  }),
  fx(({ context, event }) => {
    const offer = context.offer!;
    return [
      { type: 'agents.offer', agentIds: offer.agentIds, deadlineAt: offer.expiresAt! },
      timer('ring-expired', offer.expiresAt! - event.at, offer.seq),
    ];
  }),
];

export const queuedState = {
  entry: [
    set(({ context }) => ({ routingSeq: context.routingSeq + 1, offer: undefined })),
    fx(({ context, event }) => {
      const q = context.queue!;
      const maxWaitMs = flowOf(context).queue.maxWaitMs;
      const overflowing = isTimer(event, 'max-wait');
      // Entered at creation, the event is XState's init, which carries no time: the call's own creation time.
      const now = typeof event.at === 'number' ? event.at : context.createdAt;
      const started = context.answeredAt !== undefined;
      return [
        { type: 'queue.enter', teams: q.teams, priority: q.priority, enteredAt: q.enteredAt },
        { type: 'queue.join' },
        timer('max-wait', q.overflowed ? maxWaitMs : q.enteredAt + maxWaitMs - now, maxWaitToken(context)),
        // Agents are looked for once the business has answered (the agent must find the caller there).
        ...(started ? [{ type: 'routing.request', seq: context.routingSeq } as Effect] : []),
        // From the menu, or back from an agent who never connected: music and announcements (again).
        ...(started && !overflowing ? startWaiting(context) : []),
      ];
    }),
  ],
  always: acceptOnce,
  on: {
    ...answering,
    'GRAPH.DONE': {
      guard: isAcceptDone,
      actions: [
        set(({ event }) => ({ answeredAt: event.at })),
        fx(({ context }) => [
          cancel('accept-deadline', ANSWER_TOKEN),
          hearPlayer(context),
          ...(flowOf(context).greeting.length
            ? [
                promptThenMusic(context, 'greeting', flowOf(context).greeting),
                timer('announce', flowOf(context).queue.announceEveryMs, context.queue!.announceSeq),
              ]
            : startWaiting(context)),
        ]),
        ...nextRouting,
      ],
    },
    // After the greeting or an announcement the media node is already back on the music (promptThenMusic).
    'MEDIA.PLAY_ENDED': leavingTransitions['MEDIA.PLAY_ENDED'],
    'ROUTING.OFFER': {
      guard: (a: Args) =>
        waiting(a) && !a.context.offer && (a.event as Ev<'ROUTING.OFFER'>).seq === a.context.routingSeq,
      actions: queueOfferActions(true),
    },
    'ROUTING.NO_AGENTS': {
      // Agents becoming free send CALL.REROUTE; this timer is the safety net.
      guard: (a: Args) => waiting(a) && (a.event as Ev<'ROUTING.NO_AGENTS'>).seq === a.context.routingSeq,
      actions: fx(({ event }) => timer('reroute', 5000, (event as Ev<'ROUTING.NO_AGENTS'>).seq)),
    },
    'CALL.REROUTE': { guard: (a: Args) => waiting(a) && !a.context.offer, actions: nextRouting },
    'AGENT.ACCEPT': {
      guard: (a: Args) => waiting(a) && !!a.context.offer?.agentIds.includes((a.event as Ev<'AGENT.ACCEPT'>).agentId),
      target: 'bridging' as const,
      actions: [
        fx(({ context, event }) => {
          const q = context.queue!;
          return [
            ...withdraw(context.offer!.agentIds, 'taken', (event as Ev<'AGENT.ACCEPT'>).agentId),
            cancel('ring-expired', context.offer!.seq),
            cancel('max-wait', maxWaitToken(context)),
            cancel('announce', q.announceSeq),
            { type: 'queue.exit', teams: q.teams },
            { type: 'queue.leave' },
            timer('accept-deadline', context.acceptDeadlineMs, agentAcceptToken(context)),
            // Ring-all: the others who rang are free for the next caller.
            ...(context.offer!.agentIds.length > 1 ? [{ type: 'queue.pump' } as Effect] : []),
          ];
        }),
        set(({ context, event }) => ({
          agentId: (event as Ev<'AGENT.ACCEPT'>).agentId,
          offer: undefined,
          acceptedAt: event.at,
          acceptDeadlineAt: event.at + context.acceptDeadlineMs,
          agentConnected: false,
          agentLegDown: false,
          agentLeft: false,
        })),
      ],
    },
    'AGENT.DECLINE': offerEnds('declined', true),
    'AGENT.UNAVAILABLE': offerEnds('unavailable', false),
    'TIMER.FIRED': [
      ...acceptDeadlineTransitions(answerDeadline),
      leavingTransitions.timer,
      {
        guard: (a: Args) =>
          waiting(a) &&
          isTimer(a.event, 'ring-expired') &&
          (a.event as Ev<'TIMER.FIRED'>).token === String(a.context.offer?.seq),
        actions: [fx(({ context }) => withdraw(context.offer?.agentIds ?? [], 'expired')), ...nextRouting],
      },
      {
        guard: (a: Args) =>
          waiting(a) &&
          !a.context.offer &&
          isTimer(a.event, 'reroute') &&
          (a.event as Ev<'TIMER.FIRED'>).token === String(a.context.routingSeq),
        actions: nextRouting,
      },
      {
        guard: (a: Args) =>
          waiting(a) &&
          isTimer(a.event, 'announce') &&
          (a.event as Ev<'TIMER.FIRED'>).token === String(a.context.queue!.announceSeq),
        actions: [
          fx(({ context }) => [
            {
              type: 'queue.announce',
              nodeId: node(context),
              playId: `announce.${context.queue!.announceSeq}`,
              teams: context.queue!.teams,
              // The media node goes back to the music itself when the announcement ends.
              thenLoop: [flowOf(context).queue.music],
            },
            timer('announce', flowOf(context).queue.announceEveryMs, context.queue!.announceSeq + 1),
          ]),
          set(({ context }) => ({ queue: { ...context.queue!, announceSeq: context.queue!.announceSeq + 1 } })),
        ],
      },
      {
        // Waited `maxWaitSeconds`: the overflow teams' queues, with the same place in line (entry time kept).
        guard: (a: Args) => isMaxWait(a) && 'teams' in flowOf(a.context).queue.overflow && !a.context.queue!.overflowed,
        target: 'queued' as const,
        reenter: true,
        actions: [
          fx(({ context }) => [
            ...withdraw(context.offer?.agentIds ?? [], 'expired'),
            { type: 'queue.exit', teams: context.queue!.teams },
          ]),
          set(({ context }) => {
            const overflow = flowOf(context).queue.overflow as { teams: string[] };
            return { queue: { ...context.queue!, teams: overflow.teams, overflowed: true }, offer: undefined };
          }),
        ],
      },
      {
        guard: isMaxWait,
        actions: [
          fx(({ context }) => [
            ...withdraw(context.offer?.agentIds ?? [], 'expired'),
            ...(context.offer ? [cancel('ring-expired', context.offer.seq), { type: 'queue.pump' } as Effect] : []),
            cancel('announce', context.queue!.announceSeq),
            { type: 'queue.exit', teams: context.queue!.teams },
            { type: 'queue.leave' },
          ]),
          set(() => ({ offer: undefined })),
          ...goodbye('queue-timeout', () => ['all-agents-busy', 'goodbye']),
        ],
      },
    ],
    'TIMER.SWEEP': acceptDeadlineTransitions(answerSweep),
  },
};

/** An offered agent declined or went away: the offer shrinks, and when nobody is left the queue looks again. */
function offerEnds(reason: 'declined' | 'unavailable', remember: boolean) {
  const isOffered = (a: Args) =>
    waiting(a) && !!a.context.offer?.agentIds.includes((a.event as { agentId: string }).agentId);
  const agentOf = (a: Args) => (a.event as { agentId: string }).agentId;
  const note = [
    fx((a) => withdraw([agentOf(a)], reason)),
    set((a) => (remember ? { declined: [...a.context.declined, agentOf(a)] } : {})),
  ];
  return [
    {
      guard: (a: Args) => isOffered(a) && a.context.offer!.agentIds.length === 1,
      actions: [...note, fx(({ context }) => cancel('ring-expired', context.offer!.seq)), ...nextRouting],
    },
    {
      guard: isOffered,
      actions: [...note, set((a) => ({ offer: offerWithout(a.context, agentOf(a)) }))],
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// bridging, for an agent taken from the queue: the bridge exists and Meta has accepted; their leg joins it.

/** The agent's leg is up: the caller moves from the player to the agent (one table change, no gap). */
export const businessLive = {
  guard: (a: Args) => isBusiness(a) && a.context.agentConnected && !a.context.agentLegDown,
  target: 'live' as const,
  actions: [
    set(({ context, event }) => ({
      liveAt: event.at,
      maxEndAt: event.at + context.maxCallMs,
      queue: { ...context.queue!, leftAt: event.at },
    })),
    fx(({ context }) => [
      cancel('accept-deadline', agentAcceptToken(context)),
      { type: 'media.route', nodeId: node(context), routes: talking(context) },
      { type: 'media.stopPlay', nodeId: node(context) },
      { type: 'agents.live', agentId: context.agentId! },
      timer('max-duration', context.maxCallMs, '1'),
    ]),
  ],
};

/** The agent who accepted never connected (or gave up): the caller goes back to the queue, in the same place. */
const requeue = {
  target: 'queued' as const,
  actions: [
    fx(({ context }) => [
      cancel('accept-deadline', agentAcceptToken(context)),
      { type: 'media.closeLeg', nodeId: node(context), legId: leg(context) },
      { type: 'agents.ended', agentIds: [context.agentId!], reason: 'agent-disconnected' },
      { type: 'agents.release', agentId: context.agentId! },
    ]),
    set(({ context }) => ({
      declined: union(context.declined, [context.agentId!]),
      agentId: undefined,
      acceptedAt: undefined,
      acceptDeadlineAt: undefined,
      agentConnected: false,
      agentLegDown: false,
      agentLeft: false,
    })),
  ],
};

/** Transitions placed first in `bridging`'s lists, so a business call never takes the agent flow's path. */
export const businessBridging = {
  hangup: {
    guard: (a: Args) => isBusiness(a) && (a.event as { agentId: string }).agentId === a.context.agentId,
    ...requeue,
  },
  timer: [
    {
      guard: (a: Args) =>
        isBusiness(a) &&
        isTimer(a.event, 'accept-deadline') &&
        (a.event as Ev<'TIMER.FIRED'>).token === agentAcceptToken(a.context),
      ...requeue,
    },
    { guard: (a: Args) => isBusiness(a) && graceOver(a), ...requeue },
  ],
  sweep: {
    guard: (a: Args) =>
      isBusiness(a) && a.context.acceptDeadlineAt !== undefined && a.event.at >= a.context.acceptDeadlineAt,
    ...requeue,
  },
};

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

const waiting = (a: Args) => answered(a) && !a.context.outcome.leaving;
const nextRouting = [
  set(({ context }) => ({ routing: { seq: context.routing.seq + 1, offer: undefined } })),
  fx(({ context }) => ({ type: 'routing.request', seq: context.routing.seq })),
];
/** What a waiting caller hears: the announcement cycle starts with the music. */
const startWaiting = (ctx: CallContext): Effect[] => [
  music(ctx),
  timer('announce', flowOf(ctx).queue.announceEveryMs, ctx.queue!.announceSeq),
];

const isMaxWait = (a: Args) =>
  !a.context.outcome.leaving &&
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
      routing: {
        offer: {
          seq: e.seq,
          agentIds: e.agentIds,
          policy: e.policy,
          tier: e.tier,
          expiresAt: e.at + (e.ringTimeoutMs ?? context.limits.ringTimeoutMs),
        },
        offeredAgents: union(context.routing.offeredAgents, e.agentIds),
        tried: [...(e.resetTried ? [] : context.routing.tried), ...e.agentIds],
      },
      ...(firstOffer ? { times: { offeredAt: context.times.offeredAt ?? e.at } } : {}),
    };
  }),
  fx(({ context, event }) => {
    const offer = context.routing.offer!;
    return [
      { type: 'agents.offer', agentIds: offer.agentIds, deadlineAt: offer.expiresAt! },
      timer('ring-expired', offer.expiresAt! - event.at, offer.seq),
    ];
  }),
];

export const queuedState = {
  entry: [
    set(({ context }) => ({ routing: { seq: context.routing.seq + 1, offer: undefined } })),
    fx(({ context, event }) => {
      const q = context.queue!;
      const maxWaitMs = flowOf(context).queue.maxWaitMs;
      const overflowing = isTimer(event, 'max-wait');
      // Entered at creation, the event is XState's init, which carries no time: the call's own creation time.
      const now = typeof event.at === 'number' ? event.at : context.times.createdAt;
      const started = context.times.answeredAt !== undefined;
      return [
        { type: 'queue.enter', teams: q.teams, priority: q.priority, enteredAt: q.enteredAt },
        { type: 'queue.join' },
        timer('max-wait', q.overflowed ? maxWaitMs : q.enteredAt + maxWaitMs - now, maxWaitToken(context)),
        // Agents are looked for once the business has answered (the agent must find the caller there).
        ...(started ? [{ type: 'routing.request', seq: context.routing.seq } as Effect] : []),
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
        set(({ event }) => ({ times: { answeredAt: event.at } })),
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
        waiting(a) && !a.context.routing.offer && (a.event as Ev<'ROUTING.OFFER'>).seq === a.context.routing.seq,
      actions: queueOfferActions(true),
    },
    'ROUTING.NO_AGENTS': {
      // Agents becoming free send CALL.REROUTE; this timer is the safety net.
      guard: (a: Args) => waiting(a) && (a.event as Ev<'ROUTING.NO_AGENTS'>).seq === a.context.routing.seq,
      actions: fx(({ event }) => timer('reroute', 5000, (event as Ev<'ROUTING.NO_AGENTS'>).seq)),
    },
    'CALL.REROUTE': { guard: (a: Args) => waiting(a) && !a.context.routing.offer, actions: nextRouting },
    'AGENT.ACCEPT': {
      guard: (a: Args) =>
        waiting(a) && !!a.context.routing.offer?.agentIds.includes((a.event as Ev<'AGENT.ACCEPT'>).agentId),
      target: 'bridging' as const,
      actions: [
        fx(({ context, event }) => {
          const q = context.queue!;
          return [
            ...withdraw(context.routing.offer!.agentIds, 'taken', (event as Ev<'AGENT.ACCEPT'>).agentId),
            cancel('ring-expired', context.routing.offer!.seq),
            cancel('max-wait', maxWaitToken(context)),
            cancel('announce', q.announceSeq),
            { type: 'queue.exit', teams: q.teams },
            { type: 'queue.leave' },
            timer('accept-deadline', context.limits.acceptDeadlineMs, agentAcceptToken(context)),
            // Ring-all: the others who rang are free for the next caller.
            ...(context.routing.offer!.agentIds.length > 1 ? [{ type: 'queue.pump' } as Effect] : []),
          ];
        }),
        set(({ context, event }) => ({
          agentId: (event as Ev<'AGENT.ACCEPT'>).agentId,
          routing: { offer: undefined },
          times: { acceptedAt: event.at, acceptDeadlineAt: event.at + context.limits.acceptDeadlineMs },
          bridge: { agentConnected: false, agentLegDown: false, agentLeft: false },
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
          (a.event as Ev<'TIMER.FIRED'>).token === String(a.context.routing.offer?.seq),
        actions: [fx(({ context }) => withdraw(context.routing.offer?.agentIds ?? [], 'expired')), ...nextRouting],
      },
      {
        guard: (a: Args) =>
          waiting(a) &&
          !a.context.routing.offer &&
          isTimer(a.event, 'reroute') &&
          (a.event as Ev<'TIMER.FIRED'>).token === String(a.context.routing.seq),
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
            ...withdraw(context.routing.offer?.agentIds ?? [], 'expired'),
            { type: 'queue.exit', teams: context.queue!.teams },
          ]),
          set(({ context }) => {
            const overflow = flowOf(context).queue.overflow as { teams: string[] };
            return {
              queue: { ...context.queue!, teams: overflow.teams, overflowed: true },
              routing: { offer: undefined },
            };
          }),
        ],
      },
      {
        guard: isMaxWait,
        actions: [
          fx(({ context }) => [
            ...withdraw(context.routing.offer?.agentIds ?? [], 'expired'),
            ...(context.routing.offer
              ? [cancel('ring-expired', context.routing.offer.seq), { type: 'queue.pump' } as Effect]
              : []),
            cancel('announce', context.queue!.announceSeq),
            { type: 'queue.exit', teams: context.queue!.teams },
            { type: 'queue.leave' },
          ]),
          set(() => ({ routing: { offer: undefined } })),
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
    waiting(a) && !!a.context.routing.offer?.agentIds.includes((a.event as { agentId: string }).agentId);
  const agentOf = (a: Args) => (a.event as { agentId: string }).agentId;
  const note = [
    fx((a) => withdraw([agentOf(a)], reason)),
    set((a) => (remember ? { routing: { declined: [...a.context.routing.declined, agentOf(a)] } } : {})),
  ];
  return [
    {
      guard: (a: Args) => isOffered(a) && a.context.routing.offer!.agentIds.length === 1,
      actions: [...note, fx(({ context }) => cancel('ring-expired', context.routing.offer!.seq)), ...nextRouting],
    },
    {
      guard: isOffered,
      actions: [...note, set((a) => ({ routing: { offer: offerWithout(a.context, agentOf(a)) } }))],
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// bridging, for an agent taken from the queue: the bridge exists and Meta has accepted; their leg joins it.

/** The agent's leg is up: the caller moves from the player to the agent (one table change, no gap). */
export const businessLive = {
  guard: (a: Args) => isBusiness(a) && a.context.bridge.agentConnected && !a.context.bridge.agentLegDown,
  target: 'live' as const,
  actions: [
    set(({ context, event }) => ({
      times: { liveAt: event.at, maxEndAt: event.at + context.limits.maxCallMs },
      queue: { ...context.queue!, leftAt: event.at },
    })),
    fx(({ context }) => [
      cancel('accept-deadline', agentAcceptToken(context)),
      { type: 'media.route', nodeId: node(context), routes: talking(context) },
      { type: 'media.stopPlay', nodeId: node(context) },
      { type: 'agents.live', agentId: context.agentId! },
      timer('max-duration', context.limits.maxCallMs, '1'),
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
      routing: { declined: union(context.routing.declined, [context.agentId!]) },
      agentId: undefined,
      times: { acceptedAt: undefined, acceptDeadlineAt: undefined },
      bridge: { agentConnected: false, agentLegDown: false, agentLeft: false },
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
      isBusiness(a) && a.context.times.acceptDeadlineAt !== undefined && a.event.at >= a.context.times.acceptDeadlineAt,
    ...requeue,
  },
};

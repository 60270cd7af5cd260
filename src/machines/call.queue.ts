/**
 * The business-answered call (`answer: "business"`): the states `ivr` and `queued`, the business side of
 * `bridging` (an agent taken from the queue joins a bridge that already exists), and `on-hold`. Pure: every
 * transition returns effects as data; the deadlines are timer effects.
 *
 * Meta gets one pre_accept and one accept for the whole call, sent as soon as the WhatsApp leg is answered and
 * connected; the caller then hears the greeting, the menu, the music and the announcements from the call's player,
 * and finally the agent, by a change of the media node's routing table (never a renegotiation).
 */
import { assign } from 'xstate';
import type { Effect } from './call.effects.js';
import { ANSWER_TOKEN, agentAcceptToken, holdToken, maxWaitToken } from './call.timers.js';
import {
  type Args,
  acceptDeadlineTransitions,
  cancel,
  endWith,
  graceOver,
  isTimer,
  offerWithout,
  timer,
  union,
  withdraw,
} from './call.transitions.js';
import type { BusinessFlow, CallContext, CallEvent, EndReason, Ev } from './call.types.js';

const set = (f: (a: Args) => Partial<CallContext>) =>
  assign<CallContext, CallEvent, undefined, CallEvent, never>((a) => f(a as Args));
const fx = (f: (a: Args) => Effect | Effect[]) => ({ type: 'effect' as const, params: f });

/** The goodbye prompt reports its end; if it does not, the call is terminated after this long. */
export const GOODBYE_DEADLINE_MS = 15_000;
/** A menu whose end is never reported still times out after this long (a prompt longer than this is cut short). */
export const PROMPT_DEADLINE_MS = 60_000;
export const agentLeg = (agentId: string) => `agent:${agentId}`;
const flowOf = (ctx: CallContext): BusinessFlow => ctx.flow!;
const node = (ctx: CallContext) => ctx.mediaNodeId!;
const play = (ctx: CallContext, playId: string, clips: string[], loop = false): Effect => ({
  type: 'media.play',
  nodeId: node(ctx),
  playId,
  clips,
  ...(loop ? { loop: true } : {}),
});
/** The caller hears the call's player (nothing is routed to them by a bridge made without an agent). */
const hearPlayer = (ctx: CallContext): Effect => ({
  type: 'media.route',
  nodeId: node(ctx),
  routes: { caller: ['player'] },
});
const music = (ctx: CallContext) => play(ctx, 'music', [flowOf(ctx).queue.music], true);

export const isBusiness = ({ context }: Args) => context.flow !== undefined;
const answered = ({ context }: Args) => context.answeredAt !== undefined;

/** What the root entry does for a business call: the bridge at once, with a deadline for Meta's accept. */
export function businessStartEffects(ctx: CallContext): Effect[] {
  return [
    { type: 'media.createBridge', nodeId: node(ctx) },
    { type: 'call.created' },
    timer('accept-deadline', ctx.acceptDeadlineMs, ANSWER_TOKEN),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Answering: pre_accept once our answer exists, accept once the WhatsApp leg is connected. Shared by ivr and queued.

const answering = {
  'MEDIA.WA_ANSWER': {
    guard: ({ context }: Args) => !context.answerReady,
    actions: [set(() => ({ answerReady: true })), fx(() => ({ type: 'graph.preAccept' }))],
  },
  'WA.BAD_OFFER': {
    target: 'ended' as const,
    actions: endWith(({ event }) => ({
      reason: 'media-failed',
      endedBy: 'system',
      graph: 'reject',
      detail: `unusable offer: ${(event as Ev<'WA.BAD_OFFER'>).reason}`.slice(0, 200),
    })),
  },
};

const answerDeadline = ({ context, event }: Args) =>
  context.answeredAt === undefined &&
  isTimer(event, 'accept-deadline') &&
  (event as Ev<'TIMER.FIRED'>).token === ANSWER_TOKEN;
const answerSweep = ({ context, event }: Args) =>
  context.answeredAt === undefined && event.at >= context.createdAt + context.acceptDeadlineMs;

/** Meta's accept, exactly once: pre_accept's 200 is in and the WhatsApp leg is connected. */
const acceptOnce = {
  guard: ({ context }: Args) =>
    !context.acceptRequested && context.preAcceptDone && context.waConnected && context.answerReady,
  actions: [set(() => ({ acceptRequested: true })), fx(() => ({ type: 'graph.accept' }))],
};

const isAcceptDone = ({ context, event }: Args) =>
  event.type === 'GRAPH.DONE' && event.action === 'accept' && context.answeredAt === undefined;

// ---------------------------------------------------------------------------------------------------------------
// Goodbye: a polite prompt, then terminate. Shared by ivr (no choice) and queued (waited too long).

function goodbye(reason: EndReason, clips: (ctx: CallContext) => string[]) {
  return [
    set(() => ({ leaving: reason })),
    fx(({ context }) => [play(context, 'goodbye', clips(context)), timer('goodbye', GOODBYE_DEADLINE_MS, '1')]),
  ];
}

const goodbyeOver = {
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: context.leaving!, endedBy: 'system', graph: 'terminate' })),
};
const leavingTransitions = {
  'MEDIA.PLAY_ENDED': {
    guard: ({ context, event }: Args) => !!context.leaving && (event as Ev<'MEDIA.PLAY_ENDED'>).playId === 'goodbye',
    ...goodbyeOver,
  },
  timer: { guard: ({ context, event }: Args) => !!context.leaving && isTimer(event, 'goodbye'), ...goodbyeOver },
};

// ---------------------------------------------------------------------------------------------------------------
// ivr

const menuPlayId = (attempt: number) => `ivr.${attempt}`;

/** Every key is kept on the call (`dtmf`), whatever the state does with it. */
const keepDigit = set(({ context, event }) => ({
  dtmf: (context.dtmf + (event as Ev<'MEDIA.DTMF'>).digit).slice(-64),
}));

const newQueue = (ctx: CallContext, teams: string[], at: number) => ({
  teams,
  priority: flowOf(ctx).queue.priority,
  enteredAt: at,
  leftAt: undefined,
  overflowed: false,
  announceSeq: 0,
});

/** The caller chose (or the default was taken): the choice is kept and the call joins that option's teams. */
function choose(digitOf: (a: Args) => string) {
  return [
    fx(({ context }) => [
      cancel('ivr-timeout', context.ivr.attempt),
      cancel('ivr-timeout', `${context.ivr.attempt}.s`),
    ]),
    set((a) => {
      const digit = digitOf(a);
      return {
        ivr: { ...a.context.ivr, choice: digit, choiceAt: a.event.at },
        queue: newQueue(a.context, flowOf(a.context).ivr!.options[digit]!, a.event.at),
      };
    }),
  ];
}

/** After a wrong key (`invalid-choice`) or no key (`no-choice`): the menu again, else the default, else goodbye. */
function nextMenuOrGiveUp(when: (a: Args) => boolean, lead: string, extra: ReturnType<typeof set>[]) {
  return [
    {
      guard: (a: Args) => when(a) && a.context.ivr.attempt <= (a.context.flow?.ivr?.retries ?? 0),
      actions: [
        ...extra,
        fx(({ context }) => [
          cancel('ivr-timeout', context.ivr.attempt),
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
          play(context, menuPlayId(context.ivr.attempt + 1), [lead, ...flowOf(context).ivr!.prompt]),
          timer('ivr-timeout', PROMPT_DEADLINE_MS, `${context.ivr.attempt + 1}.s`),
        ]),
        set(({ context }) => ({ ivr: { ...context.ivr, attempt: context.ivr.attempt + 1 } })),
      ],
    },
    {
      guard: (a: Args) => when(a) && a.context.flow?.ivr?.defaultDigit !== undefined,
      target: 'queued' as const,
      actions: [...extra, ...choose(({ context }) => context.flow!.ivr!.defaultDigit!)],
    },
    {
      guard: when,
      actions: [
        ...extra,
        fx(({ context }) => [
          cancel('ivr-timeout', context.ivr.attempt),
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
        ]),
        ...goodbye('no-choice', () => ['goodbye']),
      ],
    },
  ];
}

const inMenu = (a: Args) => answered(a) && !a.context.leaving && a.context.queue === undefined;
const isValidKey = (a: Args) => inMenu(a) && (a.event as Ev<'MEDIA.DTMF'>).digit in a.context.flow!.ivr!.options;
const isIvrTimer = (a: Args) =>
  inMenu(a) &&
  isTimer(a.event, 'ivr-timeout') &&
  [String(a.context.ivr.attempt), `${a.context.ivr.attempt}.s`].includes((a.event as Ev<'TIMER.FIRED'>).token);

export const ivrState = {
  always: acceptOnce,
  on: {
    ...answering,
    'GRAPH.DONE': {
      guard: isAcceptDone,
      actions: [
        set(({ event }) => ({ answeredAt: event.at, ivr: { attempt: 1, choice: undefined, choiceAt: undefined } })),
        fx(({ context }) => [
          cancel('accept-deadline', ANSWER_TOKEN),
          hearPlayer(context),
          play(context, menuPlayId(1), [...flowOf(context).greeting, ...flowOf(context).ivr!.prompt]),
          timer('ivr-timeout', PROMPT_DEADLINE_MS, '1.s'),
        ]),
      ],
    },
    'MEDIA.PLAY_ENDED': [
      leavingTransitions['MEDIA.PLAY_ENDED'],
      {
        // The menu has been heard: the caller has `timeoutSeconds` to press a key.
        guard: (a: Args) =>
          inMenu(a) && (a.event as Ev<'MEDIA.PLAY_ENDED'>).playId === menuPlayId(a.context.ivr.attempt),
        actions: fx(({ context }) => [
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
          timer('ivr-timeout', flowOf(context).ivr!.timeoutMs, context.ivr.attempt),
        ]),
      },
    ],
    'MEDIA.DTMF': [
      {
        guard: isValidKey,
        target: 'queued' as const,
        actions: [keepDigit, ...choose(({ event }) => (event as Ev<'MEDIA.DTMF'>).digit)],
      },
      ...nextMenuOrGiveUp(inMenu, 'invalid-choice', [keepDigit]),
      { actions: keepDigit },
    ],
    'TIMER.FIRED': [
      ...acceptDeadlineTransitions(answerDeadline),
      leavingTransitions.timer,
      ...nextMenuOrGiveUp(isIvrTimer, 'no-choice', []),
    ],
    'TIMER.SWEEP': acceptDeadlineTransitions(answerSweep),
  },
};

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
                play(context, 'greeting', flowOf(context).greeting),
                timer('announce', flowOf(context).queue.announceEveryMs, context.queue!.announceSeq),
              ]
            : startWaiting(context)),
        ]),
        ...nextRouting,
      ],
    },
    'MEDIA.PLAY_ENDED': [
      leavingTransitions['MEDIA.PLAY_ENDED'],
      {
        // After the greeting or an announcement, the music again.
        guard: (a: Args) => waiting(a) && /^(greeting|announce\.\d+)$/.test((a.event as Ev<'MEDIA.PLAY_ENDED'>).playId),
        actions: fx(({ context }) => music(context)),
      },
    ],
    'ROUTING.OFFER': {
      guard: (a: Args) =>
        waiting(a) && !a.context.offer && (a.event as Ev<'ROUTING.OFFER'>).seq === a.context.routingSeq,
      actions: [
        set(({ context, event }) => {
          const e = event as Ev<'ROUTING.OFFER'>;
          return {
            offer: {
              seq: e.seq,
              agentIds: e.agentIds,
              policy: e.policy,
              tier: e.tier,
              // An offer from the queue always expires: an agent who does not answer must not hold the caller.
              expiresAt: e.at + (e.ringTimeoutMs ?? context.ringTimeoutMs),
            },
            offeredAt: context.offeredAt ?? e.at,
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
      ],
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

const leg = (ctx: CallContext) => agentLeg(ctx.agentId!);
const talking = (ctx: CallContext): Record<string, string[]> => ({ caller: [leg(ctx)], [leg(ctx)]: ['caller'] });

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

// ---------------------------------------------------------------------------------------------------------------
// on-hold: the caller hears music and the agent's microphone is not forwarded; Meta never learns of it.

export const holdTransition = {
  guard: (a: Args) => (a.event as { agentId: string }).agentId === a.context.agentId,
  target: 'on-hold' as const,
  actions: [
    set(({ context, event }) => ({
      hold: { totalMs: context.hold?.totalMs ?? 0, since: event.at, seq: (context.hold?.seq ?? 0) + 1 },
    })),
    fx(({ context }) => {
      const nodeId = context.mediaNodeId!;
      return [
        { type: 'media.route', nodeId, routes: { caller: ['player'], [leg(context)]: ['caller'] } },
        { type: 'media.play', nodeId, playId: 'hold', clips: [context.flow?.queue.music ?? 'music'], loop: true },
        timer('hold-alert', context.holdAlertMs ?? 60_000, holdToken(context)),
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
    set(({ context, event }) => ({
      hold: { ...context.hold, since: undefined, totalMs: context.hold.totalMs + (event.at - context.hold.since!) },
    })),
  ],
};

/** Still on hold after the limit: the agent is alerted, and again after every further limit. */
export const holdAlert = {
  guard: ({ context, event }: Args) =>
    isTimer(event, 'hold-alert') && (event as Ev<'TIMER.FIRED'>).token.split('.')[0] === holdToken(context),
  actions: fx(({ context, event }) => {
    const n = Number((event as Ev<'TIMER.FIRED'>).token.split('.')[1] ?? 0) + 1;
    return [
      { type: 'agents.holdAlert', agentId: context.agentId!, heldMs: event.at - context.hold.since! },
      // A new token: a job id that already ran is never added again.
      timer('hold-alert', context.holdAlertMs ?? 60_000, `${holdToken(context)}.${n}`),
    ];
  }),
};

/**
 * Callbacks from the queue. A caller waiting in a queue presses the callback key (9, "press 9 to be called back"):
 * the call says so and ends politely (`callback-requested`), and a callback task, a business-initiated call actor,
 * takes the caller's place in the same queues (same priority and entry time). Offered to a free agent like a waiting
 * call; the agent who accepts is dialled through: the task goes `dialing` like `call:dial` (permission checked
 * first, see AgentActions.accept). Pure: effects as data.
 *
 * ```
 * queued ──9──► (goodbye) ended: callback-requested      callback-queued ──accept──► dialing ─► calling ─► live
 * ```
 */
import type { Effect } from './call.effects.js';
import { queueOfferActions } from './call.queue.js';
import { type Args, cancel, endWith, fx, isTimer, set, timer, withdraw } from './call.transitions.js';
import type { CallContext, Ev } from './call.types.js';

export const CALLBACK_KEY = '9';
/** The dial after an agent accepted a callback: the user's phone rings this long at most. @default 45 s */
export const CALLBACK_DIAL_TOKEN = 'cb';
const GOODBYE_DEADLINE_MS = 15_000;

/** queued: the callback key. Added to the queued state's transitions (the caller must be waiting, not leaving). */
export const callbackKeyTransition = {
  guard: ({ context, event }: Args) =>
    event.type === 'MEDIA.DTMF' &&
    (event as Ev<'MEDIA.DTMF'>).digit === CALLBACK_KEY &&
    context.times.answeredAt !== undefined &&
    !context.outcome.leaving &&
    !!context.queue &&
    !!context.caller.waId,
  actions: [
    fx(({ context }) => [
      ...withdraw(context.routing.offer?.agentIds ?? [], 'expired'),
      ...(context.routing.offer
        ? [cancel('ring-expired', context.routing.offer.seq), { type: 'queue.pump' } as Effect]
        : []),
      { type: 'queue.exit', teams: context.queue!.teams },
      { type: 'queue.leave' },
      { type: 'callback.create' },
      {
        type: 'media.play',
        nodeId: context.mediaNodeId!,
        playId: 'goodbye',
        clips: ['callback-confirmed', 'goodbye'],
        loop: false,
      },
      { type: 'media.route', nodeId: context.mediaNodeId!, routes: { caller: ['player'] } },
      timer('goodbye', GOODBYE_DEADLINE_MS, '1'),
    ]),
    set(({ context, event }) => ({
      routing: { offer: undefined },
      outcome: { leaving: 'callback-requested' as const },
      caller: { dtmf: (context.caller.dtmf + (event as Ev<'MEDIA.DTMF'>).digit).slice(-64) },
    })),
  ],
};

/** The callback task's entry (root entry for an outbound actor with `callback`). */
export function callbackEntryEffects(ctx: CallContext): Effect[] {
  const q = ctx.queue!;
  return [
    { type: 'call.created' },
    timer('answer-deadline', ctx.times.answerDeadlineAt - ctx.times.createdAt, 'a'),
    { type: 'queue.enter', teams: q.teams, priority: q.priority, enteredAt: q.enteredAt },
    { type: 'queue.join' },
    { type: 'queue.pump' },
  ];
}

const offered = ({ context, event }: Args) =>
  'agentId' in event && !!context.routing.offer?.agentIds.includes((event as { agentId: string }).agentId);

/** The offer ended without an accept: look again (the dispatcher offers the queue heads). */
const offerOver = (reason: 'declined' | 'unavailable' | 'expired') => [
  fx(({ context, event }) => [
    ...withdraw(
      reason === 'expired' ? (context.routing.offer?.agentIds ?? []) : [(event as { agentId: string }).agentId],
      reason,
    ),
    ...(reason !== 'expired' && context.routing.offer ? [cancel('ring-expired', context.routing.offer.seq)] : []),
    { type: 'queue.pump' } as Effect,
  ]),
  set(({ context, event }) => {
    const declined = context.routing.declined;
    return {
      routing: {
        offer: undefined,
        seq: context.routing.seq + 1,
        declined: reason === 'declined' ? [...declined, (event as { agentId: string }).agentId] : declined,
      },
    };
  }),
];

/** Waits in the queue for a free agent; the callback task's only state before it dials. */
export const callbackQueuedState = {
  on: {
    'ROUTING.OFFER': {
      guard: ({ context, event }: Args) =>
        !context.routing.offer && (event as Ev<'ROUTING.OFFER'>).seq === context.routing.seq,
      actions: queueOfferActions(false),
    },
    'ROUTING.NO_AGENTS': {},
    // An agent became free: the queue pump offers the heads (this task when its turn has come).
    'CALL.REROUTE': {
      guard: ({ context }: Args) => !context.routing.offer,
      actions: fx(() => ({ type: 'queue.pump' })),
    },
    'AGENT.DECLINE': { guard: offered, actions: offerOver('declined') },
    'AGENT.UNAVAILABLE': { guard: offered, actions: offerOver('unavailable') },
    'AGENT.ACCEPT': {
      guard: offered,
      target: 'dialing' as const,
      actions: [
        fx(({ context, event }) => {
          const e = event as Ev<'AGENT.ACCEPT'>;
          return [
            ...withdraw(context.routing.offer!.agentIds, 'taken', e.agentId),
            cancel('ring-expired', context.routing.offer!.seq),
            cancel('answer-deadline', 'a'),
            { type: 'queue.exit', teams: context.queue!.teams },
            { type: 'queue.leave' },
            timer('answer-deadline', context.outbound!.callback!.dialDeadlineMs, CALLBACK_DIAL_TOKEN),
            { type: 'media.createOutbound', nodeId: e.mediaNodeId, agentId: e.agentId },
            { type: 'agents.progress', agentId: e.agentId, status: 'dialing' },
            ...(context.routing.offer!.agentIds.length > 1 ? [{ type: 'queue.pump' } as Effect] : []),
          ];
        }),
        set(({ context, event }) => {
          const e = event as Ev<'AGENT.ACCEPT'>;
          return {
            agentId: e.agentId,
            mediaNodeId: e.mediaNodeId,
            routing: { offer: undefined },
            times: { answerDeadlineAt: e.at + context.outbound!.callback!.dialDeadlineMs },
          };
        }),
      ],
    },
    'TIMER.FIRED': [
      {
        guard: ({ context, event }: Args) =>
          isTimer(event, 'ring-expired') && (event as Ev<'TIMER.FIRED'>).token === String(context.routing.offer?.seq),
        actions: offerOver('expired'),
      },
      {
        // Nobody took the callback in time.
        guard: ({ event }: Args) => isTimer(event, 'answer-deadline'),
        target: 'ended' as const,
        actions: [
          fx(({ context }) => ({ type: 'queue.exit', teams: context.queue!.teams })),
          ...endWith({ reason: 'missed', endedBy: 'system' }),
        ],
      },
    ],
  },
};

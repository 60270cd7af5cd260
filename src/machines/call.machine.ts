import { assign, setup } from 'xstate';
import type { Effect, GraphAction, TimerName, WithdrawReason } from './call.effects.js';

/**
 * Why a call ended. Stable strings: the API, the console, the agent protocol (`call:ended.reason`) and the metrics
 * use them.
 */
export const END_REASONS = [
  /** A live call hung up normally by either side (see `endedBy`). */
  'completed',
  /** Nobody answered by the answer deadline; rejected at Meta. */
  'missed',
  /** The business rejected it (supervisor) before answer. */
  'rejected',
  /** The caller hung up before an agent was connected. */
  'caller-hung-up',
  /** The bridge could not connect or failed mid-call. */
  'media-failed',
  /** A Graph API action (pre_accept/accept) failed for good. */
  'graph-failed',
  /** Meta ended the call: the caller's WhatsApp client received no media (138021). */
  'no-media-received',
  /** Meta ended the call: the caller's WhatsApp client could not send media (138022). */
  'no-media-sent',
  /** Meta ended the call: accepted but no media connection signals (138023). */
  'media-unknown',
  /** Meta ended the call: our answer came too late (138007). */
  'answer-timeout',
  /** Meta ended the call with another error (see `errorCode`). */
  'meta-error',
  /** The bridged agent's media did not come back within the grace period. */
  'agent-disconnected',
  /** The call reached MAX_CALL_SECONDS. */
  'max-duration',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** Meta error codes on a FAILED terminate → our reason. */
export function reasonForMetaError(code: number | undefined): EndReason {
  switch (code) {
    case 138021:
      return 'no-media-received';
    case 138022:
      return 'no-media-sent';
    case 138023:
      return 'media-unknown';
    case 138019:
    case 138020:
      return 'media-failed';
    case 138007:
      return 'answer-timeout';
    default:
      return 'meta-error';
  }
}

export type RoutingPolicy = 'ring-all' | 'ring-one';

export interface CallOffer {
  seq: number;
  agentIds: string[];
  policy: RoutingPolicy;
  tier: string;
  /** When a ring-one (or tier) offer expires; undefined = until the answer deadline. */
  expiresAt: number | undefined;
}

export interface CallContext {
  callId: string;
  phoneNumberId: string;
  /** The business number the caller dialled (display form, digits). */
  businessNumber: string;
  caller: { waId: string | undefined; name: string | undefined };
  createdAt: number;
  answerDeadlineAt: number;
  ringTimeoutMs: number;
  acceptDeadlineMs: number;
  maxCallMs: number;
  agentGraceMs: number;
  /** Increments with every routing request; answers carrying an older seq are stale. */
  routingSeq: number;
  offer: CallOffer | undefined;
  /** Agents who declined this call: never offered it again. */
  declined: string[];
  /** Everyone this call was ever offered to (history, visibility). */
  offeredAgents: string[];
  /** Agents already tried in this ring-one rotation. */
  tried: string[];
  offeredAt: number | undefined;
  agentId: string | undefined;
  mediaNodeId: string | undefined;
  acceptedAt: number | undefined;
  acceptDeadlineAt: number | undefined;
  answerReady: boolean;
  preAcceptDone: boolean;
  waConnected: boolean;
  agentConnected: boolean;
  acceptRequested: boolean;
  acceptFallback: boolean;
  liveAt: number | undefined;
  maxEndAt: number | undefined;
  agentLegDown: boolean;
  /** The bridged agent's tab went away (pagehide): a reload comes back within leaveGraceMs, a closed tab does not. */
  agentLeft: boolean;
  leaveGraceMs: number;
  graceSeq: number;
  endedAt: number | undefined;
  reason: EndReason | undefined;
  endedBy: 'caller' | 'agent' | 'supervisor' | 'system' | 'meta' | undefined;
  errorCode: number | undefined;
  detail: string | undefined;
  dtmf: string;
}

export interface CallInput {
  callId: string;
  phoneNumberId: string;
  businessNumber: string;
  caller: { waId?: string | undefined; name?: string | undefined };
  at: number;
  answerDeadlineMs: number;
  ringTimeoutMs: number;
  acceptDeadlineMs: number;
  maxCallMs: number;
  agentGraceMs?: number;
  leaveGraceMs?: number;
}

type At = { at: number };
export type CallEvent =
  | ({
      type: 'WA.TERMINATE';
      status: 'COMPLETED' | 'FAILED';
      errorCode?: number | undefined;
      errorTitle?: string | undefined;
    } & At)
  | ({ type: 'WA.STATUS'; status: string } & At)
  /** Meta's offer cannot be answered (broken SDP): the call is rejected before anyone rings. */
  | ({ type: 'WA.BAD_OFFER'; reason: string } & At)
  | ({
      type: 'ROUTING.OFFER';
      seq: number;
      agentIds: string[];
      policy: RoutingPolicy;
      tier: string;
      ringTimeoutMs?: number | undefined;
      resetTried?: boolean;
      /** Why these agents (shown in the timeline). */
      note?: string;
    } & At)
  | ({ type: 'ROUTING.NO_AGENTS'; seq: number; note: string } & At)
  | ({ type: 'CALL.REROUTE' } & At)
  | ({ type: 'CALL.CANCEL'; by: string } & At)
  | ({ type: 'AGENT.ACCEPT'; agentId: string; mediaNodeId: string } & At)
  | ({ type: 'AGENT.DECLINE'; agentId: string } & At)
  | ({ type: 'AGENT.UNAVAILABLE'; agentId: string } & At)
  | ({ type: 'AGENT.HANGUP'; agentId: string } & At)
  /** The bridged agent's tab is going away (pagehide beacon): hang up unless the agent's media is back in time. */
  | ({ type: 'AGENT.LEFT'; agentId: string } & At)
  | ({ type: 'MEDIA.WA_ANSWER' } & At)
  | ({ type: 'MEDIA.WA_CONNECTED' } & At)
  | ({ type: 'MEDIA.AGENT_CONNECTED' } & At)
  | ({ type: 'MEDIA.AGENT_LEG_DOWN' } & At)
  | ({ type: 'MEDIA.FAILED'; reason: string } & At)
  | ({ type: 'MEDIA.DTMF'; digit: string } & At)
  | ({ type: 'GRAPH.DONE'; action: GraphAction } & At)
  | ({
      type: 'GRAPH.FAILED';
      action: GraphAction;
      metaCode?: number | undefined;
      httpStatus?: number | undefined;
      message: string;
    } & At)
  | ({ type: 'TIMER.FIRED'; timer: TimerName; token: string } & At)
  /** The stranded-call sweep: acts like whichever deadline of the current state has passed. */
  | ({ type: 'TIMER.SWEEP' } & At);

export type CallEventType = CallEvent['type'];
type Ev<T extends CallEventType> = Extract<CallEvent, { type: T }>;

/** The state names, as the API and the console show them. */
export const CALL_STATES = ['ringing', 'agent-offered', 'bridging', 'pre-accepted', 'live', 'ended'] as const;
export type CallState = (typeof CALL_STATES)[number];

const timer = (t: TimerName, delayMs: number, token: string | number): Effect => ({
  type: 'timer.schedule',
  timer: t,
  delayMs: Math.max(0, delayMs),
  token: String(token),
});

const union = (a: string[], b: string[]) => [...a, ...b.filter((x) => !a.includes(x))].slice(0, 100);

const withdraw = (agentIds: string[], reason: WithdrawReason, takenBy?: string): Effect[] =>
  agentIds.length ? [{ type: 'agents.withdraw', agentIds, reason, ...(takenBy ? { takenBy } : {}) }] : [];

const cancel = (t: TimerName, token: string | number): Effect => ({
  type: 'timer.cancel',
  timer: t,
  token: String(token),
});

/** The timers that may still be waiting in the current state: removed when the call ends. */
function pendingTimerCancels(ctx: CallContext): Effect[] {
  if (ctx.liveAt !== undefined) {
    return [cancel('max-duration', '1'), ...(ctx.graceSeq > 0 ? [cancel('agent-grace', ctx.graceSeq)] : [])];
  }
  if (ctx.acceptedAt !== undefined)
    return [cancel('accept-deadline', '1'), ...(ctx.acceptRequested ? [cancel('accept-deadline', 'confirm')] : [])];
  const out = [cancel('answer-deadline', 'a'), cancel('reroute', ctx.routingSeq)];
  if (ctx.offer?.expiresAt !== undefined) out.push(cancel('ring-expired', ctx.offer.seq));
  return out;
}

/** Effects that end the call, shared by every path into `ended`. */
function endingEffects(
  ctx: CallContext,
  reason: EndReason,
  opts: { graph?: 'reject' | 'terminate' | undefined },
): Effect[] {
  const effects: Effect[] = [...pendingTimerCancels(ctx)];
  if (opts.graph === 'reject') effects.push({ type: 'graph.reject' });
  if (opts.graph === 'terminate') effects.push({ type: 'graph.terminate' });
  // Everyone still ringing and the bridged agent hear why it ended (`call:ended`).
  const told = [...(ctx.offer?.agentIds ?? []), ...(ctx.agentId ? [ctx.agentId] : [])];
  if (told.length) effects.push({ type: 'agents.ended', agentIds: [...new Set(told)], reason });
  if (ctx.agentId) effects.push({ type: 'agents.release', agentId: ctx.agentId });
  if (ctx.mediaNodeId) effects.push({ type: 'media.close', nodeId: ctx.mediaNodeId, reason });
  effects.push({ type: 'queue.leave' }, { type: 'call.ended', reason });
  return effects;
}

type EndSpec = {
  reason: EndReason;
  endedBy: CallContext['endedBy'];
  graph?: 'reject' | 'terminate' | undefined;
  errorCode?: number | undefined;
  detail?: string | undefined;
};

/** Meta's terminate webhook: the caller hung up, or Meta ended the call with an error code. */
function endSpecForTerminate(ctx: CallContext, e: Ev<'WA.TERMINATE'>, live: boolean): EndSpec {
  if (e.status === 'FAILED' && e.errorCode !== undefined) {
    return {
      reason: reasonForMetaError(e.errorCode),
      endedBy: 'meta',
      errorCode: e.errorCode,
      detail: e.errorTitle?.slice(0, 200),
    };
  }
  if (live) return { reason: 'completed', endedBy: 'caller' };
  return { reason: ctx.agentId ? 'caller-hung-up' : 'caller-hung-up', endedBy: 'caller' };
}

type Args = { context: CallContext; event: CallEvent };

/** Ends the call: effects first (computed from the context before it changes), then the recorded outcome. */
function endWith(spec: EndSpec | ((args: Args) => EndSpec)) {
  const specOf = (args: Args) => (typeof spec === 'function' ? spec(args) : spec);
  return [
    {
      type: 'effect' as const,
      params: (args: Args) => {
        const s = specOf(args);
        return endingEffects(args.context, s.reason, s);
      },
    },
    assign<CallContext, CallEvent, undefined, CallEvent, never>((args) => {
      const s = specOf(args);
      return {
        reason: s.reason,
        endedBy: s.endedBy,
        errorCode: s.errorCode,
        detail: s.detail,
        endedAt: args.event.at,
      };
    }),
  ];
}

/** After pre_accept was sent Meta's call must be terminated; before, it is rejected. */
const answeredGraph = (ctx: CallContext): 'terminate' | 'reject' => (ctx.answerReady ? 'terminate' : 'reject');

const endMissed = endWith({ reason: 'missed', endedBy: 'system', graph: 'reject' });

const isTimer = (event: CallEvent, t: TimerName) => event.type === 'TIMER.FIRED' && event.timer === t;

/** Once accept is requested, Meta's 200 must come within this (the Graph job's retries included). */
const acceptConfirmMs = (ctx: CallContext) => ctx.acceptDeadlineMs * 3;
/** The accept request's own deadline: `accept-deadline` with token `confirm`. */
const acceptConfirmTimer = ({ context }: Args): Effect => timer('accept-deadline', acceptConfirmMs(context), 'confirm');
const isAcceptConfirmOver = ({ context, event }: Args) =>
  context.acceptRequested &&
  ((event.type === 'TIMER.FIRED' && event.timer === 'accept-deadline' && event.token === 'confirm') ||
    (event.type === 'TIMER.SWEEP' &&
      context.acceptDeadlineAt !== undefined &&
      event.at >= context.acceptDeadlineAt + acceptConfirmMs(context)));
/** Accept was requested but Meta never confirmed it (a lost or stuck Graph job): the call ends with a reason. */
const acceptNeverConfirmed = {
  guard: isAcceptConfirmOver,
  target: 'ended' as const,
  actions: endWith(({ context }) => ({
    reason: 'graph-failed',
    endedBy: 'system',
    graph: answeredGraph(context),
    detail: 'accept: Meta did not confirm it in time',
  })),
};

/** The accept deadline (or a sweep past it) while waiting to go live. */
const acceptDeadlineTransitions = (guard: (a: Args) => boolean) => [
  {
    // The WhatsApp leg is up but the agent leg or pre_accept's 200 is late: accept anyway (fallback).
    guard: (a: Args) => guard(a) && a.context.waConnected && !a.context.acceptRequested,
    actions: [
      assign<CallContext, CallEvent, undefined, CallEvent, never>(() => ({
        acceptRequested: true,
        acceptFallback: true,
      })),
      { type: 'effect' as const, params: { type: 'graph.accept' } as Effect },
      { type: 'effect' as const, params: acceptConfirmTimer },
    ],
  },
  {
    guard: (a: Args) => guard(a) && !a.context.waConnected,
    target: 'ended' as const,
    actions: endWith(({ context }) => ({
      reason: 'media-failed',
      endedBy: 'system',
      graph: answeredGraph(context),
      detail: context.answerReady ? 'WhatsApp media did not connect in time' : 'the bridge did not answer in time',
    })),
  },
];

/** The bridged agent's tab went away: wait `leaveGraceMs` for a reload to bring their media back. */
const agentLeft = {
  guard: 'isBridgedAgent' as const,
  actions: [
    assign<CallContext, CallEvent, undefined, CallEvent, never>(({ context }) => ({
      agentLeft: true,
      agentLegDown: true,
      graceSeq: context.graceSeq + 1,
    })),
    {
      type: 'effect' as const,
      params: ({ context }: Args) => timer('agent-grace', context.leaveGraceMs, context.graceSeq),
    },
  ],
};

const graceOver = ({ context, event }: Args) =>
  isTimer(event, 'agent-grace') &&
  context.agentLegDown &&
  event.type === 'TIMER.FIRED' &&
  event.token === String(context.graceSeq);

/** Before live: the agent who left is not coming back, so the call they were connecting is given up. */
const leftWhileConnecting = {
  guard: (a: Args) => graceOver(a) && a.context.agentLeft,
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: 'rejected', endedBy: 'agent', graph: answeredGraph(context) })),
};

const offerWithout = (ctx: CallContext, agentId: string): CallOffer => ({
  ...ctx.offer!,
  agentIds: ctx.offer!.agentIds.filter((a) => a !== agentId),
});

const isLastOffered = ({ context, event }: Args) =>
  'agentId' in event &&
  !!context.offer?.agentIds.includes(event.agentId) &&
  context.offer.agentIds.filter((a) => a !== event.agentId).length === 0;

export const callMachine = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallEvent,
    input: {} as CallInput,
  },
  actions: {
    // Collected by transition(), never executed: deliver() turns the params into stored, dispatched effects.
    effect: (_: unknown, _params: Effect | Effect[]) => {},
  },
  guards: {
    isOffered: ({ context, event }) =>
      'agentId' in event && typeof event.agentId === 'string' && !!context.offer?.agentIds.includes(event.agentId),
    isBridgedAgent: ({ context, event }) => 'agentId' in event && event.agentId === context.agentId,
    isCurrentRouting: ({ context, event }) => 'seq' in event && event.seq === context.routingSeq,
    readyToAccept: ({ context }) =>
      !context.acceptRequested && context.preAcceptDone && context.waConnected && context.agentConnected,
  },
}).createMachine({
  id: 'call',
  context: ({ input }) => ({
    callId: input.callId,
    phoneNumberId: input.phoneNumberId,
    businessNumber: input.businessNumber,
    caller: { waId: input.caller.waId, name: input.caller.name },
    createdAt: input.at,
    answerDeadlineAt: input.at + input.answerDeadlineMs,
    ringTimeoutMs: input.ringTimeoutMs,
    acceptDeadlineMs: input.acceptDeadlineMs,
    maxCallMs: input.maxCallMs,
    agentGraceMs: input.agentGraceMs ?? 20_000,
    leaveGraceMs: input.leaveGraceMs ?? 5_000,
    routingSeq: 0,
    offer: undefined,
    declined: [],
    offeredAgents: [],
    tried: [],
    offeredAt: undefined,
    agentId: undefined,
    mediaNodeId: undefined,
    acceptedAt: undefined,
    acceptDeadlineAt: undefined,
    answerReady: false,
    preAcceptDone: false,
    waConnected: false,
    agentConnected: false,
    acceptRequested: false,
    acceptFallback: false,
    liveAt: undefined,
    maxEndAt: undefined,
    agentLegDown: false,
    agentLeft: false,
    graceSeq: 0,
    endedAt: undefined,
    reason: undefined,
    endedBy: undefined,
    errorCode: undefined,
    detail: undefined,
    dtmf: '',
  }),
  entry: {
    type: 'effect',
    params: ({ context }) => [
      { type: 'call.created' },
      timer('answer-deadline', context.answerDeadlineAt - context.createdAt, 'a'),
      { type: 'queue.join' },
    ],
  },
  initial: 'ringing',
  states: {
    ringing: {
      entry: [
        assign({ routingSeq: ({ context }) => context.routingSeq + 1, offer: undefined }),
        { type: 'effect', params: ({ context }) => ({ type: 'routing.request', seq: context.routingSeq }) },
      ],
      on: {
        'ROUTING.OFFER': {
          guard: 'isCurrentRouting',
          target: 'agent-offered',
          actions: [
            assign(({ context, event }) => {
              const ringMs = event.ringTimeoutMs;
              return {
                offer: {
                  seq: event.seq,
                  agentIds: event.agentIds,
                  policy: event.policy,
                  tier: event.tier,
                  expiresAt: ringMs ? Math.min(event.at + ringMs, context.answerDeadlineAt) : undefined,
                },
                offeredAt: context.offeredAt ?? event.at,
                offeredAgents: union(context.offeredAgents, event.agentIds),
                tried: [...(event.resetTried ? [] : context.tried), ...event.agentIds],
              };
            }),
            {
              type: 'effect',
              params: ({ context, event }) => {
                const offer = context.offer!;
                const deadlineAt = offer.expiresAt ?? context.answerDeadlineAt;
                const effects: Effect[] = [{ type: 'agents.offer', agentIds: offer.agentIds, deadlineAt }];
                if (offer.expiresAt !== undefined && offer.expiresAt < context.answerDeadlineAt) {
                  effects.push(timer('ring-expired', offer.expiresAt - event.at, offer.seq));
                }
                return effects;
              },
            },
          ],
        },
        'ROUTING.NO_AGENTS': {
          guard: 'isCurrentRouting',
          // Agents becoming available send CALL.REROUTE; this timer is the safety net.
          actions: { type: 'effect', params: ({ event }) => timer('reroute', 5000, event.seq) },
        },
        'CALL.REROUTE': { target: 'ringing', reenter: true },
        'TIMER.FIRED': [
          {
            guard: ({ context, event }) => event.timer === 'reroute' && event.token === String(context.routingSeq),
            target: 'ringing',
            reenter: true,
          },
          { guard: ({ event }) => isTimer(event, 'answer-deadline'), target: 'ended', actions: endMissed },
        ],
        'TIMER.SWEEP': {
          guard: ({ context, event }) => event.at >= context.answerDeadlineAt,
          target: 'ended',
          actions: endMissed,
        },
        'WA.BAD_OFFER': {
          target: 'ended',
          actions: endWith(({ event }) => ({
            reason: 'media-failed',
            endedBy: 'system',
            graph: 'reject',
            detail: `unusable offer: ${(event as Ev<'WA.BAD_OFFER'>).reason}`.slice(0, 200),
          })),
        },
      },
    },
    'agent-offered': {
      on: {
        'ROUTING.OFFER': {
          // ring-all: agents who became available while it rings are added to the offer.
          guard: ({ context, event }) => event.seq === context.routingSeq && context.offer?.policy === 'ring-all',
          actions: [
            {
              type: 'effect',
              params: ({ context, event }) => {
                const added = event.agentIds.filter((a) => !context.offer?.agentIds.includes(a));
                const deadlineAt = context.offer?.expiresAt ?? context.answerDeadlineAt;
                return added.length ? [{ type: 'agents.offer', agentIds: added, deadlineAt }] : [];
              },
            },
            assign(({ context, event }) => ({
              offer: { ...context.offer!, agentIds: union(context.offer!.agentIds, event.agentIds) },
              offeredAgents: union(context.offeredAgents, event.agentIds),
            })),
          ],
        },
        'ROUTING.NO_AGENTS': {},
        'CALL.REROUTE': {
          guard: ({ context }) => context.offer?.policy === 'ring-all',
          actions: [
            assign({ routingSeq: ({ context }) => context.routingSeq + 1 }),
            { type: 'effect', params: ({ context }) => ({ type: 'routing.request', seq: context.routingSeq }) },
          ],
        },
        'AGENT.ACCEPT': {
          guard: 'isOffered',
          target: 'bridging',
          actions: [
            {
              type: 'effect',
              params: ({ context, event }) => [
                // The bridge first: it is on the critical path to the caller hearing the agent.
                { type: 'media.createBridge', nodeId: event.mediaNodeId, agentId: event.agentId },
                ...withdraw(context.offer!.agentIds, 'taken', event.agentId),
                cancel('answer-deadline', 'a'),
                ...(context.offer?.expiresAt !== undefined ? [cancel('ring-expired', context.offer.seq)] : []),
                { type: 'queue.leave' },
                timer('accept-deadline', context.acceptDeadlineMs, '1'),
              ],
            },
            assign(({ context, event }) => ({
              agentId: event.agentId,
              mediaNodeId: event.mediaNodeId,
              // The offer is over: everyone offered got call:taken above.
              offer: undefined,
              acceptedAt: event.at,
              acceptDeadlineAt: event.at + context.acceptDeadlineMs,
            })),
          ],
        },
        'AGENT.DECLINE': [
          {
            guard: isLastOffered,
            target: 'ringing',
            actions: [
              assign(({ context, event }) => ({ declined: [...context.declined, event.agentId] })),
              { type: 'effect', params: ({ event }) => withdraw([event.agentId], 'declined') },
            ],
          },
          {
            guard: 'isOffered',
            actions: [
              assign(({ context, event }) => ({
                declined: [...context.declined, event.agentId],
                offer: offerWithout(context, event.agentId),
              })),
              { type: 'effect', params: ({ event }) => withdraw([event.agentId], 'declined') },
            ],
          },
        ],
        'AGENT.UNAVAILABLE': [
          {
            guard: isLastOffered,
            target: 'ringing',
            actions: { type: 'effect', params: ({ event }) => withdraw([event.agentId], 'unavailable') },
          },
          {
            guard: 'isOffered',
            actions: [
              assign(({ context, event }) => ({ offer: offerWithout(context, event.agentId) })),
              { type: 'effect', params: ({ event }) => withdraw([event.agentId], 'unavailable') },
            ],
          },
        ],
        'TIMER.FIRED': [
          {
            guard: ({ context, event }) => isTimer(event, 'ring-expired') && event.token === String(context.offer?.seq),
            target: 'ringing',
            actions: { type: 'effect', params: ({ context }) => withdraw(context.offer?.agentIds ?? [], 'expired') },
          },
          { guard: ({ event }) => isTimer(event, 'answer-deadline'), target: 'ended', actions: endMissed },
        ],
        'TIMER.SWEEP': [
          { guard: ({ context, event }) => event.at >= context.answerDeadlineAt, target: 'ended', actions: endMissed },
          {
            guard: ({ context, event }) =>
              context.offer?.expiresAt !== undefined && event.at >= context.offer.expiresAt,
            target: 'ringing',
            actions: { type: 'effect', params: ({ context }) => withdraw(context.offer?.agentIds ?? [], 'expired') },
          },
        ],
      },
    },
    bridging: {
      on: {
        'AGENT.HANGUP': {
          // The agent gave up before the caller was connected.
          guard: 'isBridgedAgent',
          target: 'ended',
          actions: endWith(({ context }) => ({ reason: 'rejected', endedBy: 'agent', graph: answeredGraph(context) })),
        },
        'AGENT.LEFT': agentLeft,
        'MEDIA.WA_ANSWER': {
          target: 'pre-accepted',
          actions: [assign({ answerReady: true }), { type: 'effect', params: { type: 'graph.preAccept' } }],
        },
        'TIMER.FIRED': [
          leftWhileConnecting,
          ...acceptDeadlineTransitions(({ event }) => isTimer(event, 'accept-deadline')),
        ],
        'TIMER.SWEEP': acceptDeadlineTransitions(
          ({ context, event }) => context.acceptDeadlineAt !== undefined && event.at >= context.acceptDeadlineAt,
        ),
      },
    },
    'pre-accepted': {
      always: {
        guard: 'readyToAccept',
        actions: [
          assign({ acceptRequested: true }),
          { type: 'effect', params: { type: 'graph.accept' } },
          { type: 'effect', params: acceptConfirmTimer },
        ],
      },
      on: {
        'AGENT.HANGUP': {
          // The agent gave up before the caller was connected.
          guard: 'isBridgedAgent',
          target: 'ended',
          actions: endWith(({ context }) => ({ reason: 'rejected', endedBy: 'agent', graph: answeredGraph(context) })),
        },
        'AGENT.LEFT': agentLeft,
        'GRAPH.DONE': [
          { guard: ({ event }) => event.action === 'pre_accept', actions: assign({ preAcceptDone: true }) },
          {
            guard: ({ event }) => event.action === 'accept',
            target: 'live',
            actions: [
              assign(({ context, event }) => ({
                liveAt: event.at,
                maxEndAt: event.at + context.maxCallMs,
                // Live after a fallback accept with no agent leg yet: it gets the agent grace to arrive.
                ...(context.agentConnected ? {} : { agentLegDown: true, graceSeq: context.graceSeq + 1 }),
              })),
              {
                type: 'effect',
                params: ({ context }) => [
                  cancel('accept-deadline', '1'),
                  cancel('accept-deadline', 'confirm'),
                  { type: 'media.startAgentAudio', nodeId: context.mediaNodeId! },
                  { type: 'agents.live', agentId: context.agentId! },
                  timer('max-duration', context.maxCallMs, '1'),
                  ...(context.agentConnected ? [] : [timer('agent-grace', context.agentGraceMs, context.graceSeq)]),
                ],
              },
            ],
          },
        ],
        'TIMER.FIRED': [
          acceptNeverConfirmed,
          leftWhileConnecting,
          ...acceptDeadlineTransitions(({ event }) => isTimer(event, 'accept-deadline')),
        ],
        'TIMER.SWEEP': [
          acceptNeverConfirmed,
          ...acceptDeadlineTransitions(
            ({ context, event }) => context.acceptDeadlineAt !== undefined && event.at >= context.acceptDeadlineAt,
          ),
        ],
      },
    },
    live: {
      on: {
        'AGENT.HANGUP': {
          guard: 'isBridgedAgent',
          target: 'ended',
          actions: endWith({ reason: 'completed', endedBy: 'agent', graph: 'terminate' }),
        },
        'MEDIA.AGENT_LEG_DOWN': {
          guard: ({ context }) => !context.agentLegDown,
          actions: [
            assign(({ context }) => ({ agentLegDown: true, graceSeq: context.graceSeq + 1 })),
            { type: 'effect', params: ({ context }) => timer('agent-grace', context.agentGraceMs, context.graceSeq) },
          ],
        },
        'AGENT.LEFT': agentLeft,
        'MEDIA.AGENT_CONNECTED': { actions: assign({ agentLegDown: false, agentLeft: false, agentConnected: true }) },
        'TIMER.FIRED': [
          {
            // The agent closed their tab and did not come back: they hung up.
            guard: (a) => graceOver(a) && a.context.agentLeft,
            target: 'ended',
            actions: endWith({ reason: 'completed', endedBy: 'agent', graph: 'terminate' }),
          },
          {
            guard: graceOver,
            target: 'ended',
            actions: endWith({ reason: 'agent-disconnected', endedBy: 'system', graph: 'terminate' }),
          },
          {
            guard: ({ event }) => isTimer(event, 'max-duration'),
            target: 'ended',
            actions: endWith({ reason: 'max-duration', endedBy: 'system', graph: 'terminate' }),
          },
        ],
        'TIMER.SWEEP': {
          guard: ({ context, event }) => context.maxEndAt !== undefined && event.at >= context.maxEndAt,
          target: 'ended',
          actions: endWith({ reason: 'max-duration', endedBy: 'system', graph: 'terminate' }),
        },
      },
    },
    ended: {
      type: 'final',
    },
  },
  on: {
    // Handled in every state but `ended` (a final state takes no events).
    'WA.TERMINATE': {
      target: '.ended',
      actions: endWith(({ context, event }) =>
        endSpecForTerminate(context, event as Ev<'WA.TERMINATE'>, context.liveAt !== undefined),
      ),
    },
    'CALL.CANCEL': {
      target: '.ended',
      actions: endWith(({ context }) =>
        context.liveAt !== undefined
          ? { reason: 'completed', endedBy: 'supervisor', graph: 'terminate' }
          : { reason: 'rejected', endedBy: 'supervisor', graph: answeredGraph(context) },
      ),
    },
    'MEDIA.FAILED': {
      guard: ({ context }) => context.mediaNodeId !== undefined,
      target: '.ended',
      actions: endWith(({ context, event }) => ({
        reason: 'media-failed',
        endedBy: 'system',
        graph: answeredGraph(context),
        detail: (event as Ev<'MEDIA.FAILED'>).reason.slice(0, 200),
      })),
    },
    'GRAPH.FAILED': {
      // Only answering can fail the call; a failed reject/terminate happens after `ended` and changes nothing.
      guard: ({ context, event }) =>
        context.answerReady && (event.action === 'pre_accept' || event.action === 'accept'),
      target: '.ended',
      actions: endWith(({ event }) => {
        const e = event as Ev<'GRAPH.FAILED'>;
        return {
          reason: 'graph-failed',
          endedBy: 'system',
          graph: 'terminate',
          errorCode: e.metaCode,
          detail: `${e.action}: ${e.message}`.slice(0, 200),
        };
      }),
    },
    'MEDIA.WA_CONNECTED': { guard: ({ context }) => !context.waConnected, actions: assign({ waConnected: true }) },
    'MEDIA.AGENT_CONNECTED': {
      guard: ({ context }) => !context.agentConnected || context.agentLegDown,
      actions: assign({ agentConnected: true, agentLegDown: false, agentLeft: false }),
    },
    'GRAPH.DONE': {
      guard: ({ context, event }) => event.action === 'pre_accept' && !context.preAcceptDone,
      actions: assign({ preAcceptDone: true }),
    },
    'MEDIA.DTMF': {
      guard: ({ event }) => /^[0-9*#A-D]$/.test(event.digit),
      actions: assign(({ context, event }) => ({ dtmf: (context.dtmf + event.digit).slice(-64) })),
    },
  },
});

export type CallMachine = typeof callMachine;

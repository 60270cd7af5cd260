/**
 * The call machine's building blocks: effect constructors, the ending effects shared by every path into `ended`,
 * and the transition fragments several states reuse. Pure: they compute effects as data, never do I/O.
 */
import { assign } from 'xstate';
import { type ContextPatch, merged } from './call.context.js';
import type { Effect, TimerName, WithdrawReason } from './call.effects.js';
import { businessTimerCancels } from './call.timers.js';
import {
  type CallContext,
  type CallEvent,
  type CallOffer,
  type CallOutcome,
  type EndReason,
  type Ev,
  reasonForMetaError,
} from './call.types.js';

export const timer = (t: TimerName, delayMs: number, token: string | number): Effect => ({
  type: 'timer.schedule',
  timer: t,
  delayMs: Math.max(0, delayMs),
  token: String(token),
});

/** The media leg of an agent's browser on the call's media node. */
export const agentLeg = (agentId: string) => `agent:${agentId}`;

export const union = (a: string[], b: string[]) => [...a, ...b.filter((x) => !a.includes(x))].slice(0, 100);

export const withdraw = (agentIds: string[], reason: WithdrawReason, takenBy?: string): Effect[] =>
  agentIds.length ? [{ type: 'agents.withdraw', agentIds, reason, ...(takenBy ? { takenBy } : {}) }] : [];

export const cancel = (t: TimerName, token: string | number): Effect => ({
  type: 'timer.cancel',
  timer: t,
  token: String(token),
});

/** The timers that may still be waiting in the current state: removed when the call ends. */
export function pendingTimerCancels(ctx: CallContext): Effect[] {
  return [...ownTimerCancels(ctx), ...businessTimerCancels(ctx)];
}

function ownTimerCancels(ctx: CallContext): Effect[] {
  if (ctx.flow && ctx.times.liveAt === undefined) return [];
  if (ctx.times.liveAt !== undefined) {
    return [
      cancel('max-duration', '1'),
      ...(ctx.bridge.graceSeq > 0 ? [cancel('agent-grace', ctx.bridge.graceSeq)] : []),
      ...(ctx.live.transfer ? [cancel('transfer-ring', ctx.live.transfer.ringToken)] : []),
      ...(ctx.live.consult && !ctx.live.consult.connected ? [cancel('consult-ring', ctx.live.consult.ringToken)] : []),
    ];
  }
  if (ctx.times.acceptedAt !== undefined)
    return [
      cancel('accept-deadline', '1'),
      ...(ctx.bridge.acceptRequested ? [cancel('accept-deadline', 'confirm')] : []),
    ];
  const out = [cancel('answer-deadline', 'a'), cancel('reroute', ctx.routing.seq)];
  if (ctx.routing.offer?.expiresAt !== undefined) out.push(cancel('ring-expired', ctx.routing.offer.seq));
  return out;
}

/** Effects that end the call, shared by every path into `ended`. */
export function endingEffects(
  ctx: CallContext,
  reason: EndReason,
  opts: { graph?: 'reject' | 'terminate' | undefined },
): Effect[] {
  const effects: Effect[] = [...pendingTimerCancels(ctx)];
  if (opts.graph === 'reject') effects.push({ type: 'graph.reject' });
  if (opts.graph === 'terminate') effects.push({ type: 'graph.terminate' });
  // Everyone still ringing and the bridged agent hear why it ended (`call:ended`).
  const consulted = ctx.live.consult?.connected ? [ctx.live.consult.with] : [];
  const told = [...(ctx.routing.offer?.agentIds ?? []), ...(ctx.agentId ? [ctx.agentId] : []), ...consulted];
  if (told.length) effects.push({ type: 'agents.ended', agentIds: [...new Set(told)], reason });
  if (ctx.agentId) effects.push({ type: 'agents.release', agentId: ctx.agentId });
  for (const a of consulted) effects.push({ type: 'agents.release', agentId: a });
  if (ctx.mediaNodeId) effects.push({ type: 'media.close', nodeId: ctx.mediaNodeId, reason });
  if (ctx.queue && ctx.queue.leftAt === undefined) {
    effects.push({ type: 'queue.exit', teams: ctx.queue.teams });
    // The agents it was ringing are free for the next caller.
    if (ctx.routing.offer) effects.push({ type: 'queue.pump' });
  }
  effects.push({ type: 'queue.leave' }, { type: 'call.ended', reason });
  return effects;
}

export type EndSpec = {
  reason: EndReason;
  endedBy: CallOutcome['endedBy'];
  graph?: 'reject' | 'terminate' | undefined;
  errorCode?: number | undefined;
  detail?: string | undefined;
};

/** Meta's terminate webhook: the caller hung up, or Meta ended the call with an error code. */
export function endSpecForTerminate(e: Ev<'WA.TERMINATE'>, ctx: CallContext): EndSpec {
  const live = ctx.times.liveAt !== undefined;
  if (e.status === 'FAILED' && e.errorCode !== undefined) {
    return {
      reason: reasonForMetaError(e.errorCode),
      endedBy: 'meta',
      errorCode: e.errorCode,
      detail: e.errorTitle?.slice(0, 200),
    };
  }
  if (live) return { reason: 'completed', endedBy: 'caller' };
  // Hung up during the goodbye: the outcome is the goodbye's (no choice, waited too long); nothing more to Meta.
  if (ctx.outcome.leaving) return { reason: ctx.outcome.leaving, endedBy: 'caller' };
  // Answered by the business (menu, queue, or an agent still connecting): nothing more goes to Meta.
  if (ctx.times.answeredAt !== undefined) return { reason: 'abandoned', endedBy: 'caller' };
  return { reason: 'caller-hung-up', endedBy: 'caller' };
}

export type Args = { context: CallContext; event: CallEvent };
/** `assign` for the call machine's context: the groups' fields `f` gives are replaced, the others kept. */
export const set = (f: (a: Args) => ContextPatch) =>
  assign<CallContext, CallEvent, undefined, CallEvent, never>((a) => merged(a.context, f(a as Args)));
/** Effects computed from the context and event, carried as data by the `effect` action. */
export const fx = (f: (a: Args) => Effect | Effect[]) => ({ type: 'effect' as const, params: f });
/** {@link Args} for one event type. */
export type ArgsOf<T extends CallEvent['type']> = { context: CallContext; event: Ev<T> };
/** {@link fx} for a transition on one event type. */
export const fxOn = <T extends CallEvent['type']>(f: (a: ArgsOf<T>) => Effect | Effect[]) =>
  fx(f as unknown as (a: Args) => Effect | Effect[]);
/** `assign` typed for the call machine, so fragments defined with it fit any of its transitions. */
export const assignOn = <T extends CallEvent['type']>(fn: (a: ArgsOf<T>) => ContextPatch) =>
  set(fn as unknown as (a: Args) => ContextPatch);

/** Ends the call: effects first (computed from the context before it changes), then the recorded outcome. */
export function endWith(spec: EndSpec | ((args: Args) => EndSpec)) {
  const specOf = (args: Args) => (typeof spec === 'function' ? spec(args) : spec);
  return [
    {
      type: 'effect' as const,
      params: (args: Args) => {
        const s = specOf(args);
        return endingEffects(args.context, s.reason, s);
      },
    },
    set((args) => {
      const s = specOf(args);
      return {
        outcome: { reason: s.reason, endedBy: s.endedBy, errorCode: s.errorCode, detail: s.detail },
        times: { endedAt: args.event.at },
      };
    }),
  ];
}

/**
 * After pre_accept was sent Meta's call must be terminated; before, it is rejected. A business-initiated call is
 * terminated once Meta gave it an id (before that, the `connect` job ends it when Meta answers).
 */
export const answeredGraph = (ctx: CallContext): 'terminate' | 'reject' | undefined => {
  if (ctx.line.direction === 'outbound') return ctx.outbound?.metaCallId ? 'terminate' : undefined;
  return ctx.bridge.answerReady ? 'terminate' : 'reject';
};

export const endMissed = endWith({ reason: 'missed', endedBy: 'system', graph: 'reject' });

/** Meta's offer cannot be answered (broken SDP): the call is rejected before anyone hears anything. */
export const rejectBadOffer = {
  target: 'ended' as const,
  actions: endWith(({ event }) => ({
    reason: 'media-failed',
    endedBy: 'system',
    graph: 'reject',
    detail: `unusable offer: ${(event as Ev<'WA.BAD_OFFER'>).reason}`.slice(0, 200),
  })),
};

export const isTimer = (event: CallEvent, t: TimerName) => event.type === 'TIMER.FIRED' && event.timer === t;

const endMaxDuration = endWith({ reason: 'max-duration', endedBy: 'system', graph: 'terminate' });
/** A live call (talking, on hold, transferring, consulting) reached `maxCallMs`: its `max-duration` timer fired. */
export const maxDurationFired = {
  guard: ({ event }: Args) => isTimer(event, 'max-duration'),
  target: 'ended' as const,
  actions: endMaxDuration,
};
/** The same deadline found passed by a sweep (the timer job was lost). */
export const maxDurationSwept = {
  guard: ({ context, event }: Args) => context.times.maxEndAt !== undefined && event.at >= context.times.maxEndAt,
  target: 'ended' as const,
  actions: endMaxDuration,
};

/** Once accept is requested, Meta's 200 must come within this (the Graph job's retries included). */
const acceptConfirmMs = (ctx: CallContext) => ctx.limits.acceptDeadlineMs * 3;
/** The accept request's own deadline: `accept-deadline` with token `confirm`. */
export const acceptConfirmTimer = ({ context }: Args): Effect =>
  timer('accept-deadline', acceptConfirmMs(context), 'confirm');
const isAcceptConfirmOver = ({ context, event }: Args) =>
  context.bridge.acceptRequested &&
  ((event.type === 'TIMER.FIRED' && event.timer === 'accept-deadline' && event.token === 'confirm') ||
    (event.type === 'TIMER.SWEEP' &&
      context.times.acceptDeadlineAt !== undefined &&
      event.at >= context.times.acceptDeadlineAt + acceptConfirmMs(context)));
/** Accept was requested but Meta never confirmed it (a lost or stuck Graph job): the call ends with a reason. */
export const acceptNeverConfirmed = {
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
export const acceptDeadlineTransitions = (guard: (a: Args) => boolean) => [
  {
    // The WhatsApp leg is up but the agent leg or pre_accept's 200 is late: accept anyway (fallback).
    guard: (a: Args) => guard(a) && a.context.bridge.waConnected && !a.context.bridge.acceptRequested,
    actions: [
      set(() => ({ bridge: { acceptRequested: true, acceptFallback: true } })),
      { type: 'effect' as const, params: { type: 'graph.accept' } as Effect },
      { type: 'effect' as const, params: acceptConfirmTimer },
    ],
  },
  {
    guard: (a: Args) => guard(a) && !a.context.bridge.waConnected,
    target: 'ended' as const,
    actions: endWith(({ context }) => ({
      reason: 'media-failed',
      endedBy: 'system',
      graph: answeredGraph(context),
      detail: context.bridge.answerReady
        ? 'WhatsApp media did not connect in time'
        : 'the bridge did not answer in time',
    })),
  },
];

/** The bridged agent's tab went away: wait `leaveGraceMs` for a reload to bring their media back. */
export const agentLeft = {
  guard: 'isBridgedAgent' as const,
  actions: [
    set(({ context }) => ({ bridge: { agentLeft: true, agentLegDown: true, graceSeq: context.bridge.graceSeq + 1 } })),
    {
      type: 'effect' as const,
      params: ({ context }: Args) => timer('agent-grace', context.limits.leaveGraceMs, context.bridge.graceSeq),
    },
  ],
};

/** The bridged agent's media is up (again). */
export const agentBack = set(() => ({ bridge: { agentConnected: true, agentLegDown: false, agentLeft: false } }));

export const graceOver = ({ context, event }: Args) =>
  isTimer(event, 'agent-grace') &&
  context.bridge.agentLegDown &&
  event.type === 'TIMER.FIRED' &&
  event.token === String(context.bridge.graceSeq);

/** Before live: the agent who left is not coming back, so the call they were connecting is given up. */
export const leftWhileConnecting = {
  guard: (a: Args) => graceOver(a) && a.context.bridge.agentLeft,
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: 'rejected', endedBy: 'agent', graph: answeredGraph(context) })),
};

export const offerWithout = (ctx: CallContext, agentId: string): CallOffer => ({
  ...ctx.routing.offer!,
  agentIds: ctx.routing.offer!.agentIds.filter((a) => a !== agentId),
});

export const isLastOffered = ({ context, event }: Args) =>
  'agentId' in event &&
  !!context.routing.offer?.agentIds.includes(event.agentId) &&
  context.routing.offer.agentIds.filter((a) => a !== event.agentId).length === 0;

/**
 * The caller waits with the hold music (the number's queue music, else the shipped loop) while an agent holds,
 * transfers or consults: the player is routed to the caller by the caller of this helper.
 */
export const playHoldMusic = (ctx: CallContext, playId: string): Effect => ({
  type: 'media.play',
  nodeId: ctx.mediaNodeId!,
  playId,
  clips: [ctx.flow?.queue.music ?? 'music'],
  loop: true,
});

/**
 * The business-answered call (`answer: "business"`), shared pieces: Meta's one pre_accept and one accept as soon as
 * the WhatsApp leg is answered and connected, the player, and the polite goodbye. The states are in call.ivr.ts,
 * call.queue.ts and call.hold.ts. Pure: transitions return effects as data; the deadlines are timer effects.
 */
import type { Effect } from './call.effects.js';
import { ANSWER_TOKEN } from './call.timers.js';
import { type Args, agentLeg, endWith, fx, isTimer, rejectBadOffer, set, timer } from './call.transitions.js';
import type { BusinessFlow, CallContext, EndReason, Ev } from './call.types.js';

/** The goodbye prompt reports its end; if it does not, the call is terminated after this long. */
const GOODBYE_DEADLINE_MS = 15_000;
/** A menu whose end is never reported still times out after this long (a prompt longer than this is cut short). */
export const PROMPT_DEADLINE_MS = 60_000;
export const flowOf = (ctx: CallContext): BusinessFlow => ctx.flow!;
export const node = (ctx: CallContext) => ctx.mediaNodeId!;
export const play = (
  ctx: CallContext,
  playId: string,
  clips: string[],
  loop = false,
): Extract<Effect, { type: 'media.play' }> => ({
  type: 'media.play',
  nodeId: node(ctx),
  playId,
  clips,
  ...(loop ? { loop: true } : {}),
});
/** The caller hears the call's player (nothing is routed to them by a bridge made without an agent). */
export const hearPlayer = (ctx: CallContext): Effect => ({
  type: 'media.route',
  nodeId: node(ctx),
  routes: { caller: ['player'] },
});
export const music = (ctx: CallContext) => play(ctx, 'music', [flowOf(ctx).queue.music], true);
/**
 * A prompt that runs straight into the queue music: the media node starts the loop itself in the frame after the
 * prompt's last (a PLAY_ENDED → music round trip left the caller about 450 ms of silence).
 */
export const promptThenMusic = (ctx: CallContext, playId: string, clips: string[]): Effect => ({
  ...play(ctx, playId, clips),
  thenLoop: [flowOf(ctx).queue.music],
});

export const isBusiness = ({ context }: Args) => context.flow !== undefined;
export const answered = ({ context }: Args) => context.times.answeredAt !== undefined;

/** What the root entry does for a business call: the bridge at once, with a deadline for Meta's accept. */
export function businessStartEffects(ctx: CallContext): Effect[] {
  return [
    { type: 'media.createBridge', nodeId: node(ctx) },
    { type: 'call.created' },
    timer('accept-deadline', ctx.limits.acceptDeadlineMs, ANSWER_TOKEN),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Answering: pre_accept once our answer exists, accept once the WhatsApp leg is connected. Shared by ivr and queued.

export const answering = {
  'MEDIA.WA_ANSWER': {
    guard: ({ context }: Args) => !context.bridge.answerReady,
    actions: [set(() => ({ bridge: { answerReady: true } })), fx(() => ({ type: 'graph.preAccept' }))],
  },
  'WA.BAD_OFFER': rejectBadOffer,
};

export const answerDeadline = ({ context, event }: Args) =>
  context.times.answeredAt === undefined &&
  isTimer(event, 'accept-deadline') &&
  (event as Ev<'TIMER.FIRED'>).token === ANSWER_TOKEN;
export const answerSweep = ({ context, event }: Args) =>
  context.times.answeredAt === undefined && event.at >= context.times.createdAt + context.limits.acceptDeadlineMs;

/** Meta's accept, exactly once: pre_accept's 200 is in and the WhatsApp leg is connected. */
export const acceptOnce = {
  guard: ({ context }: Args) =>
    !context.bridge.acceptRequested &&
    context.bridge.preAcceptDone &&
    context.bridge.waConnected &&
    context.bridge.answerReady,
  actions: [set(() => ({ bridge: { acceptRequested: true } })), fx(() => ({ type: 'graph.accept' }))],
};

export const isAcceptDone = ({ context, event }: Args) =>
  event.type === 'GRAPH.DONE' && event.action === 'accept' && context.times.answeredAt === undefined;

// ---------------------------------------------------------------------------------------------------------------
// Goodbye: a polite prompt, then terminate. Shared by ivr (no choice) and queued (waited too long).

export function goodbye(reason: EndReason, clips: (ctx: CallContext) => string[]) {
  return [
    set(() => ({ outcome: { leaving: reason } })),

    fx(({ context }) => [play(context, 'goodbye', clips(context)), timer('goodbye', GOODBYE_DEADLINE_MS, '1')]),
  ];
}

const goodbyeOver = {
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: context.outcome.leaving!, endedBy: 'system', graph: 'terminate' })),
};
export const leavingTransitions = {
  'MEDIA.PLAY_ENDED': {
    guard: ({ context, event }: Args) =>
      !!context.outcome.leaving && (event as Ev<'MEDIA.PLAY_ENDED'>).playId === 'goodbye',
    ...goodbyeOver,
  },
  timer: {
    guard: ({ context, event }: Args) => !!context.outcome.leaving && isTimer(event, 'goodbye'),
    ...goodbyeOver,
  },
};

/** The agent's browser leg on the call's bridge. */
export const leg = (ctx: CallContext) => agentLeg(ctx.agentId!);
/** Agent and caller hear each other. */
export const talking = (ctx: CallContext): Record<string, string[]> => ({ caller: [leg(ctx)], [leg(ctx)]: ['caller'] });

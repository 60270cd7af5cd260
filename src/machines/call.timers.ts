/**
 * Timer tokens of the business-answered call and the cancels of whatever may still be waiting when it ends. Kept
 * apart from `call.queue.ts` so the shared ending effects (`call.transitions.ts`) can use them without a cycle.
 */
import type { Effect, TimerName } from './call.effects.js';
import type { CallContext } from './call.types.js';

const cancel = (timer: TimerName, token: string | number): Effect => ({
  type: 'timer.cancel',
  timer,
  token: String(token),
});

/** The token of the accept deadline while the business answers (before any agent). */
export const ANSWER_TOKEN = 'w';
/** The accept deadline token of the agent who accepted from the queue (one per routing round). */
export const agentAcceptToken = (ctx: CallContext) => `q${ctx.routing.seq}`;
/** `maxWaitSeconds` in the first queue, then again in the overflow teams' queue. */
export const maxWaitToken = (ctx: CallContext) => (ctx.queue?.overflowed ? '2' : '1');
export const holdToken = (ctx: CallContext) => `${ctx.live.hold?.seq ?? 0}`;

/** Timers a business call may still have waiting (IVR, queue, goodbye, hold); removed when it ends. */
export function businessTimerCancels(ctx: CallContext): Effect[] {
  const out: Effect[] = [];
  if (ctx.live.hold?.since !== undefined) out.push(cancel('hold-alert', holdToken(ctx)));
  if (!ctx.flow) return out;
  if (ctx.times.answeredAt === undefined) out.push(cancel('accept-deadline', ANSWER_TOKEN));
  if (ctx.ivr?.attempt > 0 && ctx.queue === undefined) {
    out.push(cancel('ivr-timeout', ctx.ivr.attempt), cancel('ivr-timeout', `${ctx.ivr.attempt}.s`));
  }
  if (ctx.queue && ctx.queue.leftAt === undefined) {
    out.push(cancel('max-wait', maxWaitToken(ctx)), cancel('announce', ctx.queue.announceSeq));
    if (ctx.times.acceptedAt !== undefined) out.push(cancel('accept-deadline', agentAcceptToken(ctx)));
    if (ctx.routing.offer) out.push(cancel('ring-expired', ctx.routing.offer.seq));
  }
  if (ctx.outcome.leaving) out.push(cancel('goodbye', '1'));
  return out;
}

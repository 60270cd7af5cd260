/**
 * The business-initiated call's own states (an agent calls a WhatsApp user who gave permission):
 *
 * ```
 * dialing ─► calling ─► live ─► ended
 * ```
 *
 * `dialing`: the media node makes the WhatsApp leg's complete offer (MEDIA.WA_OFFER). `calling`: Graph `connect`
 * went out; Meta's answer (WA.ANSWER) is applied to the leg; `RINGING`, then `ACCEPTED` (→ live) or `REJECTED`,
 * or a terminate, decide. The answer deadline (`answer-deadline`) bounds both. From `live` on, the call is like any
 * other. Pure: effects as data, like the rest of the machine.
 */
import { plainMetaError } from '../shared/meta-errors.js';
import type { Effect } from './call.effects.js';
import { recordingEntry } from './call.recording.js';
import { type Args, cancel, type EndSpec, endWith, isTimer, set, timer } from './call.transitions.js';

import { type CallContext, type Ev, reasonForMetaError } from './call.types.js';

const progress = (
  ctx: CallContext,
  status: 'dialing' | 'ringing' | 'answered' | 'failed',
  message?: string,
): Effect => ({
  type: 'agents.progress',
  agentId: ctx.agentId!,
  status,
  ...(message ? { message } : {}),
});

/** Terminate at Meta only once Meta knows the call (connect returned its id). */
const metaGraph = (ctx: CallContext): 'terminate' | undefined => (ctx.outbound?.metaCallId ? 'terminate' : undefined);

/** The effects that start a business-initiated call (the machine's entry when `direction` is outbound). */
export function outboundEntryEffects(ctx: CallContext): Effect[] {
  return [
    { type: 'call.created' },
    timer('answer-deadline', ctx.times.answerDeadlineAt - ctx.times.createdAt, 'a'),
    { type: 'media.createOutbound', nodeId: ctx.mediaNodeId!, agentId: ctx.agentId! },
    progress(ctx, 'dialing'),
  ];
}

/** The user did not pick up in time: the call ends `not-answered`. */
const noAnswer = {
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: 'not-answered', endedBy: 'system', graph: metaGraph(context) })),
};

/** The dialing agent gives up before the user answered. */
const agentCancels = {
  guard: 'isBridgedAgent' as const,
  target: 'ended' as const,
  actions: endWith(({ context }) => ({ reason: 'rejected', endedBy: 'agent', graph: metaGraph(context) })),
};

const deadlineTransitions = {
  'TIMER.FIRED': { guard: ({ event }: Args) => isTimer(event, 'answer-deadline'), ...noAnswer },
  'TIMER.SWEEP': { guard: ({ context, event }: Args) => event.at >= context.times.answerDeadlineAt, ...noAnswer },
};

/** Meta's terminate before the user accepted: not answered, or Meta's error. */
function endSpecBeforeAnswer(e: Ev<'WA.TERMINATE'>): EndSpec {
  if (e.status === 'FAILED' && e.errorCode !== undefined)
    return {
      reason: reasonForMetaError(e.errorCode),
      endedBy: 'meta',
      errorCode: e.errorCode,
      detail: plainMetaError(e.errorCode, e.errorTitle ?? 'WhatsApp ended the call.').slice(0, 200),
    };
  return { reason: 'not-answered', endedBy: 'caller' };
}

/** The states; spread into the call machine's `states`. */
export const outboundStates = {
  dialing: {
    on: {
      'MEDIA.WA_OFFER': {
        target: 'calling' as const,
        actions: { type: 'effect' as const, params: { type: 'graph.connect' } as Effect },
      },
      'AGENT.HANGUP': agentCancels,
      ...deadlineTransitions,
    },
  },
  calling: {
    on: {
      'GRAPH.DONE': {
        guard: ({ event }: Args) => event.type === 'GRAPH.DONE' && event.action === 'connect' && !!event.metaCallId,
        actions: set(({ context, event }) => ({
          outbound: { ...context.outbound!, metaCallId: (event as Ev<'GRAPH.DONE'>).metaCallId },
        })),
      },
      'GRAPH.FAILED': {
        guard: ({ event }: Args) => event.type === 'GRAPH.FAILED' && event.action === 'connect',
        target: 'ended' as const,
        actions: [
          {
            type: 'effect' as const,
            params: ({ context, event }: Args): Effect =>
              progress(context, 'failed', plainMetaError((event as Ev<'GRAPH.FAILED'>).metaCode)),
          },
          ...endWith(({ event }) => {
            const e = event as Ev<'GRAPH.FAILED'>;
            return {
              reason: e.metaCode === undefined ? 'graph-failed' : reasonForMetaError(e.metaCode),
              endedBy: 'meta',
              errorCode: e.metaCode,
              detail: `connect: ${plainMetaError(e.metaCode, e.message)}`.slice(0, 200),
            };
          }),
        ],
      },
      'WA.ANSWER': {
        guard: ({ context }: Args) => !context.bridge.answerReady,
        actions: [
          set(() => ({ bridge: { answerReady: true } })),
          {
            type: 'effect' as const,
            params: ({ context }: Args): Effect => ({ type: 'media.applyAnswer', nodeId: context.mediaNodeId! }),
          },
        ],
      },
      'WA.STATUS': [
        {
          guard: ({ event }: Args) => event.type === 'WA.STATUS' && event.status.toUpperCase() === 'RINGING',
          actions: [
            set(({ context, event }) => ({ outbound: { ...context.outbound!, ringingAt: event.at } })),
            { type: 'effect' as const, params: ({ context }: Args): Effect => progress(context, 'ringing') },
          ],
        },
        {
          guard: ({ event }: Args) => event.type === 'WA.STATUS' && event.status.toUpperCase() === 'ACCEPTED',
          target: 'live' as const,
          actions: [
            set(({ context, event }) => ({
              times: { liveAt: event.at, maxEndAt: event.at + context.limits.maxCallMs },
            })),
            ...recordingEntry,
            {
              type: 'effect' as const,
              params: ({ context }: Args): Effect[] => [
                cancel('answer-deadline', 'a'),
                { type: 'media.startAgentAudio', nodeId: context.mediaNodeId! },
                { type: 'agents.live', agentId: context.agentId! },
                progress(context, 'answered'),
                timer('max-duration', context.limits.maxCallMs, '1'),
              ],
            },
          ],
        },
        {
          guard: ({ event }: Args) => event.type === 'WA.STATUS' && event.status.toUpperCase() === 'REJECTED',
          target: 'ended' as const,
          // A terminate webhook follows; Meta already ended the call.
          actions: endWith({ reason: 'declined', endedBy: 'caller' }),
        },
      ],
      'WA.TERMINATE': {
        target: 'ended' as const,
        actions: endWith(({ event }) => endSpecBeforeAnswer(event as Ev<'WA.TERMINATE'>)),
      },
      'AGENT.HANGUP': agentCancels,
      ...deadlineTransitions,
    },
  },
};

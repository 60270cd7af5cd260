/**
 * Ringing agents (a call answered by an agent, not the business): `ringing` asks routing for agents, and
 * `agent-offered` rings them until one accepts, all decline or go away, the offer expires or the caller's answer
 * deadline passes.
 */
import type { Effect } from './call.effects.js';
import {
  type Args,
  type ArgsOf,
  assignOn,
  cancel,
  endMissed,
  fx,
  fxOn,
  isLastOffered,
  isTimer,
  offerWithout,
  rejectBadOffer,
  set,
  timer,
  union,
  withdraw,
} from './call.transitions.js';

const isCurrentRouting = 'isCurrentRouting' as const;
const isOffered = 'isOffered' as const;
const passedAnswerDeadline = ({ context, event }: Args) => event.at >= context.times.answerDeadlineAt;
const answerDeadlineFired = ({ event }: Args) => isTimer(event, 'answer-deadline');
const expire = fx(({ context }) => withdraw(context.routing.offer?.agentIds ?? [], 'expired'));

export const ringingState = {
  entry: [
    set(({ context }) => ({ routing: { seq: context.routing.seq + 1, offer: undefined } })),
    fx(({ context }) => ({ type: 'routing.request', seq: context.routing.seq })),
  ],
  on: {
    'ROUTING.OFFER': {
      guard: isCurrentRouting,
      target: 'agent-offered' as const,
      actions: [
        assignOn<'ROUTING.OFFER'>(({ context, event }) => {
          const ringMs = event.ringTimeoutMs;
          return {
            routing: {
              offer: {
                seq: event.seq,
                agentIds: event.agentIds,
                policy: event.policy,
                tier: event.tier,
                expiresAt: ringMs ? Math.min(event.at + ringMs, context.times.answerDeadlineAt) : undefined,
              },
              offeredAgents: union(context.routing.offeredAgents, event.agentIds),
              tried: [...(event.resetTried ? [] : context.routing.tried), ...event.agentIds],
            },
            times: { offeredAt: context.times.offeredAt ?? event.at },
          };
        }),
        fx(({ context, event }) => {
          const offer = context.routing.offer!;
          const deadlineAt = offer.expiresAt ?? context.times.answerDeadlineAt;
          const effects: Effect[] = [{ type: 'agents.offer', agentIds: offer.agentIds, deadlineAt }];
          if (offer.expiresAt !== undefined && offer.expiresAt < context.times.answerDeadlineAt) {
            effects.push(timer('ring-expired', offer.expiresAt - event.at, offer.seq));
          }
          return effects;
        }),
      ],
    },
    'ROUTING.NO_AGENTS': {
      guard: isCurrentRouting,
      // Agents becoming available send CALL.REROUTE; this timer is the safety net.
      actions: fxOn<'ROUTING.NO_AGENTS'>(({ event }) => timer('reroute', 5000, event.seq)),
    },
    'CALL.REROUTE': { target: 'ringing' as const, reenter: true },
    'TIMER.FIRED': [
      {
        guard: ({ context, event }: ArgsOf<'TIMER.FIRED'>) =>
          event.timer === 'reroute' && event.token === String(context.routing.seq),
        target: 'ringing' as const,
        reenter: true,
      },
      { guard: answerDeadlineFired, target: 'ended' as const, actions: endMissed },
    ],
    'TIMER.SWEEP': { guard: passedAnswerDeadline, target: 'ended' as const, actions: endMissed },
    'WA.BAD_OFFER': rejectBadOffer,
  },
};

const withdrawOne = (reason: 'declined' | 'unavailable') =>
  fxOn<'AGENT.DECLINE' | 'AGENT.UNAVAILABLE'>(({ event }) => withdraw([event.agentId], reason));

export const agentOfferedState = {
  on: {
    'ROUTING.OFFER': {
      // ring-all: agents who became available while it rings are added to the offer.
      guard: ({ context, event }: ArgsOf<'ROUTING.OFFER'>) =>
        event.seq === context.routing.seq && context.routing.offer?.policy === 'ring-all',
      actions: [
        fxOn<'ROUTING.OFFER'>(({ context, event }) => {
          const added = event.agentIds.filter((a) => !context.routing.offer?.agentIds.includes(a));
          const deadlineAt = context.routing.offer?.expiresAt ?? context.times.answerDeadlineAt;
          return added.length ? [{ type: 'agents.offer', agentIds: added, deadlineAt }] : [];
        }),
        assignOn<'ROUTING.OFFER'>(({ context, event }) => ({
          routing: {
            offer: { ...context.routing.offer!, agentIds: union(context.routing.offer!.agentIds, event.agentIds) },
            offeredAgents: union(context.routing.offeredAgents, event.agentIds),
          },
        })),
      ],
    },
    'ROUTING.NO_AGENTS': {},
    'CALL.REROUTE': {
      guard: ({ context }: Args) => context.routing.offer?.policy === 'ring-all',
      actions: [
        set(({ context }) => ({ routing: { seq: context.routing.seq + 1 } })),
        fx(({ context }) => ({ type: 'routing.request', seq: context.routing.seq })),
      ],
    },
    'AGENT.ACCEPT': {
      guard: isOffered,
      target: 'bridging' as const,
      actions: [
        fxOn<'AGENT.ACCEPT'>(({ context, event }) => [
          // The bridge first: it is on the critical path to the caller hearing the agent.
          { type: 'media.createBridge', nodeId: event.mediaNodeId, agentId: event.agentId },
          ...withdraw(context.routing.offer!.agentIds, 'taken', event.agentId),
          cancel('answer-deadline', 'a'),
          ...(context.routing.offer?.expiresAt !== undefined
            ? [cancel('ring-expired', context.routing.offer.seq)]
            : []),
          { type: 'queue.leave' },
          timer('accept-deadline', context.limits.acceptDeadlineMs, '1'),
        ]),
        assignOn<'AGENT.ACCEPT'>(({ context, event }) => ({
          agentId: event.agentId,
          mediaNodeId: event.mediaNodeId,
          // The offer is over: everyone offered got call:taken above.
          routing: { offer: undefined },
          times: { acceptedAt: event.at, acceptDeadlineAt: event.at + context.limits.acceptDeadlineMs },
        })),
      ],
    },
    'AGENT.DECLINE': [
      {
        guard: isLastOffered,
        target: 'ringing' as const,
        actions: [
          assignOn<'AGENT.DECLINE'>(({ context, event }) => ({
            routing: { declined: [...context.routing.declined, event.agentId] },
          })),
          withdrawOne('declined'),
        ],
      },
      {
        guard: isOffered,
        actions: [
          assignOn<'AGENT.DECLINE'>(({ context, event }) => ({
            routing: {
              declined: [...context.routing.declined, event.agentId],
              offer: offerWithout(context, event.agentId),
            },
          })),
          withdrawOne('declined'),
        ],
      },
    ],
    'AGENT.UNAVAILABLE': [
      { guard: isLastOffered, target: 'ringing' as const, actions: withdrawOne('unavailable') },
      {
        guard: isOffered,
        actions: [
          assignOn<'AGENT.UNAVAILABLE'>(({ context, event }) => ({
            routing: { offer: offerWithout(context, event.agentId) },
          })),
          withdrawOne('unavailable'),
        ],
      },
    ],
    'TIMER.FIRED': [
      {
        guard: ({ context, event }: ArgsOf<'TIMER.FIRED'>) =>
          isTimer(event, 'ring-expired') && event.token === String(context.routing.offer?.seq),
        target: 'ringing' as const,
        actions: expire,
      },
      { guard: answerDeadlineFired, target: 'ended' as const, actions: endMissed },
    ],
    'TIMER.SWEEP': [
      { guard: passedAnswerDeadline, target: 'ended' as const, actions: endMissed },
      {
        guard: ({ context, event }: Args) =>
          context.routing.offer?.expiresAt !== undefined && event.at >= context.routing.offer.expiresAt,
        target: 'ringing' as const,
        actions: expire,
      },
    ],
  },
};

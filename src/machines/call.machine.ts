import { assign, setup } from 'xstate';
import { businessStartEffects } from './call.business.js';
import { callbackEntryEffects, callbackKeyTransition, callbackQueuedState } from './call.callback.js';
import { consultingState, startConsult } from './call.consult.js';
import type { Effect } from './call.effects.js';
import { holdAlert, holdTransition, isAgentLeg, onCall, resumeTransition } from './call.hold.js';
import { ivrState } from './call.ivr.js';
import { monitor } from './call.monitor.js';
import { outboundEntryEffects, outboundStates } from './call.outbound.js';
import { businessBridging, businessLive, queuedState } from './call.queue.js';
import { initialRecording, recordingEntry, recordingTransitions } from './call.recording.js';
import { startTransfer, transferringState } from './call.transfer.js';
import {
  acceptConfirmTimer,
  acceptDeadlineTransitions,
  acceptNeverConfirmed,
  agentLeft,
  answeredGraph,
  cancel,
  endMissed,
  endSpecForTerminate,
  endWith,
  isLastOffered,
  isTimer,
  leftWhileConnecting,
  offerWithout,
  timer,
  union,
  withdraw,
} from './call.transitions.js';
import type { CallContext, CallEvent, CallInput, Ev } from './call.types.js';

/**
 * transition() builds a throwaway actor from the machine, with no input, for every event it applies. Its context
 * cannot be made; one error built once says so, where reading the missing input would capture a stack each time.
 */
const NO_INPUT = new Error('the call machine starts from a CallInput');
function noInput(): never {
  throw NO_INPUT;
}

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
  context: ({ input = noInput() }) => ({
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
    agentId: input.outbound?.agentId,
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
    direction: input.direction ?? 'inbound',
    recording: initialRecording(input.record),
    callback: input.callback
      ? { fromCallId: input.callback.fromCallId, dialDeadlineMs: input.callback.dialDeadlineMs }
      : undefined,
    outbound:
      input.outbound || input.callback
        ? { to: input.outbound?.to ?? input.caller.waId ?? '', metaCallId: undefined, ringingAt: undefined }
        : undefined,
    flow: input.business?.flow,
    mediaNodeId: input.business?.mediaNodeId ?? input.outbound?.mediaNodeId,
    answeredAt: undefined,
    ivr: { attempt: 0, choice: undefined, choiceAt: undefined },
    queue: input.callback
      ? {
          teams: input.callback.teams,
          priority: input.callback.priority,
          enteredAt: input.callback.enteredAt,
          leftAt: undefined,
          overflowed: false,
          announceSeq: 0,
        }
      : input.business?.flow.ivr
        ? undefined
        : input.business && {
            teams: input.business.flow.queue.teams,
            priority: input.business.flow.queue.priority,
            enteredAt: input.at,
            leftAt: undefined,
            overflowed: false,
            announceSeq: 0,
          },
    leaving: undefined,
    hold: { since: undefined, totalMs: 0, seq: 0 },
    holdAlertMs: input.holdAlertMs ?? 60_000,
  }),
  entry: {
    type: 'effect',
    params: ({ context }) =>
      context.callback
        ? callbackEntryEffects(context)
        : context.direction === 'outbound'
          ? outboundEntryEffects(context)
          : context.flow
            ? businessStartEffects(context)
            : [
                { type: 'call.created' },
                timer('answer-deadline', context.answerDeadlineAt - context.createdAt, 'a'),
                { type: 'queue.join' },
              ],
  },
  initial: 'start',
  states: {
    // Transient: business-initiated calls dial; `answer: "business"` calls go to the menu (or straight to the
    // queue); the others ring agents.
    start: {
      always: [
        { guard: ({ context }) => context.callback !== undefined, target: 'callback-queued' },
        { guard: ({ context }) => context.direction === 'outbound', target: 'dialing' },
        { guard: ({ context }) => context.flow?.ivr !== undefined, target: 'ivr' },
        { guard: ({ context }) => context.flow !== undefined, target: 'queued' },
        { target: 'ringing' },
      ],
    },
    ivr: ivrState,
    // The callback key while waiting: a callback task takes the caller's place (call.callback.ts).
    queued: { ...queuedState, on: { ...queuedState.on, 'MEDIA.DTMF': callbackKeyTransition } },
    ...outboundStates,
    'callback-queued': callbackQueuedState,
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
      always: businessLive,
      on: {
        'AGENT.HANGUP': [
          businessBridging.hangup,
          {
            // The agent gave up before the caller was connected.
            guard: 'isBridgedAgent',
            target: 'ended',
            actions: endWith(({ context }) => ({
              reason: 'rejected',
              endedBy: 'agent',
              graph: answeredGraph(context),
            })),
          },
        ],
        'AGENT.LEFT': agentLeft,
        'MEDIA.WA_ANSWER': {
          target: 'pre-accepted',
          actions: [assign({ answerReady: true }), { type: 'effect', params: { type: 'graph.preAccept' } }],
        },
        'TIMER.FIRED': [
          ...businessBridging.timer,
          leftWhileConnecting,
          ...acceptDeadlineTransitions(({ event }) => isTimer(event, 'accept-deadline')),
        ],
        'TIMER.SWEEP': [
          businessBridging.sweep,
          ...acceptDeadlineTransitions(
            ({ context, event }) => context.acceptDeadlineAt !== undefined && event.at >= context.acceptDeadlineAt,
          ),
        ],
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
                  { type: 'media.startAgentAudio', nodeId: context.mediaNodeId! },
                  { type: 'agents.live', agentId: context.agentId! },
                  timer('max-duration', context.maxCallMs, '1'),
                  // After the audio starts: one more Redis round trip before it would clip the first words.
                  cancel('accept-deadline', 'confirm'),
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
      entry: recordingEntry,
      on: {
        ...onCall,
        ...recordingTransitions,
        'AGENT.HOLD': holdTransition,
        'AGENT.TRANSFER': startTransfer,
        'SUP.MONITOR': monitor,
        'AGENT.CONSULT': startConsult,
      },
    },
    'on-hold': {
      on: {
        ...onCall,
        'AGENT.RESUME': resumeTransition,
        'TIMER.FIRED': [holdAlert, ...onCall['TIMER.FIRED']],
      },
    },
    transferring: transferringState,
    consulting: consultingState,
    ended: {
      type: 'final',
    },
  },
  on: {
    // Handled in every state but `ended` (a final state takes no events).
    'WA.TERMINATE': {
      target: '.ended',
      actions: endWith(({ context, event }) => endSpecForTerminate(event as Ev<'WA.TERMINATE'>, context)),
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
    // A business-answered call's agent is one of its browser legs: its leg events mean the same as the agent's.
    'MEDIA.LEG_CONNECTED': {
      guard: ({ context, event }) =>
        isAgentLeg(context, event.legId) && (!context.agentConnected || context.agentLegDown),
      actions: assign({ agentConnected: true, agentLegDown: false, agentLeft: false }),
    },
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

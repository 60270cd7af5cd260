import { setup } from 'xstate';
import { businessStartEffects } from './call.business.js';
import { callbackEntryEffects, callbackKeyTransition, callbackQueuedState } from './call.callback.js';
import { consultingState, startConsult } from './call.consult.js';
import { initialContext } from './call.context.js';
import type { Effect } from './call.effects.js';
import { holdAlert, holdTransition, isAgentLeg, onCall, resumeTransition } from './call.hold.js';
import { ivrState } from './call.ivr.js';
import { monitor } from './call.monitor.js';
import { outboundEntryEffects, outboundStates } from './call.outbound.js';
import { businessBridging, businessLive, queuedState } from './call.queue.js';
import { recordingEntry, recordingTransitions } from './call.recording.js';
import { agentOfferedState, ringingState } from './call.ringing.js';
import { startTransfer, transferringState } from './call.transfer.js';
import {
  acceptConfirmTimer,
  acceptDeadlineTransitions,
  acceptNeverConfirmed,
  agentBack,
  agentLeft,
  answeredGraph,
  assignOn,
  cancel,
  endSpecForTerminate,
  endWith,
  isTimer,
  leftWhileConnecting,
  set,
  timer,
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
      'agentId' in event &&
      typeof event.agentId === 'string' &&
      !!context.routing.offer?.agentIds.includes(event.agentId),
    isBridgedAgent: ({ context, event }) => 'agentId' in event && event.agentId === context.agentId,
    isCurrentRouting: ({ context, event }) => 'seq' in event && event.seq === context.routing.seq,
    readyToAccept: ({ context }) =>
      !context.bridge.acceptRequested &&
      context.bridge.preAcceptDone &&
      context.bridge.waConnected &&
      context.bridge.agentConnected,
  },
}).createMachine({
  id: 'call',
  context: ({ input = noInput() }) => initialContext(input),
  entry: {
    type: 'effect',
    params: ({ context }) =>
      context.outbound?.callback
        ? callbackEntryEffects(context)
        : context.line.direction === 'outbound'
          ? outboundEntryEffects(context)
          : context.flow
            ? businessStartEffects(context)
            : [
                { type: 'call.created' },
                timer('answer-deadline', context.times.answerDeadlineAt - context.times.createdAt, 'a'),
                { type: 'queue.join' },
              ],
  },
  initial: 'start',
  states: {
    // Transient: business-initiated calls dial; `answer: "business"` calls go to the menu (or straight to the
    // queue); the others ring agents.
    start: {
      always: [
        { guard: ({ context }) => context.outbound?.callback !== undefined, target: 'callback-queued' },
        { guard: ({ context }) => context.line.direction === 'outbound', target: 'dialing' },
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
    ringing: ringingState,
    'agent-offered': agentOfferedState,
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
          actions: [
            set(() => ({ bridge: { answerReady: true } })),
            { type: 'effect', params: { type: 'graph.preAccept' } },
          ],
        },
        'TIMER.FIRED': [
          ...businessBridging.timer,
          leftWhileConnecting,
          ...acceptDeadlineTransitions(({ event }) => isTimer(event, 'accept-deadline')),
        ],
        'TIMER.SWEEP': [
          businessBridging.sweep,
          ...acceptDeadlineTransitions(
            ({ context, event }) =>
              context.times.acceptDeadlineAt !== undefined && event.at >= context.times.acceptDeadlineAt,
          ),
        ],
      },
    },
    'pre-accepted': {
      always: {
        guard: 'readyToAccept',
        actions: [
          set(() => ({ bridge: { acceptRequested: true } })),
          {
            type: 'effect',
            // Not while the caller is to hear the recording notice first: going live switches them to it before
            // agent audio starts.
            params: ({ context }) =>
              context.live.recording?.state === 'pending'
                ? { type: 'graph.accept' }
                : { type: 'graph.accept', startAgentAudioOn: context.mediaNodeId! },
          },
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
          {
            guard: ({ event }) => event.action === 'pre_accept',
            actions: set(() => ({ bridge: { preAcceptDone: true } })),
          },
          {
            guard: ({ event }) => event.action === 'accept',
            target: 'live',
            actions: [
              set(({ context, event }) => ({
                times: { liveAt: event.at, maxEndAt: event.at + context.limits.maxCallMs },
                // Live after a fallback accept with no agent leg yet: it gets the agent grace to arrive.
                ...(context.bridge.agentConnected
                  ? {}
                  : { bridge: { agentLegDown: true, graceSeq: context.bridge.graceSeq + 1 } }),
              })),
              ...recordingEntry,
              {
                type: 'effect',
                params: ({ context }) => [
                  cancel('accept-deadline', '1'),
                  { type: 'media.startAgentAudio', nodeId: context.mediaNodeId! },
                  { type: 'agents.live', agentId: context.agentId! },
                  timer('max-duration', context.limits.maxCallMs, '1'),
                  // After the audio starts: one more Redis round trip before it would clip the first words.
                  cancel('accept-deadline', 'confirm'),
                  ...(context.bridge.agentConnected
                    ? []
                    : [timer('agent-grace', context.limits.agentGraceMs, context.bridge.graceSeq)]),
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
            ({ context, event }) =>
              context.times.acceptDeadlineAt !== undefined && event.at >= context.times.acceptDeadlineAt,
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
        context.times.liveAt !== undefined
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
        context.bridge.answerReady && (event.action === 'pre_accept' || event.action === 'accept'),
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
    'MEDIA.WA_CONNECTED': {
      guard: ({ context }) => !context.bridge.waConnected,
      actions: set(() => ({ bridge: { waConnected: true } })),
    },
    // A business-answered call's agent is one of its browser legs: its leg events mean the same as the agent's.
    'MEDIA.LEG_CONNECTED': {
      guard: ({ context, event }) =>
        isAgentLeg(context, event.legId) && (!context.bridge.agentConnected || context.bridge.agentLegDown),
      actions: agentBack,
    },
    'MEDIA.AGENT_CONNECTED': {
      guard: ({ context }) => !context.bridge.agentConnected || context.bridge.agentLegDown,
      actions: agentBack,
    },
    'GRAPH.DONE': {
      guard: ({ context, event }) => event.action === 'pre_accept' && !context.bridge.preAcceptDone,
      actions: set(() => ({ bridge: { preAcceptDone: true } })),
    },
    'MEDIA.DTMF': {
      guard: ({ event }) => /^[0-9*#A-D]$/.test(event.digit),
      actions: assignOn<'MEDIA.DTMF'>(({ context, event }) => ({
        caller: { dtmf: (context.caller.dtmf + event.digit).slice(-64) },
      })),
    },
  },
});

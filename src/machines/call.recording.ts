/**
 * Call recording in the call machine: per number `record: "off" | "all" | "agent"` (routing file). With `all` the
 * caller hears the recording notice when the call goes live, before the agent is connected, and recording starts
 * when the notice ends; with `agent` the agent may start it (the notice plays first too). The agent can pause and
 * resume (card numbers). Pure: the media node does the work (`call.play`, `call.route`, `call.record`); the files
 * are combined and stored after the call (src/recording).
 */
import type { Effect } from './call.effects.js';
import { type Args, agentLeg, fx, set } from './call.transitions.js';
import type { CallContext, Ev } from './call.types.js';

export const NOTICE_PLAY_ID = 'recording-notice';

/** The caller hears the notice (the agent still hears the caller). */
const announce = (ctx: CallContext): Effect[] => {
  const nodeId = ctx.mediaNodeId!;
  const leg = agentLeg(ctx.agentId!);
  return [
    { type: 'media.route', nodeId, routes: { caller: ['player'], [leg]: ['caller'] } },
    { type: 'media.play', nodeId, playId: NOTICE_PLAY_ID, clips: ['recording-notice'], loop: false },
  ];
};

/**
 * `live` entry: a number recorded in full announces, then records (once per call). The transitions that go live
 * after Meta's accept run it first, before `media.startAgentAudio`, so that the caller is switched to the notice
 * before any agent audio can reach them; entering `live` then finds the notice under way and does nothing more.
 */
export const recordingEntry = [
  fx(({ context }) => (context.live.recording?.state === 'pending' && context.agentId ? announce(context) : [])),
  set(({ context }) =>
    context.live.recording?.state === 'pending' && context.agentId
      ? { live: { recording: { ...context.live.recording, state: 'announcing' } } }
      : {},
  ),
];

const rec = (ctx: CallContext) => ctx.live.recording;

/** `live` transitions: the notice ended → talk and record; the agent pauses, resumes or starts. */
export const recordingTransitions = {
  'MEDIA.PLAY_ENDED': {
    guard: ({ context, event }: Args) =>
      rec(context)?.state === 'announcing' && (event as Ev<'MEDIA.PLAY_ENDED'>).playId === NOTICE_PLAY_ID,
    actions: [
      fx(({ context }) => {
        const nodeId = context.mediaNodeId!;
        const leg = agentLeg(context.agentId!);
        return [
          { type: 'media.stopPlay', nodeId },
          { type: 'media.route', nodeId, routes: { caller: [leg], [leg]: ['caller'] } },
          { type: 'media.record', nodeId, on: true },
        ];
      }),
      set(({ context, event }) => ({ live: { recording: { ...rec(context)!, state: 'on', startedAt: event.at } } })),
    ],
  },
  'AGENT.RECORD': [
    {
      // Pause (card numbers): nothing is recorded until the agent resumes.
      guard: ({ context, event }: Args) =>
        (event as Ev<'AGENT.RECORD'>).agentId === context.agentId &&
        !(event as Ev<'AGENT.RECORD'>).on &&
        rec(context)?.state === 'on',
      actions: [
        fx(({ context }) => ({ type: 'media.record', nodeId: context.mediaNodeId!, on: false })),
        set(({ context }) => ({
          live: { recording: { ...rec(context)!, state: 'paused', pauses: rec(context)!.pauses + 1 } },
        })),
      ],
    },
    {
      guard: ({ context, event }: Args) =>
        (event as Ev<'AGENT.RECORD'>).agentId === context.agentId &&
        (event as Ev<'AGENT.RECORD'>).on &&
        rec(context)?.state === 'paused',
      actions: [
        fx(({ context }) => ({ type: 'media.record', nodeId: context.mediaNodeId!, on: true })),
        set(({ context }) => ({ live: { recording: { ...rec(context)!, state: 'on' } } })),
      ],
    },
    {
      // Agent-started recording where the number allows it: the caller hears the notice first.
      guard: ({ context, event }: Args) =>
        (event as Ev<'AGENT.RECORD'>).agentId === context.agentId &&
        (event as Ev<'AGENT.RECORD'>).on &&
        rec(context)?.policy === 'agent' &&
        rec(context)?.state === 'off',
      actions: [
        fx(({ context }) => announce(context)),
        set(({ context }) => ({ live: { recording: { ...rec(context)!, state: 'announcing' } } })),
      ],
    },
  ],
};

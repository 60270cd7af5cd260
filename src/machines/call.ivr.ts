import {
  acceptOnce,
  answerDeadline,
  answered,
  answering,
  answerSweep,
  flowOf,
  goodbye,
  hearPlayer,
  isAcceptDone,
  leavingTransitions,
  PROMPT_DEADLINE_MS,
  play,
} from './call.business.js';
import { ANSWER_TOKEN } from './call.timers.js';
import { type Args, acceptDeadlineTransitions, cancel, fx, isTimer, set, timer } from './call.transitions.js';
import type { CallContext, Ev } from './call.types.js';

// ---------------------------------------------------------------------------------------------------------------
// ivr

const menuPlayId = (attempt: number) => `ivr.${attempt}`;

/** Every key is kept on the call (`dtmf`), whatever the state does with it. */
const keepDigit = set(({ context, event }) => ({
  caller: { dtmf: (context.caller.dtmf + (event as Ev<'MEDIA.DTMF'>).digit).slice(-64) },
}));

const newQueue = (ctx: CallContext, teams: string[], at: number) => ({
  teams,
  priority: flowOf(ctx).queue.priority,
  enteredAt: at,
  leftAt: undefined,
  overflowed: false,
  announceSeq: 0,
});

/** The caller chose (or the default was taken): the choice is kept and the call joins that option's teams. */
function choose(digitOf: (a: Args) => string) {
  return [
    fx(({ context }) => [
      cancel('ivr-timeout', context.ivr.attempt),
      cancel('ivr-timeout', `${context.ivr.attempt}.s`),
    ]),
    set((a) => {
      const digit = digitOf(a);
      return {
        ivr: { ...a.context.ivr, choice: digit, choiceAt: a.event.at },
        queue: newQueue(a.context, flowOf(a.context).ivr!.options[digit]!, a.event.at),
      };
    }),
  ];
}

/** After a wrong key (`invalid-choice`) or no key (`no-choice`): the menu again, else the default, else goodbye. */
function nextMenuOrGiveUp(when: (a: Args) => boolean, lead: string, extra: ReturnType<typeof set>[]) {
  return [
    {
      guard: (a: Args) => when(a) && a.context.ivr.attempt <= (a.context.flow?.ivr?.retries ?? 0),
      actions: [
        ...extra,
        fx(({ context }) => [
          cancel('ivr-timeout', context.ivr.attempt),
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
          play(context, menuPlayId(context.ivr.attempt + 1), [lead, ...flowOf(context).ivr!.prompt]),
          timer('ivr-timeout', PROMPT_DEADLINE_MS, `${context.ivr.attempt + 1}.s`),
        ]),
        set(({ context }) => ({ ivr: { ...context.ivr, attempt: context.ivr.attempt + 1 } })),
      ],
    },
    {
      guard: (a: Args) => when(a) && a.context.flow?.ivr?.defaultDigit !== undefined,
      target: 'queued' as const,
      actions: [...extra, ...choose(({ context }) => context.flow!.ivr!.defaultDigit!)],
    },
    {
      guard: when,
      actions: [
        ...extra,
        fx(({ context }) => [
          cancel('ivr-timeout', context.ivr.attempt),
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
        ]),
        ...goodbye('no-choice', () => ['goodbye']),
      ],
    },
  ];
}

const inMenu = (a: Args) => answered(a) && !a.context.outcome.leaving && a.context.queue === undefined;
const isValidKey = (a: Args) => inMenu(a) && (a.event as Ev<'MEDIA.DTMF'>).digit in a.context.flow!.ivr!.options;
const isIvrTimer = (a: Args) =>
  inMenu(a) &&
  isTimer(a.event, 'ivr-timeout') &&
  [String(a.context.ivr.attempt), `${a.context.ivr.attempt}.s`].includes((a.event as Ev<'TIMER.FIRED'>).token);

export const ivrState = {
  always: acceptOnce,
  on: {
    ...answering,
    'GRAPH.DONE': {
      guard: isAcceptDone,
      actions: [
        set(({ event }) => ({
          times: { answeredAt: event.at },
          ivr: { attempt: 1, choice: undefined, choiceAt: undefined },
        })),

        fx(({ context }) => [
          cancel('accept-deadline', ANSWER_TOKEN),
          hearPlayer(context),
          play(context, menuPlayId(1), [...flowOf(context).greeting, ...flowOf(context).ivr!.prompt]),
          timer('ivr-timeout', PROMPT_DEADLINE_MS, '1.s'),
        ]),
      ],
    },
    'MEDIA.PLAY_ENDED': [
      leavingTransitions['MEDIA.PLAY_ENDED'],
      {
        // The menu has been heard: the caller has `timeoutSeconds` to press a key.
        guard: (a: Args) =>
          inMenu(a) && (a.event as Ev<'MEDIA.PLAY_ENDED'>).playId === menuPlayId(a.context.ivr.attempt),
        actions: fx(({ context }) => [
          cancel('ivr-timeout', `${context.ivr.attempt}.s`),
          timer('ivr-timeout', flowOf(context).ivr!.timeoutMs, context.ivr.attempt),
        ]),
      },
    ],
    'MEDIA.DTMF': [
      {
        guard: isValidKey,
        target: 'queued' as const,
        actions: [keepDigit, ...choose(({ event }) => (event as Ev<'MEDIA.DTMF'>).digit)],
      },
      ...nextMenuOrGiveUp(inMenu, 'invalid-choice', [keepDigit]),
      { actions: keepDigit },
    ],
    'TIMER.FIRED': [
      ...acceptDeadlineTransitions(answerDeadline),
      leavingTransitions.timer,
      ...nextMenuOrGiveUp(isIvrTimer, 'no-choice', []),
    ],
    'TIMER.SWEEP': acceptDeadlineTransitions(answerSweep),
  },
};

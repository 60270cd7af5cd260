/**
 * The call context: how it starts from its input, how transitions change its groups, and the check that a
 * stored one has the shape this code reads.
 */
import { AppError } from '../shared/errors.js';
import type {
  BridgeFlags,
  CallContext,
  CallerInfo,
  CallInput,
  CallOutcome,
  CallRouting,
  CallTimes,
  LiveFeatures,
  RecordingContext,
  RecordPolicy,
} from './call.types.js';

/** A context's starting value, made from the machine's input. */
export function initialContext(input: CallInput): CallContext {
  const business = input.business;
  const callback = input.callback;
  return {
    callId: input.callId,
    line: {
      phoneNumberId: input.phoneNumberId,
      businessNumber: input.businessNumber,
      direction: input.direction ?? 'inbound',
    },
    caller: { waId: input.caller.waId, name: input.caller.name, dtmf: '' },
    limits: {
      ringTimeoutMs: input.ringTimeoutMs,
      acceptDeadlineMs: input.acceptDeadlineMs,
      maxCallMs: input.maxCallMs,
      agentGraceMs: input.agentGraceMs ?? 20_000,
      leaveGraceMs: input.leaveGraceMs ?? 5_000,
      holdAlertMs: input.holdAlertMs ?? 60_000,
    },
    times: {
      createdAt: input.at,
      answerDeadlineAt: input.at + input.answerDeadlineMs,
      offeredAt: undefined,
      acceptedAt: undefined,
      acceptDeadlineAt: undefined,
      answeredAt: undefined,
      liveAt: undefined,
      maxEndAt: undefined,
      endedAt: undefined,
    },
    routing: { seq: 0, offer: undefined, declined: [], offeredAgents: [], tried: [] },
    agentId: input.outbound?.agentId,
    mediaNodeId: business?.mediaNodeId ?? input.outbound?.mediaNodeId,
    bridge: {
      answerReady: false,
      preAcceptDone: false,
      waConnected: false,
      agentConnected: false,
      acceptRequested: false,
      acceptFallback: false,
      agentLegDown: false,
      agentLeft: false,
      graceSeq: 0,
    },
    outcome: { reason: undefined, endedBy: undefined, errorCode: undefined, detail: undefined, leaving: undefined },
    flow: business?.flow,
    ivr: { attempt: 0, choice: undefined, choiceAt: undefined },
    queue: callback
      ? queueEntry(callback.teams, callback.priority, callback.enteredAt)
      : business && !business.flow.ivr
        ? queueEntry(business.flow.queue.teams, business.flow.queue.priority, input.at)
        : undefined,
    live: {
      hold: { since: undefined, totalMs: 0, seq: 0 },
      transfer: undefined,
      handledBy: undefined,
      transfers: undefined,
      consult: undefined,
      monitors: undefined,
      recording: initialRecording(input.record),
    },
    outbound:
      input.outbound || callback
        ? {
            to: input.outbound?.to ?? input.caller.waId ?? '',
            metaCallId: undefined,
            ringingAt: undefined,
            callback: callback && { fromCallId: callback.fromCallId, dialDeadlineMs: callback.dialDeadlineMs },
          }
        : undefined,
  };
}

/** Recording with the number's policy: `all` starts once the call is live (call.recording.ts). */
export function initialRecording(policy: RecordPolicy | undefined): RecordingContext {
  const p = policy ?? 'off';
  return { policy: p, state: p === 'all' ? 'pending' : 'off', startedAt: undefined, pauses: 0 };
}

const queueEntry = (teams: string[], priority: number, enteredAt: number) => ({
  teams,
  priority,
  enteredAt,
  leftAt: undefined,
  overflowed: false,
  announceSeq: 0,
});

/** A change to the context: the groups' fields given are replaced, the others kept. */
export type ContextPatch = {
  caller?: Partial<CallerInfo>;
  times?: Partial<CallTimes>;
  routing?: Partial<CallRouting>;
  bridge?: Partial<BridgeFlags>;
  outcome?: Partial<CallOutcome>;
  live?: Partial<LiveFeatures>;
} & Partial<Pick<CallContext, 'agentId' | 'mediaNodeId' | 'ivr' | 'queue' | 'outbound'>>;

const GROUPS = new Set<string>(['caller', 'times', 'routing', 'bridge', 'outcome', 'live']);

/** The top-level fields an `assign` sets for `p`: each group given is merged into the context's. */
export function merged(ctx: CallContext, p: ContextPatch): Partial<CallContext> {
  const out: Record<string, unknown> = {};
  const from = ctx as unknown as Record<string, Record<string, unknown>>;
  for (const [key, value] of Object.entries(p)) {
    out[key] = GROUPS.has(key) ? { ...from[key], ...(value as object) } : value;
  }
  return out as Partial<CallContext>;
}

/** The groups every stored context has: one without them was written by an older version of the service. */
const REQUIRED = ['line', 'caller', 'limits', 'times', 'routing', 'bridge', 'outcome', 'ivr', 'live'] as const;

/** A stored call whose snapshot this version cannot read (written before the context took its present shape). */
export class UnreadableSnapshotError extends AppError {
  constructor(detail: string) {
    super(
      'snapshot-unreadable',
      `stored call snapshot is unreadable (${detail}): it was written by an older version and is not migrated; ` +
        'the call cannot take events and expires with its keys',
    );
  }
}

/** Checks that a stored context has the shape this code reads; throws {@link UnreadableSnapshotError} if not. */
export function checkContext(context: unknown): asserts context is CallContext {
  if (!context || typeof context !== 'object') throw new UnreadableSnapshotError('no context');
  const c = context as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => !c[k] || typeof c[k] !== 'object');
  if (typeof c.callId !== 'string') missing.unshift('callId' as never);
  if (missing.length) throw new UnreadableSnapshotError(`missing ${missing.join(', ')}`);
}

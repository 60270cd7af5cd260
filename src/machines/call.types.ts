/** The call actor's data: its context, input, events and state names (why calls end: call.end-reasons.ts). */

import type { GraphAction, TimerName, TransferTarget } from './call.effects.js';
import type { EndReason } from './call.end-reasons.js';

export { END_REASONS, type EndReason, reasonForMetaError } from './call.end-reasons.js';

export type RoutingPolicy = 'ring-all' | 'ring-one';

export interface CallOffer {
  seq: number;
  agentIds: string[];
  policy: RoutingPolicy;
  tier: string;
  /** When a ring-one (or tier) offer expires; undefined = until the answer deadline. */
  expiresAt: number | undefined;
}

/** Where a transfer goes: one agent, or a team (offered to its available agents). */

export type MonitorMode = 'listen' | 'whisper';

/** A transfer in progress (state `transferring`). */
export interface CallTransfer {
  seq: number;
  kind: 'blind';
  /** The agent who asked for it; still on the call (or gone, `fromGone`). */
  from: string;
  to: TransferTarget;
  /** The team whose agents are offered the call if the transfer rings out and `from` has left. */
  team: string | undefined;
  startedAt: number;
  fromGone: boolean;
  /** The token of the ring timer now running (`t<seq>` for the transfer's own offer, `r<routingSeq>` after). */
  ringToken: string;
}

/** A business-answered call's flow, resolved from the routing file when the call arrives (see `call.queue.ts`). */
export interface BusinessFlow {
  /** Clips played once the call is answered (shipped prompt names or absolute paths). */
  greeting: string[];
  ivr:
    | {
        prompt: string[];
        /** digit → teams */
        options: Record<string, string[]>;
        timeoutMs: number;
        /** How many more times the menu is played after the first (no key, or an invalid key). */
        retries: number;
        /** The option taken when no key came after every retry; undefined = goodbye. */
        defaultDigit: string | undefined;
      }
    | undefined;
  queue: {
    /** Teams served when there is no IVR. */
    teams: string[];
    music: string;
    announceEveryMs: number;
    maxWaitMs: number;
    overflow: { teams: string[] } | { action: 'hangup' };
    priority: number;
  };
}

/** Where a business-answered call stands on its way to an agent. */
export interface QueueInfo {
  teams: string[];
  priority: number;
  /** First entry into a queue: the order of service and the wait are counted from here. */
  enteredAt: number;
  /** When it left the queues (an agent connected, or it ended). */
  leftAt: number | undefined;
  overflowed: boolean;
  announceSeq: number;
}

/**
 * A call actor's data. The fields are grouped so that the top level stays small: every `assign` copies it, and V8
 * keeps an object with more than about 19 properties copied that way in slow dictionary mode (see
 * `call.context.test.ts`). A new field goes into the group it belongs to.
 */
export interface CallContext {
  callId: string;
  line: CallLine;
  caller: CallerInfo;
  limits: CallLimits;
  times: CallTimes;
  routing: CallRouting;
  agentId: string | undefined;
  mediaNodeId: string | undefined;
  bridge: BridgeFlags;
  outcome: CallOutcome;
  /** Set for `answer: "business"` calls; undefined = today's flow (answered when an agent accepts). */
  flow: BusinessFlow | undefined;
  /** The IVR: how many times the menu has been played, and the key chosen. */
  ivr: { attempt: number; choice: string | undefined; choiceAt: number | undefined };
  queue: QueueInfo | undefined;
  live: LiveFeatures;
  /** Business-initiated calls (and callback tasks) only. */
  outbound: OutboundContext | undefined;
}

/** The WhatsApp line the call is on; fixed when the call is created. */
export interface CallLine {
  phoneNumberId: string;
  /** The business number the caller dialled (display form, digits). */
  businessNumber: string;
  /** Who placed the call. */
  direction: 'inbound' | 'outbound';
}

export interface CallerInfo {
  waId: string | undefined;
  name: string | undefined;
  /** The keys the caller pressed (last 64). */
  dtmf: string;
}

/** Durations fixed when the call is created (ms). */
export interface CallLimits {
  ringTimeoutMs: number;
  acceptDeadlineMs: number;
  maxCallMs: number;
  agentGraceMs: number;
  /** How long a bridged agent whose tab went away (pagehide) has to come back (a reload). */
  leaveGraceMs: number;
  holdAlertMs: number;
}

/** When things happened or must happen (epoch ms); undefined = not (yet). */
export interface CallTimes {
  createdAt: number;
  answerDeadlineAt: number;
  offeredAt: number | undefined;
  acceptedAt: number | undefined;
  acceptDeadlineAt: number | undefined;
  /** When Meta's accept returned 200 for a business-answered call. */
  answeredAt: number | undefined;
  liveAt: number | undefined;
  maxEndAt: number | undefined;
  endedAt: number | undefined;
}

/** Who the call is offered to, and who it was. */
export interface CallRouting {
  /** Increments with every routing request; answers carrying an older seq are stale. */
  seq: number;
  offer: CallOffer | undefined;
  /** Agents who declined this call: never offered it again. */
  declined: string[];
  /** Everyone this call was ever offered to (history, visibility). */
  offeredAgents: string[];
  /** Agents already tried in this ring-one rotation. */
  tried: string[];
}

/** How far connecting the caller to the agent has come. */
export interface BridgeFlags {
  answerReady: boolean;
  preAcceptDone: boolean;
  waConnected: boolean;
  agentConnected: boolean;
  acceptRequested: boolean;
  acceptFallback: boolean;
  agentLegDown: boolean;
  /** The bridged agent's tab went away (pagehide): a reload comes back within leaveGraceMs, a closed tab does not. */
  agentLeft: boolean;
  graceSeq: number;
}

/** How the call ended (all undefined until it does). */
export interface CallOutcome {
  reason: EndReason | undefined;
  endedBy: 'caller' | 'agent' | 'supervisor' | 'system' | 'meta' | undefined;
  errorCode: number | undefined;
  detail: string | undefined;
  /** The call is playing its goodbye and ends when it is over (`reason` is the outcome to record). */
  leaving: EndReason | undefined;
}

/** What agents and supervisors do on the connected call: hold, transfers, consultation, monitoring, recording. */
export interface LiveFeatures {
  hold: { since: number | undefined; totalMs: number; seq: number };
  /** The transfer ringing now, if any (state `transferring`). */
  transfer: CallTransfer | undefined;
  /** Every agent who was on the call, in order (transfers add to it). */
  handledBy: string[] | undefined;
  /** Transfers so far; also the seq of the next one. */
  transfers: number | undefined;
  /** A consultation in progress (state `consulting`): the first agent talks to `with` while the caller holds. */
  consult: { seq: number; from: string; with: string; connected: boolean; ringToken: string } | undefined;
  /** Supervisors monitoring the call: listening (hear both sides) or whispering (the agent also hears them). */
  monitors: Record<string, MonitorMode> | undefined;
  /** Call recording (routing file `record`); undefined = off. */
  recording: RecordingContext | undefined;
}

/** Which calls are recorded (routing file `record`). */
export type RecordPolicy = 'off' | 'all' | 'agent';

/** Call recording (call.recording.ts). */
export interface RecordingContext {
  policy: RecordPolicy;
  /** pending: starts when the call goes live; announcing: the notice plays; on / paused / off. */
  state: 'pending' | 'announcing' | 'on' | 'paused' | 'off';
  /** When recording first started (ms), if it did. */
  startedAt: number | undefined;
  pauses: number;
}

/** What a callback task carries (call.callback.ts). */
export interface CallbackContext {
  /** The call the caller asked from. */
  fromCallId: string;
  /** How long the user's phone may ring once an agent dials. */
  dialDeadlineMs: number;
}

/** What a business-initiated call keeps beside the common context. */
export interface OutboundContext {
  /** The user called (digits). */
  to: string;
  /** Meta's call id, once `connect` returned it. */
  metaCallId: string | undefined;
  /** When the user's phone started ringing (RINGING). */
  ringingAt: number | undefined;
  /** A callback task (a business-initiated call waiting in the queue for an agent). */
  callback: CallbackContext | undefined;
}

export interface CallInput {
  callId: string;
  phoneNumberId: string;
  businessNumber: string;
  caller: { waId?: string | undefined; name?: string | undefined };
  at: number;
  answerDeadlineMs: number;
  ringTimeoutMs: number;
  acceptDeadlineMs: number;
  maxCallMs: number;
  agentGraceMs?: number;
  leaveGraceMs?: number;
  /** `answer: "business"`: the flow and the media node that holds the call from the start. */
  business?: { flow: BusinessFlow; mediaNodeId: string } | undefined;
  holdAlertMs?: number;
  /** @default 'inbound' */
  direction?: 'inbound' | 'outbound';
  /** Business-initiated: the user to call, the agent who dials and the media node that makes the offer. */
  outbound?: { to: string; agentId: string; mediaNodeId: string } | undefined;
  /** The number's recording policy (routing file). @default 'off' */
  record?: RecordPolicy | undefined;
  /** A callback task: the queues it waits in (with the caller's original place) and the dial's deadline. */
  callback?: { fromCallId: string; teams: string[]; priority: number; enteredAt: number; dialDeadlineMs: number };
}

type At = { at: number };
export type CallEvent =
  | ({
      type: 'WA.TERMINATE';
      status: 'COMPLETED' | 'FAILED';
      errorCode?: number | undefined;
      errorTitle?: string | undefined;
    } & At)
  | ({ type: 'WA.STATUS'; status: string } & At)
  /** Meta's offer cannot be answered (broken SDP): the call is rejected before anyone rings. */
  | ({ type: 'WA.BAD_OFFER'; reason: string } & At)
  | ({
      type: 'ROUTING.OFFER';
      seq: number;
      agentIds: string[];
      policy: RoutingPolicy;
      tier: string;
      ringTimeoutMs?: number | undefined;
      resetTried?: boolean;
      /** Why these agents (shown in the timeline). */
      note?: string;
    } & At)
  | ({ type: 'ROUTING.NO_AGENTS'; seq: number; note: string } & At)
  | ({ type: 'CALL.REROUTE' } & At)
  | ({ type: 'CALL.CANCEL'; by: string } & At)
  | ({ type: 'AGENT.ACCEPT'; agentId: string; mediaNodeId: string } & At)
  | ({ type: 'AGENT.DECLINE'; agentId: string } & At)
  | ({ type: 'AGENT.UNAVAILABLE'; agentId: string } & At)
  | ({ type: 'AGENT.HANGUP'; agentId: string } & At)
  /**
   * The bridged agent hands the call on: `targets` are offered it now (checked available by the sender); `team` is
   * where it goes if they do not answer and the agent has left.
   */
  | ({
      type: 'AGENT.TRANSFER';
      agentId: string;
      to: TransferTarget;
      targets: string[];
      team?: string | undefined;
    } & At)
  /** Consult transfer: the agent on the call asks `to` first, then completes (hands over) or cancels. */
  | ({ type: 'AGENT.CONSULT'; agentId: string; to: string } & At)
  | ({ type: 'AGENT.CONSULT_COMPLETE'; agentId: string } & At)
  | ({ type: 'AGENT.CONSULT_CANCEL'; agentId: string } & At)
  /** A supervisor starts or changes (listen, whisper) or stops monitoring the call. */
  | ({ type: 'SUP.MONITOR'; by: string; mode: MonitorMode | 'stop' } & At)
  /** The bridged agent's tab is going away (pagehide beacon): hang up unless the agent's media is back in time. */
  | ({ type: 'AGENT.LEFT'; agentId: string } & At)
  | ({ type: 'MEDIA.WA_ANSWER' } & At)
  /** Business-initiated: the WhatsApp leg's complete offer is stored; Graph `connect` may go out. */
  | ({ type: 'MEDIA.WA_OFFER' } & At)
  /** Business-initiated: Meta's answer (connect webhook) is stored. */
  | ({ type: 'WA.ANSWER' } & At)
  | ({ type: 'MEDIA.WA_CONNECTED' } & At)
  | ({ type: 'MEDIA.AGENT_CONNECTED' } & At)
  | ({ type: 'MEDIA.AGENT_LEG_DOWN' } & At)
  | ({ type: 'MEDIA.FAILED'; reason: string } & At)
  | ({ type: 'MEDIA.DTMF'; digit: string } & At)
  /** A non-looped `call.play` sequence ended on the media node. */
  | ({ type: 'MEDIA.PLAY_ENDED'; playId: string } & At)
  /**
   * A browser leg (`agent:<id>`, `sup:<id>`) other than the first agent's of a bridge made with one (a business-
   * answered call's, a transfer target's, a supervisor's) is up / went down.
   */
  | ({ type: 'MEDIA.LEG_CONNECTED'; legId: string } & At)
  | ({ type: 'MEDIA.LEG_DOWN'; legId: string } & At)
  | ({ type: 'AGENT.HOLD'; agentId: string } & At)
  /** The bridged agent pauses (`on: false`), resumes or starts (`on: true`) the recording. */
  | ({ type: 'AGENT.RECORD'; agentId: string; on: boolean } & At)
  | ({ type: 'AGENT.RESUME'; agentId: string } & At)
  | ({ type: 'GRAPH.DONE'; action: GraphAction; metaCallId?: string | undefined } & At)
  | ({
      type: 'GRAPH.FAILED';
      action: GraphAction;
      metaCode?: number | undefined;
      httpStatus?: number | undefined;
      message: string;
    } & At)
  | ({ type: 'TIMER.FIRED'; timer: TimerName; token: string } & At)
  /** The stranded-call sweep: acts like whichever deadline of the current state has passed. */
  | ({ type: 'TIMER.SWEEP' } & At);

export type CallEventType = CallEvent['type'];
export type Ev<T extends CallEventType> = Extract<CallEvent, { type: T }>;

/** The state names, as the API and the console show them. */
export const CALL_STATES = [
  'start',
  'ringing',
  'ivr',
  'queued',
  'agent-offered',
  'bridging',
  'pre-accepted',
  'live',
  'on-hold',
  'transferring',
  'consulting',
  'ended',
  'ended',
  /** Business-initiated: the media node makes the offer. */
  'dialing',
  /** Business-initiated: `connect` sent; the user's phone rings until ACCEPTED. */
  'calling',
  /** A callback task waiting in the queue for an agent. */
  'callback-queued',
] as const;
export type CallState = (typeof CALL_STATES)[number];

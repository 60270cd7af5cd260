/**
 * The REST API's shapes (`/api/...`), as the server sends them and the console reads them: types only, so the
 * console can import them without bundling anything.
 * @see README.md "Interfaces"
 */
import type { PresenceState, WrapUp } from './protocol.js';

/** GET /api/wrapup: what the wrap-up form offers this agent, and the call waiting for one. */
export interface WrapUpInfo {
  codes: string[];
  required: boolean;
  /** Longest notes accepted, in characters. */
  notesMax: number;
  /** The last call this agent handled that has no wrap-up yet, while their wrap-up time runs. */
  pending: { callId: string; until: number } | null;
}

/** GET /api/transfer-targets: the transfer dialog's choices. */
export interface TransferTargets {
  agents: { id: string; name: string; teams: string[]; presence: PresenceState; available: boolean }[];
  teams: string[];
}

/** GET /api/history filters (supervisors). Dates are ms since epoch; pages start at 1. */
export interface HistoryQuery {
  number?: string | undefined;
  agent?: string | undefined;
  team?: string | undefined;
  outcome?: string | undefined;
  code?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  page: number;
  pageSize: number;
}

/** A row of GET /api/history (and of its CSV export). */
export interface HistoryRow {
  id: string;
  createdAt: number;
  liveAt: number | null;
  endedAt: number | null;
  caller: { name: string | null; number: string };
  businessNumber: string;
  agentId: string | null;
  teams: string[];
  outcome: string;
  endedBy: string | null;
  /** Arrival → live (answered) or → end (not answered). */
  waitMs: number;
  talkMs: number | null;
  wrapUp: WrapUp | null;
}

export interface CallSummary {
  id: string;
  /** The agent's after-call work, once submitted. */
  wrapUp?: WrapUp | null;
  state: string;
  reason: string | null;
  endedBy: string | null;
  caller: { name: string | null; number: string };
  businessNumber: string;
  agentId: string | null;
  mediaNodeId: string | null;
  createdAt: number;
  offeredAt: number | null;
  acceptedAt: number | null;
  liveAt: number | null;
  endedAt: number | null;
  errorCode: number | null;
  detail: string | null;
}

export interface CallDetail extends CallSummary {
  version: number;
  offer: { agentIds: string[]; policy: string; tier: string; expiresAt: number | null } | null;
  declined: string[];
  offeredAgents: string[];
  answerDeadlineAt: number;
  flags: { preAcceptDone: boolean; waConnected: boolean; agentConnected: boolean; acceptFallback: boolean };
  dtmf: string;
  /** Business-answered calls: the IVR key chosen and the time spent waiting in queues (ms). */
  ivrChoice: string | null;
  waitMs: number | null;
  queueTeams: string[] | null;
  /** Time the caller spent on hold (ms), including a hold still going on. */
  holdMs: number;
  timeline: { at: number; event: string; from?: string; to?: string; detail?: string }[];
  stats: AudioStatsSample[];
}

/** GET /api/queues (supervisors): the waiting callers per team, in order of service, and today's queue figures. */
export interface QueuesView {
  day: string;
  teams: {
    team: string;
    waiting: {
      callId: string;
      position: number;
      state: string;
      caller: { name: string | null; number: string };
      waitMs: number;
      ivrChoice: string | null;
      /** Agents it rings right now (empty while it waits). */
      offeredTo: string[];
    }[];
  }[];
  figures: {
    /** Calls that entered a queue that day, answered by an agent, abandoned while waiting. */
    calls: number;
    answered: number;
    abandoned: number;
    /**
     * Answered within `serviceLevelSeconds` of entering the queue ÷ (answered + those who left or were told goodbye
     * after that threshold); null without such calls.
     */
    serviceLevel: number | null;
    serviceLevelSeconds: number;
    /** Abandoned ÷ calls. */
    abandonmentRate: number | null;
    /** Average wait of the callers who hung up while waiting (ms). */
    avgAbandonWaitMs: number | null;
    /** Average from queue entry to the agent's connection, over answered calls (ms). */
    avgSpeedOfAnswerMs: number | null;
  };
}

export interface LegStats {
  rttMs: number | null;
  jitterMs: number | null;
  packetsLost: number | null;
  packetsReceived: number | null;
  packetsSent: number | null;
  fractionLost: number | null;
  mos: number | null;
}
export interface AudioStatsSample {
  at: number;
  whatsapp: LegStats | null;
  agent: LegStats | null;
}

/** GET /api/config. */
export interface ConsoleConfig {
  demo: boolean;
  inspect: boolean;
  /** The Stately inspector bridge to open, when XSTATE_INSPECT=1. */
  inspectUrl: string | null;
  protocol: number;
  answerDeadlineSeconds: number;
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
}

/** A row of GET /api/agents (supervisors). */
export interface AgentRow {
  id: string;
  name: string;
  role: string;
  teams: string[];
  presence: PresenceState;
  /** Online, not on or claimed for a call, not in wrap-up. */
  available: boolean;
  /** When the agent last became free (ms): longest idle first. */
  idleSince: number;
  /** Calls ringing for this agent right now. */
  offers: number;
  callId: string | null;
  sockets: number;
  wrapUpUntil: number | null;
  /** Whether calls are routed to them (agent management). */
  takesCalls?: boolean;
  /** A disabled account cannot log in (agent management). */
  disabled?: boolean;
}

/** Today's counters (UTC day), from the calls that ended today. */
export interface DailyFigures {
  day: string;
  calls: number;
  answered: number;
  missed: number;
  abandoned: number;
  failed: number;
  rejected: number;
  /** Sum over answered calls of arrival → live, ms. */
  answerMsSum: number;
  /** Sum over answered calls of live → ended, ms. */
  handleMsSum: number;
}

/** GET /api/stats/today. */
export interface TodayStats extends DailyFigures {
  /** Callers waiting for an agent right now (ringing, offered, queued). */
  waitingNow: number;
  /** Calls an agent has right now (connecting, live, on hold). */
  onCallsNow: number;
  /** Every call in progress, in any state. */
  activeNow: number;
  averageSpeedOfAnswerMs: number | null;
  averageHandleTimeMs: number | null;
  abandonmentRate: number | null;
}

/**
 * The call machine's states and the transitions between them, as the running service defines them
 * (`GET /api/machine`): what the console draws, so the picture grows with the machine.
 */
export interface MachineGraph {
  id: string;
  initial: string;
  /** In the order the machine declares them. */
  states: { name: string; final: boolean }[];
  /** One edge per pair of different states, with every event that can take it (targetless transitions left out). */
  edges: { from: string; to: string; events: string[] }[];
}

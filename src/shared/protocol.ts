import { z } from 'zod';

/**
 * The agent protocol: Socket.IO namespace `/agents`, `auth: {token}`. Stable: the console, the tests and
 * customers' clients depend on it. Add events freely; change these only with a version bump. The REST API's
 * shapes are in rest-types.ts.
 * @see README.md "Interfaces"
 */
export const PROTOCOL_VERSION = 1;
export const AGENT_NAMESPACE = '/agents';

export const PRESENCE_CHOICES = ['online', 'away'] as const;
export const PRESENCE_STATES = ['online', 'busy', 'away', 'offline'] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

// ---- server → agent -------------------------------------------------------------------------------------------

export interface CallOffered {
  callId: string;
  from: { name: string | null; number: string };
  /** When this offer stops ringing (ms since epoch). */
  deadlineAt: number;
  /** When the call arrived (ms), for "time waited". */
  createdAt: number;
}
export interface CallTaken {
  callId: string;
  agentId: string;
}
export interface CallEnded {
  callId: string;
  reason: string;
}
export interface RtcAnswer {
  callId: string;
  sdp: string;
  /** The browser leg answered (`agent:<id>`, `sup:<id>`). */
  legId?: string;
}
export interface RtcCandidate {
  callId: string;
  legId?: string;
  candidate: RtcCandidateInit | null;
}
export interface RtcCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Sent on every (re)connection and on `agent:sync`: the truth a (re)loaded tab rebuilds itself from. */
export interface AgentSession {
  agentId: string;
  name: string;
  role: 'agent' | 'supervisor';
  presence: PresenceState;
  /** Calls ringing for this agent now. */
  offers: CallOffered[];
  /** The call this agent is on (bridging or live), if any. */
  activeCall: ActiveCall | null;
  protocol: number;
}
export interface ActiveCall {
  callId: string;
  state: string;
  from: { name: string | null; number: string };
  acceptedAt: number | null;
  liveAt: number | null;
}

/** Why a stopped ringing, for `call:withdrawn`. */
export interface CallWithdrawn {
  callId: string;
  reason: 'declined' | 'expired' | 'unavailable' | 'ended';
}

/** The agent's transfer: ringing its targets, back with them (nobody answered), or moved on to the team. */
export interface CallTransferStatus {
  callId: string;
  status: 'ringing' | 'returned' | 'queued';
  targets: string[];
}

export interface ServerToAgent {
  'call:offered': (p: CallOffered) => void;
  'call:taken': (p: CallTaken) => void;
  'call:withdrawn': (p: CallWithdrawn) => void;
  'call:ended': (p: CallEnded) => void;
  /** The call is live: Meta accepted, agent audio flows to the caller. */
  'call:live': (p: { callId: string; liveAt: number }) => void;
  /** How this agent's transfer goes. */
  'call:transfer': (p: CallTransferStatus) => void;
  'rtc:answer': (p: RtcAnswer) => void;
  'rtc:candidate': (p: RtcCandidate) => void;
  'agent:session': (p: AgentSession) => void;
  'agent:presence': (p: { agentId: string; presence: PresenceState }) => void;
  /** The token expired or was refused mid-session: log in again. */
  'auth:expired': (p: { message: string }) => void;
  /** Supervisors only: something happened on the floor (refresh the live view). */
  'floor:call': (p: FloorCall) => void;
  'floor:agent': (p: { agentId: string; presence: PresenceState }) => void;
  /** The caller has been on hold longer than the limit (sent again after every further limit). */
  'call:hold-alert': (p: { callId: string; heldMs: number }) => void;
  /** Business-initiated calls: how the agent's call is going (ringback plays while `ringing`). */
  'call:progress': (p: CallProgress) => void;
  /** A user answered the call-permission request this agent's dial sent. */
  'call:permission': (p: CallPermissionNews) => void;
}

export interface CallProgress {
  callId: string;
  status: 'dialing' | 'ringing' | 'answered' | 'failed';
  /** Plain words (e.g. why Meta refused the call). */
  message?: string;
}

export interface CallPermissionNews {
  /** The number the agent dialled. */
  to: string;
  response: 'accept' | 'reject';
  /** Epoch ms when a temporary permission ends. */
  expiresAt: number | null;
}

/** The supervisors' feed: one event per call milestone, separate from anyone's own ringing. */
export interface FloorCall {
  callId: string;
  event: 'offered' | 'taken' | 'live' | 'ended' | 'transferred';
  agentIds?: string[];
  reason?: string;
}

// ---- agent → server (each acknowledged) ----------------------------------------------------------------------

export type Ack<T = Record<string, never>> = (
  res: ({ ok: true } & T) | { ok: false; error: string; message?: string },
) => void;

const callId = z.string().min(1).max(256);
export const PresenceSetSchema = z.object({ status: z.enum(PRESENCE_CHOICES) });
export const CallRefSchema = z.object({ callId });
export const RtcOfferSchema = z.object({ callId, sdp: z.string().min(10).max(20_000) });
export const RtcCandidateSchema = z.object({
  callId,
  candidate: z
    .object({
      candidate: z.string().max(1000),
      sdpMid: z.string().max(64).nullish(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullish(),
      usernameFragment: z.string().max(256).nullish(),
    })
    .nullable(),
});

/** `call:record`: pause (`on: false`), resume or start (`on: true`) the call's recording. */
export const RecordSchema = z.object({ callId, on: z.boolean() });

/** `call:dial`: a WhatsApp number, `+` and spaces/dashes allowed, 8 to 15 digits. */
export const DialSchema = z.object({ to: z.string().min(1).max(40) });
/** Longest wrap-up note, in characters. */
export const WRAP_UP_NOTES_MAX = 2000;
export const WRAP_UP_CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
export const WrapUpSchema = z.object({
  callId,
  code: z.string().regex(WRAP_UP_CODE_RE, 'must be one of your wrap-up codes'),
  notes: z.string().max(WRAP_UP_NOTES_MAX, `must be at most ${WRAP_UP_NOTES_MAX} characters`).optional(),
});

export const TransferSchema = z.object({
  callId,
  to: z.union([
    z.object({ agentId: z.string().min(1).max(64) }).strict(),
    z.object({ team: z.string().min(1).max(64) }).strict(),
  ]),
});

export const ConsultSchema = z.object({ callId, to: z.object({ agentId: z.string().min(1).max(64) }).strict() });

export const MonitorSchema = z.object({ callId, mode: z.enum(['listen', 'whisper', 'stop']) });
/** A browser leg other than the agent's own: today a supervisor's `sup:<id>` (the server checks the id). */
export const LegOfferSchema = z.object({ callId, sdp: z.string().min(10).max(20_000) });
export const LegCandidateSchema = RtcCandidateSchema;

export interface AgentToServer {
  'call:record': (p: z.infer<typeof RecordSchema>, ack: Ack<{ recording: string }>) => void;
  /** Business-initiated call; ack `{ok: true, callId}` or an error such as `no-permission`, `limit-reached`. */
  'call:dial': (p: z.infer<typeof DialSchema>, ack: Ack<{ callId: string }>) => void;
  'presence:set': (p: z.infer<typeof PresenceSetSchema>, ack: Ack) => void;
  'call:accept': (p: z.infer<typeof CallRefSchema>, ack: Ack) => void;
  'call:decline': (p: z.infer<typeof CallRefSchema>, ack: Ack) => void;
  'call:hangup': (p: z.infer<typeof CallRefSchema>, ack: Ack) => void;
  'rtc:offer': (p: z.infer<typeof RtcOfferSchema>, ack: Ack) => void;
  'rtc:candidate': (p: z.infer<typeof RtcCandidateSchema>, ack: Ack) => void;
  /** The caller hears music and the agent's microphone is not forwarded; Meta never learns of it. */
  'call:hold': (p: z.infer<typeof CallRefSchema>, ack: Ack) => void;
  'call:resume': (p: z.infer<typeof CallRefSchema>, ack: Ack) => void;
  /** Liveness: extends this socket's presence lease. */
  'agent:heartbeat': (p: Record<string, never>, ack: Ack) => void;
  /** Consult transfer: ask another agent first (the caller holds), then complete or cancel. */
  'call:consult': (p: z.infer<typeof ConsultSchema>, ack: Ack<{ state?: string }>) => void;
  'call:consult-complete': (p: z.infer<typeof CallRefSchema>, ack: Ack<{ state?: string }>) => void;
  'call:consult-cancel': (p: z.infer<typeof CallRefSchema>, ack: Ack<{ state?: string }>) => void;
  /** Supervisors: listen to a live call, whisper to its agent, or stop. */
  'call:monitor': (p: z.infer<typeof MonitorSchema>, ack: Ack<{ state?: string }>) => void;
  /** Supervisors: the offer and candidates of their monitoring leg (`sup:<id>`); answers come as `rtc:answer`. */
  'rtc:leg-offer': (p: z.infer<typeof LegOfferSchema>, ack: Ack) => void;
  'rtc:leg-candidate': (p: z.infer<typeof LegCandidateSchema>, ack: Ack) => void;
  /** Blind transfer of the live call to an agent or a team. */
  'call:transfer': (p: z.infer<typeof TransferSchema>, ack: Ack<{ state?: string }>) => void;
  /** After-call work: the call's wrap-up code and notes; ends the agent's wrap-up time. */
  'call:wrapup': (p: z.infer<typeof WrapUpSchema>, ack: Ack<{ wrapUp: WrapUp }>) => void;
  /** Asks for `agent:session` again. */
  'agent:sync': (p: Record<string, never>, ack: Ack<{ session: AgentSession }>) => void;
}

/** Error codes an ack can carry. */
export const ACK_ERRORS = [
  'bad-request',
  'unknown-call',
  'already-taken',
  'not-offered',
  'not-your-call',
  'busy',
  'call-ended',
  'wrong-state',
  'no-media-node',
  'token-expired',
  'unknown-code',
  'already-wrapped-up',
  'bad-target',
  'unknown-agent',
  'agent-offline',
  'agent-busy',
  'unknown-team',
  'no-agents',
  'not-supported',
  'forbidden',
  'internal',
  // call:dial
  'bad-number',
  'not-callable',
  'no-permission',
  'permission-requested',
  'limit-reached',
  'dial-in-progress',
  'meta-refused',
] as const;
export type AckError = (typeof ACK_ERRORS)[number];

/** A call's after-call work, as the agent submitted it. */
export interface WrapUp {
  agentId: string;
  code: string;
  notes: string | null;
  at: number;
}

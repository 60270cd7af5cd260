/** The shape of a call event sent to outside systems (`{id, type, at, call}`), shared by the dispatcher's port and the events room. */
const CALL_EVENT_TYPES = [
  /** Meta's connect arrived: the call exists. */
  'call.received',
  /** The call rings for these agents (`call.offer.agentIds`). */
  'call.offered',
  /** The call is live with an agent (`call.agentId`). */
  'call.answered',
  /** The call moved to another agent or team. */
  'call.transferred',
  /** The call ended (`call.reason`, `call.endedBy`). */
  'call.ended',
  /** The agent submitted the call's wrap-up (`call.wrapUp`). */
  'call.wrapped-up',
] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

/** What outside systems learn about a call. The caller's full number is included: receivers are trusted and signed. */
export interface CallEventCall {
  id: string;
  caller: { waId: string | null; name: string | null };
  businessNumber: string;
  phoneNumberId: string;
  agentId: string | null;
  offeredAgents: string[];
  createdAt: number;
  offeredAt: number | null;
  acceptedAt: number | null;
  liveAt: number | null;
  endedAt: number | null;
  reason: string | null;
  endedBy: string | null;
  offer?: { agentIds: string[] };
  wrapUp?: { agentId: string; code: string; notes: string | null; at: number };
  transfer?: { from: string | null; to: { agentId: string } | { team: string } };
}

export interface CallEventBody {
  id: string;
  type: CallEventType;
  at: number;
  call: CallEventCall;
}

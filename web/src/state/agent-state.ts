import type { AgentSession, CallOffered, PresenceState } from '../../../src/shared/protocol.js';

/** The call this agent is on, as this tab sees it. */
export interface ActiveCallView {
  callId: string;
  from: { name: string | null; number: string };
  /** The call machine's state (`bridging`, `pre-accepted`, `live`). */
  state: string;
  acceptedAt: number | null;
  liveAt: number | null;
  /** Which of this agent's tabs holds the media: this one, another one, or not known yet (just loaded). */
  holder: 'here' | 'elsewhere' | 'unknown';
}

export interface EndedView {
  callId: string;
  from: { name: string | null; number: string } | null;
  /** A call machine end reason (or the console's own `microphone-unavailable`); null until known. */
  reason: string | null;
  /** Extra words about how it ended. */
  note: string | null;
  /** The reason was decided here; a later `call:ended` does not overwrite it. */
  local: boolean;
  liveAt: number | null;
  endedAt: number;
}

export interface Notice {
  tone: 'error' | 'info';
  text: string;
}

interface PendingAction {
  kind: 'accepting' | 'declining';
  offer: CallOffered;
}

export interface AgentState {
  me: { agentId: string; name: string; role: 'agent' | 'supervisor' } | null;
  presence: PresenceState;
  /** Ringing offers, oldest first. */
  offers: CallOffered[];
  pending: Record<string, PendingAction>;
  call: ActiveCallView | null;
  ended: EndedView | null;
  hangingUp: boolean;
  notice: Notice | null;
  micError: string | null;
}

export const initialAgentState: AgentState = {
  me: null,
  presence: 'offline',
  offers: [],
  pending: {},
  call: null,
  ended: null,
  hangingUp: false,
  notice: null,
  micError: null,
};

export type AgentAction =
  | { type: 'session'; session: AgentSession; now: number }
  | { type: 'offered'; offer: CallOffered }
  | { type: 'taken'; callId: string; agentId: string; now: number }
  | { type: 'withdrawn'; callId: string }
  | { type: 'ended'; callId: string; reason: string; now: number }
  | { type: 'live'; callId: string; liveAt: number }
  | { type: 'presence'; presence: PresenceState }
  | { type: 'accept-start'; offer: CallOffered }
  | { type: 'accepted'; callId: string; state: string | undefined; now: number }
  | { type: 'accept-failed'; callId: string; notice: Notice | null; dropOffer: boolean }
  | { type: 'decline-start'; offer: CallOffered }
  | { type: 'decline-done'; callId: string; notice: Notice | null }
  | { type: 'holder'; callId: string; holder: ActiveCallView['holder'] }
  | { type: 'hangup-start' }
  | { type: 'hangup-failed'; notice: Notice }
  | { type: 'local-end'; callId: string; reason: string; note: string | null; now: number }
  | { type: 'mic-error'; message: string }
  | { type: 'notice'; notice: Notice | null }
  | { type: 'dismiss-ended' }
  | { type: 'dismiss-mic-error' }
  | { type: 'logged-out' };

const withoutOffer = (offers: CallOffered[], callId: string) => offers.filter((o) => o.callId !== callId);
const withoutPending = (pending: Record<string, PendingAction>, callId: string) => {
  if (!(callId in pending)) return pending;
  const { [callId]: _gone, ...rest } = pending;
  return rest;
};
const byArrival = (a: CallOffered, b: CallOffered) => a.createdAt - b.createdAt;

function endCall(state: AgentState, end: Omit<EndedView, 'from' | 'liveAt'>): AgentState {
  const call = state.call;
  return {
    ...state,
    call: null,
    hangingUp: false,
    offers: withoutOffer(state.offers, end.callId),
    pending: withoutPending(state.pending, end.callId),
    ended: { ...end, from: call?.from ?? null, liveAt: call?.liveAt ?? null },
  };
}

/**
 * The agent console's state, driven by protocol events and the agent's own actions. Pure: the hook owns the
 * socket, the media and the timers. The server's session snapshot is the truth a (re)connected tab rebuilds from.
 */
export function agentReducer(state: AgentState, action: AgentAction): AgentState {
  switch (action.type) {
    case 'session': {
      const s = action.session;
      const active = s.activeCall;
      let call = state.call;
      let ended = state.ended;
      if (active) {
        call =
          call?.callId === active.callId
            ? { ...call, state: active.state, liveAt: active.liveAt, acceptedAt: active.acceptedAt }
            : { ...active, holder: 'unknown' };
        if (ended?.callId === active.callId) ended = null;
      } else if (call && !(call.acceptedAt !== null && action.now - call.acceptedAt < 3000)) {
        // The call ended while this tab was not connected; the hook looks the reason up. (A snapshot taken just
        // before this tab's own accept is older than the accept: ignored.)
        ended = {
          callId: call.callId,
          from: call.from,
          reason: null,
          note: 'The call ended while this tab was disconnected.',
          local: false,
          liveAt: call.liveAt,
          endedAt: action.now,
        };
        call = null;
      }
      return {
        ...state,
        me: { agentId: s.agentId, name: s.name, role: s.role },
        presence: s.presence,
        offers: s.offers.filter((o) => o.callId !== active?.callId).sort(byArrival),
        call,
        ended,
        hangingUp: call ? state.hangingUp : false,
      };
    }
    case 'offered': {
      if (state.call?.callId === action.offer.callId) return state;
      const others = withoutOffer(state.offers, action.offer.callId);
      return { ...state, offers: [...others, action.offer].sort(byArrival) };
    }
    case 'taken': {
      const mine = action.agentId === state.me?.agentId;
      const offer = state.offers.find((o) => o.callId === action.callId);
      const pending = state.pending[action.callId];
      const next = { ...state, offers: withoutOffer(state.offers, action.callId) };
      // This agent won in another tab: show the call as held there.
      if (mine && !pending && !state.call && offer) {
        next.call = {
          callId: offer.callId,
          from: offer.from,
          state: 'bridging',
          acceptedAt: action.now,
          liveAt: null,
          holder: 'elsewhere',
        };
      }
      // This tab's own accept keeps its pending entry: the ack decides.
      if (!mine) next.pending = withoutPending(state.pending, action.callId);
      return next;
    }
    case 'withdrawn':
      return {
        ...state,
        offers: withoutOffer(state.offers, action.callId),
        pending:
          state.pending[action.callId]?.kind === 'accepting'
            ? state.pending
            : withoutPending(state.pending, action.callId),
      };
    case 'ended': {
      if (state.call?.callId === action.callId) {
        return endCall(state, {
          callId: action.callId,
          reason: action.reason,
          note: null,
          local: false,
          endedAt: action.now,
        });
      }
      if (state.ended?.callId === action.callId) {
        return state.ended.local || state.ended.reason
          ? state
          : { ...state, ended: { ...state.ended, reason: action.reason } };
      }
      const offer = state.offers.find((o) => o.callId === action.callId);
      const next = {
        ...state,
        offers: withoutOffer(state.offers, action.callId),
        pending: withoutPending(state.pending, action.callId),
      };
      // A call that was ringing here ended before anyone answered (caller hung up, missed): say so, unless this
      // agent is busy with another call.
      if (offer && !state.call) {
        next.ended = {
          callId: action.callId,
          from: offer.from,
          reason: action.reason,
          note: 'It ended while ringing, before anyone answered.',
          local: false,
          liveAt: null,
          endedAt: action.now,
        };
      }
      return next;
    }
    case 'live':
      return state.call?.callId === action.callId
        ? { ...state, call: { ...state.call, state: 'live', liveAt: action.liveAt } }
        : state;
    case 'presence':
      return { ...state, presence: action.presence };
    case 'accept-start':
      return {
        ...state,
        notice: null,
        micError: null,
        pending: { ...state.pending, [action.offer.callId]: { kind: 'accepting', offer: action.offer } },
      };
    case 'accepted': {
      const offer = state.pending[action.callId]?.offer ?? state.offers.find((o) => o.callId === action.callId);
      if (!offer) return { ...state, pending: withoutPending(state.pending, action.callId) };
      return {
        ...state,
        offers: withoutOffer(state.offers, action.callId),
        pending: withoutPending(state.pending, action.callId),
        ended: null,
        call: {
          callId: action.callId,
          from: offer.from,
          state: action.state ?? 'bridging',
          acceptedAt: action.now,
          liveAt: null,
          holder: 'here',
        },
      };
    }
    case 'accept-failed':
      return {
        ...state,
        notice: action.notice ?? state.notice,
        pending: withoutPending(state.pending, action.callId),
        offers: action.dropOffer ? withoutOffer(state.offers, action.callId) : state.offers,
      };
    case 'decline-start':
      return {
        ...state,
        pending: { ...state.pending, [action.offer.callId]: { kind: 'declining', offer: action.offer } },
      };
    case 'decline-done':
      return {
        ...state,
        notice: action.notice ?? state.notice,
        pending: withoutPending(state.pending, action.callId),
        offers: withoutOffer(state.offers, action.callId),
      };
    case 'holder':
      return state.call?.callId === action.callId
        ? { ...state, call: { ...state.call, holder: action.holder } }
        : state;
    case 'hangup-start':
      return { ...state, hangingUp: true };
    case 'hangup-failed':
      return { ...state, hangingUp: false, notice: action.notice };
    case 'local-end':
      return endCall(state, {
        callId: action.callId,
        reason: action.reason,
        note: action.note,
        local: true,
        endedAt: action.now,
      });
    case 'mic-error':
      return { ...state, micError: action.message };
    case 'notice':
      return { ...state, notice: action.notice };
    case 'dismiss-ended':
      return { ...state, ended: null };
    case 'dismiss-mic-error':
      return { ...state, micError: null };
    case 'logged-out':
      return initialAgentState;
  }
}

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { AckFailure } from '../../../src/client/acks.js';
import type { AgentClient, ConnectionStatus } from '../../../src/client/agent-client.js';
import type { CallOffered, CallTransferStatus } from '../../../src/shared/protocol.js';
import type { Api } from '../lib/api.js';
import {
  type AudioProcessing,
  acquireMicrophone,
  DEFAULT_PROCESSING,
  type MediaSnapshot,
  MicError,
} from '../lib/call-media.js';
import { type AgentState, agentReducer, initialAgentState, type Notice } from '../state/agent-state.js';
import { useCallMedia } from './useCallMedia.js';

export interface AgentConsoleOptions {
  client: AgentClient | null;
  connection: ConnectionStatus;
  api: Api;
  token: string;
  agentId: string;
  role: 'agent' | 'supervisor';
  /** From GET /api/config; undefined while it is loading (the call's media waits for it). */
  iceServers?: RTCIceServer[] | undefined;
  processing?: AudioProcessing;
}

export interface AgentConsole {
  state: AgentState;
  media: MediaSnapshot | null;
  /** Live level readers for the meters (0…1); cheap, meant for requestAnimationFrame. */
  levels: { mic: () => number; caller: () => number };
  accept: (callId: string) => Promise<void>;
  decline: (callId: string) => Promise<void>;
  hangup: () => Promise<void>;
  /** Calls a WhatsApp user (business-initiated); refusals become a notice in plain words. */
  dial: (to: string) => Promise<void>;
  /** A dial under way: the ack has not come yet. */
  dialing: boolean;
  /** The dialled call's progress (`dialing`, `ringing`, `answered`, `failed`), for ringback and the status line. */
  outbound: { callId: string; status: string } | null;
  /** The call this agent holds (the caller hears music), if any. */
  heldCallId: string | null;
  holdBusy: boolean;
  hold: () => Promise<void>;
  resume: () => Promise<void>;
  toggleMute: () => void;
  setPresence: (status: 'online' | 'away') => Promise<void>;
  /** Moves the call's audio to this tab (when another tab of this agent holds it). */
  takeOverHere: () => void;
  /** Blind transfer of the current call; resolves with an error message, or null when it rings. */
  transfer: (to: { agentId: string } | { team: string }) => Promise<string | null>;
  /** Consult transfer: ask an agent first (the caller holds), then complete or cancel. */
  consult: (agentId: string) => Promise<string | null>;
  consultEnd: (how: 'complete' | 'cancel') => Promise<string | null>;
  /** The agent this one is consulting on the current call, if any. */
  consulting: string | null;
  /** The current call's transfer: ringing its targets, or back after nobody answered. */
  transferStatus: CallTransferStatus | null;
  /** After-call work for an ended call (`call:wrapup`). */
  wrapUp: (callId: string, code: string, notes: string) => Promise<{ ok: true } | { ok: false; message: string }>;
  dismissEnded: () => void;
  dismissNotice: () => void;
  dismissMicError: () => void;
}

const errorNotice = (res: AckFailure): Notice => ({ tone: 'error', text: res.message });

/**
 * The agent console's behaviour: protocol events into the reducer, the agent's actions out as acknowledged emits;
 * the call's media follows the state through {@link useCallMedia}.
 */
export function useAgentConsole(opts: AgentConsoleOptions): AgentConsole {
  const { client, api, token, agentId } = opts;
  const [state, dispatch] = useReducer(agentReducer, initialAgentState);
  const [heldCallId, setHeldCallId] = useState<string | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;
  const processing = opts.processing ?? DEFAULT_PROCESSING;
  const { media, levels, toggleMute, stashMic } = useCallMedia({
    client,
    token,
    agentId,
    call: state.call,
    connects: opts.connection.connects,
    processing,
    iceServers: opts.iceServers,
    dispatch,
  });

  const [dialing, setDialing] = useState(false);
  const [outbound, setOutbound] = useState<{ callId: string; status: string } | null>(null);
  const [transferStatus, setTransferStatus] = useState<CallTransferStatus | null>(null);
  const callId = state.call?.callId;
  const [consulting, setConsulting] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new call starts without a transfer
  useEffect(() => {
    setTransferStatus(null);
    setConsulting(null);
  }, [callId]);

  // ---- protocol events ---------------------------------------------------------------------------------------
  useEffect(() => {
    if (!client) return;
    const offTransfer = client.on('call:transfer', (p) => {
      setTransferStatus(p);
      // A consultation nobody answered is over.
      if (p.status === 'returned') setConsulting(null);
    });
    const now = () => Date.now();
    const offs = [
      client.on('call:progress', (p) => {
        setOutbound({ callId: p.callId, status: p.status });
        if (p.message) dispatch({ type: 'notice', notice: { tone: 'error', text: p.message } });
      }),
      client.on('call:permission', (p) =>
        dispatch({
          type: 'notice',
          notice: {
            tone: 'info',
            text:
              p.response === 'accept'
                ? `+${p.to} now allows calls from us: you can call them.`
                : `+${p.to} declined to be called.`,
          },
        }),
      ),
      client.on('session', (session) => {
        dispatch({ type: 'session', session, now: now() });
        // A reloaded tab learns from the session whether its call is on hold.
        setHeldCallId(session.activeCall?.state === 'on-hold' ? session.activeCall.callId : null);
      }),
      client.on('call:offered', (offer) => dispatch({ type: 'offered', offer })),
      client.on('call:taken', (p) => dispatch({ type: 'taken', callId: p.callId, agentId: p.agentId, now: now() })),
      client.on('call:withdrawn', (p) => dispatch({ type: 'withdrawn', callId: p.callId })),
      client.on('call:ended', (p) => dispatch({ type: 'ended', callId: p.callId, reason: p.reason, now: now() })),
      client.on('call:hold-alert', (p) =>
        dispatch({
          type: 'notice',
          notice: { tone: 'info', text: `The caller has been on hold for ${Math.round(p.heldMs / 60_000)} min.` },
        }),
      ),
      client.on('call:live', (p) => dispatch({ type: 'live', callId: p.callId, liveAt: p.liveAt })),
      client.on('agent:presence', (p) => {
        if (p.agentId === agentId) dispatch({ type: 'presence', presence: p.presence });
      }),
    ];
    return () => {
      offTransfer();
      for (const off of offs) off();
    };
  }, [client, agentId]);

  // When the call ends, look up why if the server's own word was missed (ended while disconnected).
  const ended = state.ended;
  useEffect(() => {
    if (!ended || ended.reason !== null) return;
    let cancelled = false;
    void api
      .call(ended.callId)
      .then((d) => {
        if (!cancelled && d.reason) dispatch({ type: 'ended', callId: d.id, reason: d.reason, now: Date.now() });
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [ended, api]);

  // ---- actions -----------------------------------------------------------------------------------------------
  const accept = useCallback(
    async (id: string) => {
      const offer = stateRef.current.offers.find((o: CallOffered) => o.callId === id);
      if (!client || !offer || stateRef.current.pending[id]) return;
      dispatch({ type: 'accept-start', offer });
      // The microphone first: without it, decline, so the call rings on for others instead of dying here.
      let stream: MediaStream;
      try {
        stream = await acquireMicrophone(processing);
      } catch (err) {
        const message = err instanceof MicError ? err.message : String(err);
        const res = await client.decline(id);
        const passedOn = res.ok || res.error === 'already-taken' || res.error === 'call-ended';
        dispatch({
          type: 'mic-error',
          message: `${message} ${passedOn ? 'This call was declined so another agent can take it.' : `Declining the call failed too: ${res.message}`}`,
        });
        dispatch({ type: 'accept-failed', callId: id, dropOffer: true, notice: null });
        return;
      }
      const res = await client.accept(id);
      if (!res.ok) {
        for (const t of stream.getTracks()) t.stop();
        const gone = res.error !== 'timeout' && res.error !== 'disconnected' && res.error !== 'no-media-node';
        dispatch({ type: 'accept-failed', callId: id, dropOffer: gone, notice: errorNotice(res) });
        return;
      }
      stashMic(id, stream);
      dispatch({ type: 'accepted', callId: id, state: res.state, now: Date.now() });
    },
    [client, processing, stashMic],
  );

  const decline = useCallback(
    async (id: string) => {
      const offer = stateRef.current.offers.find((o: CallOffered) => o.callId === id);
      if (!client || !offer || stateRef.current.pending[id]) return;
      dispatch({ type: 'decline-start', offer });
      const res = await client.decline(id);
      // Whatever the ack, this card is done: declined, taken or ended.
      const quiet =
        res.ok || res.error === 'already-taken' || res.error === 'call-ended' || res.error === 'not-offered';
      dispatch({ type: 'decline-done', callId: id, notice: quiet ? null : errorNotice(res) });
    },
    [client],
  );

  const hangup = useCallback(async () => {
    const c = stateRef.current.call;
    if (!client || !c) return;
    dispatch({ type: 'hangup-start' });
    const res = await client.hangup(c.callId);
    if (res.ok) {
      // `call:ended` follows with the reason; if it got lost, ask the API.
      setTimeout(() => {
        if (stateRef.current.call?.callId !== c.callId) return;
        void api
          .call(c.callId)
          .then((d) => dispatch({ type: 'ended', callId: c.callId, reason: d.reason ?? 'completed', now: Date.now() }))
          .catch(() => undefined);
      }, 3000);
      return;
    }
    if (res.error === 'call-ended' || res.error === 'unknown-call' || res.error === 'not-your-call') {
      const d = await api.call(c.callId).catch(() => null);
      dispatch({ type: 'ended', callId: c.callId, reason: d?.reason ?? 'completed', now: Date.now() });
      return;
    }
    dispatch({ type: 'hangup-failed', notice: errorNotice(res) });
  }, [client, api]);

  const dial = useCallback(
    async (to: string) => {
      if (!client || stateRef.current.call) return;
      setDialing(true);
      try {
        let stream: MediaStream;
        try {
          stream = await acquireMicrophone(processing);
        } catch (err) {
          dispatch({ type: 'mic-error', message: err instanceof MicError ? err.message : String(err) });
          return;
        }
        const res = await client.dial(to);
        if (!res.ok) {
          for (const t of stream.getTracks()) t.stop();
          dispatch({
            type: 'notice',
            notice: { tone: res.error === 'no-permission' ? 'info' : 'error', text: res.message },
          });
          return;
        }
        const at = Date.now();
        const offer = { callId: res.callId, from: { name: null, number: to }, deadlineAt: at + 60_000, createdAt: at };
        setOutbound({ callId: res.callId, status: 'dialing' });
        dispatch({ type: 'accept-start', offer });
        stashMic(res.callId, stream);
        dispatch({ type: 'accepted', callId: res.callId, state: 'dialing', now: at });
      } finally {
        setDialing(false);
      }
    },
    [client, processing, stashMic],
  );
  const [holdBusy, setHoldBusy] = useState(false);
  const holdOrResume = useCallback(
    async (hold: boolean) => {
      const c = stateRef.current.call;
      if (!client || !c) return;
      setHoldBusy(true);
      const res = hold ? await client.hold(c.callId) : await client.resume(c.callId);
      setHoldBusy(false);
      if (res.ok) setHeldCallId(hold ? c.callId : null);
      else dispatch({ type: 'notice', notice: errorNotice(res) });
    },
    [client],
  );
  const hold = useCallback(() => holdOrResume(true), [holdOrResume]);
  const resume = useCallback(() => holdOrResume(false), [holdOrResume]);

  const setPresence = useCallback(
    async (status: 'online' | 'away') => {
      if (!client) return;
      const res = await client.setPresence(status);
      if (res.ok) dispatch({ type: 'presence', presence: res.presence ?? status });
      else dispatch({ type: 'notice', notice: errorNotice(res) });
    },
    [client],
  );

  const transfer = useCallback(
    async (to: { agentId: string } | { team: string }) => {
      const c = stateRef.current.call;
      if (!client || !c) return 'There is no call to transfer.';
      const res = await client.transfer(c.callId, to);
      return res.ok ? null : res.message;
    },
    [client],
  );

  const consult = useCallback(
    async (to: string) => {
      const c = stateRef.current.call;
      if (!client || !c) return 'There is no call to consult on.';
      const res = await client.consult(c.callId, to);
      if (res.ok) setConsulting(to);
      return res.ok ? null : res.message;
    },
    [client],
  );

  const consultEnd = useCallback(
    async (how: 'complete' | 'cancel') => {
      const c = stateRef.current.call;
      if (!client || !c) return 'There is no call.';
      const res = how === 'complete' ? await client.consultComplete(c.callId) : await client.consultCancel(c.callId);
      if (res.ok) {
        setConsulting(null);
        setTransferStatus(null);
      }
      return res.ok ? null : res.message;
    },
    [client],
  );

  const wrapUp = useCallback(
    async (callId: string, code: string, notes: string) => {
      if (!client) return { ok: false as const, message: 'Not connected to the server.' };
      const res = await client.wrapUp(callId, code, notes.trim() ? notes : undefined);
      return res.ok ? { ok: true as const } : { ok: false as const, message: res.message };
    },
    [client],
  );

  const takeOverHere = useCallback(() => {
    const c = stateRef.current.call;
    if (c) dispatch({ type: 'holder', callId: c.callId, holder: 'here' });
  }, []);

  return {
    state,
    media,
    levels,
    accept,
    decline,
    hangup,
    dial,
    dialing,
    outbound,
    heldCallId: heldCallId !== null && heldCallId === state.call?.callId ? heldCallId : null,
    holdBusy,
    hold,
    resume,
    toggleMute,
    setPresence,
    takeOverHere,
    transfer,
    transferStatus,
    consult,
    consultEnd,
    consulting,
    wrapUp,
    dismissEnded: useCallback(() => dispatch({ type: 'dismiss-ended' }), []),
    dismissNotice: useCallback(() => dispatch({ type: 'notice', notice: null }), []),
    dismissMicError: useCallback(() => dispatch({ type: 'dismiss-mic-error' }), []),
  };
}

import { type Dispatch, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AgentClient } from '../../../src/client/agent-client.js';
import { type AudioProcessing, acquireMicrophone, CallMedia, type MediaSnapshot, MicError } from '../lib/call-media.js';
import { TabChannel } from '../lib/tab-channel.js';
import type { ActiveCallView, AgentAction } from '../state/agent-state.js';

export interface CallMediaOptions {
  client: AgentClient | null;
  token: string;
  agentId: string;
  call: ActiveCallView | null;
  /** Successful (re)connections of the agent socket so far. */
  connects: number;
  processing: AudioProcessing;
  /** From GET /api/config; undefined while it is loading: media starts once the ICE servers are known. */
  iceServers: RTCIceServer[] | undefined;
  dispatch: Dispatch<AgentAction>;
}

export interface CallMediaControls {
  media: MediaSnapshot | null;
  /** Live level readers for the meters (0…1); cheap, meant for requestAnimationFrame. */
  levels: { mic: () => number; caller: () => number };
  toggleMute: () => void;
  /** Hands over a microphone opened before accepting `callId`, so the media does not open it twice. */
  stashMic: (callId: string, stream: MediaStream) => void;
}

/**
 * The call's media follows the state: this tab's {@link CallMedia} is started when the call is held here (accepted
 * here, resumed after a reload, or moved here), renegotiated after a reconnection that lost it, and closed when the
 * call ends or another tab takes it. Only the tab holding the media hangs up on pagehide.
 */
export function useCallMedia(opts: CallMediaOptions): CallMediaControls {
  const { client, token, agentId, call, connects, processing, iceServers, dispatch } = opts;
  const [media, setMedia] = useState<MediaSnapshot | null>(null);
  const mediaRef = useRef<CallMedia | null>(null);
  const micRef = useRef<{ callId: string; stream: MediaStream } | null>(null);
  const tabs = useMemo(() => new TabChannel(agentId), [agentId]);
  useEffect(() => () => tabs.close(), [tabs]);

  const closeMedia = useCallback(() => {
    const m = mediaRef.current;
    if (!m) return;
    mediaRef.current = null;
    tabs.release(m.callId);
    m.close();
    setMedia(null);
  }, [tabs]);

  // Signaling for the call this tab holds.
  useEffect(() => {
    if (!client) return;
    const offs = [
      client.on('rtc:answer', (p) => {
        if (mediaRef.current?.callId === p.callId) void mediaRef.current.handleAnswer(p.sdp);
      }),
      client.on('rtc:candidate', (p) => {
        if (mediaRef.current?.callId === p.callId) void mediaRef.current.handleCandidate(p.candidate);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [client]);

  // A reconnected socket may have lost an offer in flight: a connection that is not up offers again.
  useEffect(() => {
    const m = mediaRef.current;
    if (connects > 1 && m && m.snapshot.phase !== 'connected') void m.negotiate();
  }, [connects]);

  // A call learnt from the session (reload, new tab): does another tab of this agent hold its media?
  useEffect(() => {
    if (call?.holder !== 'unknown') return;
    let cancelled = false;
    void tabs.whoHolds(call.callId).then((elsewhere) => {
      if (!cancelled) dispatch({ type: 'holder', callId: call.callId, holder: elsewhere ? 'elsewhere' : 'here' });
    });
    return () => {
      cancelled = true;
    };
  }, [call, tabs, dispatch]);

  useEffect(
    () =>
      tabs.onTakenOver((callId) => {
        if (mediaRef.current?.callId === callId) closeMedia();
        dispatch({ type: 'holder', callId, holder: 'elsewhere' });
      }),
    [tabs, closeMedia, dispatch],
  );

  const callId = call?.callId ?? null;
  const holdsHere = call?.holder === 'here';
  useEffect(() => {
    if (!client || !callId || !holdsHere) {
      closeMedia();
      return;
    }
    if (mediaRef.current?.callId === callId) return;
    closeMedia();
    if (iceServers === undefined) return; // /api/config is still loading (a call resumed just after a reload)
    let cancelled = false;
    void (async () => {
      const ready = micRef.current?.callId === callId ? micRef.current.stream : null;
      micRef.current = null;
      let stream: MediaStream;
      try {
        stream = ready ?? (await acquireMicrophone(processing));
      } catch (err) {
        if (cancelled) return;
        // A resumed call and no microphone: hang up cleanly and say why.
        const message = err instanceof MicError ? err.message : String(err);
        dispatch({ type: 'mic-error', message: `${message} The call was ended.` });
        dispatch({ type: 'local-end', callId, reason: 'microphone-unavailable', note: message, now: Date.now() });
        await client.hangup(callId);
        return;
      }
      if (cancelled) {
        for (const t of stream.getTracks()) t.stop();
        return;
      }
      const m = new CallMedia({ callId, mic: stream, client, iceServers, onChange: setMedia });
      mediaRef.current = m;
      tabs.claim(callId);
      setMedia(m.snapshot);
      await m.negotiate();
    })();
    return () => {
      cancelled = true;
    };
  }, [client, callId, holdsHere, closeMedia, processing, iceServers, tabs, dispatch]);

  // Release everything on logout/unmount.
  useEffect(
    () => () => {
      closeMedia();
      if (micRef.current) for (const t of micRef.current.stream.getTracks()) t.stop();
      micRef.current = null;
    },
    [closeMedia],
  );

  // The tab that holds the call is going away. A reload cannot be told from a close here, so the server is told
  // the agent left: a reload re-offers and keeps the call within the grace, a closed tab ends it after the grace.
  // A ringing offer needs nothing (the socket closes and the server moves on).
  useEffect(() => {
    const onPageHide = () => {
      const m = mediaRef.current;
      if (!m || m.closed) return;
      navigator.sendBeacon('/api/agent/beacon', JSON.stringify({ token, callId: m.callId, action: 'leave' }));
    };
    window.addEventListener('pagehide', onPageHide);
    return () => window.removeEventListener('pagehide', onPageHide);
  }, [token]);

  const toggleMute = useCallback(() => {
    const m = mediaRef.current;
    if (m) m.setMuted(!m.snapshot.muted);
  }, []);

  const stashMic = useCallback((id: string, stream: MediaStream) => {
    if (micRef.current) for (const t of micRef.current.stream.getTracks()) t.stop();
    micRef.current = { callId: id, stream };
  }, []);

  const levels = useMemo(
    () => ({ mic: () => mediaRef.current?.micLevel() ?? 0, caller: () => mediaRef.current?.callerLevel() ?? 0 }),
    [],
  );

  return { media, levels, toggleMute, stashMic };
}

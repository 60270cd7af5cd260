import { useEffect, useRef, useState } from 'react';
import type { AgentClient } from '../../../src/client/agent-client.js';
import { MonitorMedia, type MonitorMode } from '../lib/monitor-media.js';

/** Listen (hear both sides), whisper (the agent hears you too, the caller never does), stop. */
export function MonitorControls({
  callId,
  client,
  supervisorId,
  iceServers,
}: {
  callId: string;
  client: AgentClient;
  supervisorId: string;
  iceServers: RTCIceServer[];
}) {
  const [mode, setMode] = useState<MonitorMode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const media = useRef<MonitorMedia | null>(null);
  useEffect(
    () => () => {
      media.current?.close();
      if (media.current) void client.monitor(callId, 'stop');
    },
    [client, callId],
  );

  const set = async (next: MonitorMode | 'stop') => {
    setError(null);
    const res = await client.monitor(callId, next);
    if (!res.ok) {
      setError(res.message);
      return;
    }
    if (next === 'stop') {
      media.current?.close();
      media.current = null;
      setMode(null);
      return;
    }
    if (!media.current) {
      try {
        media.current = await MonitorMedia.open({ callId, supervisorId, client, iceServers });
      } catch (err) {
        setError((err as Error).message);
        await client.monitor(callId, 'stop');
        return;
      }
    }
    setMode(next);
  };

  return (
    <div className="actions" data-testid="monitor-controls" data-mode={mode ?? 'off'}>
      <button
        type="button"
        className={`btn btn-secondary ${mode === 'listen' ? 'is-on' : ''}`}
        onClick={() => void set('listen')}
        data-testid="monitor-listen"
      >
        Listen
      </button>
      <button
        type="button"
        className={`btn btn-secondary ${mode === 'whisper' ? 'is-on' : ''}`}
        onClick={() => void set('whisper')}
        data-testid="monitor-whisper"
      >
        Whisper
      </button>
      {mode && (
        <button type="button" className="btn btn-ghost" onClick={() => void set('stop')} data-testid="monitor-stop">
          Stop
        </button>
      )}
      {mode && (
        <span className="cell-sub" data-testid="monitor-status">
          {mode === 'listen' ? 'Listening to both sides' : 'Whispering: only the agent hears you'}
        </span>
      )}
      {error && (
        <span className="banner banner-error" data-testid="monitor-error">
          {error}
        </span>
      )}
    </div>
  );
}

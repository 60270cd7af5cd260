import { useEffect, useState } from 'react';
import type { Api } from '../lib/api.js';

/** Plays the call's recording with seeking (caller on the left, what the caller heard on the right). */
export function RecordingPlayer({ api, callId }: { api: Api; callId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'none' | 'error' | 'ready'>('loading');
  useEffect(() => {
    let cancelled = false;
    let made: string | null = null;
    api
      .recording(callId)
      .then((blob) => {
        if (cancelled) return;
        if (!blob) return setStatus('none');
        made = URL.createObjectURL(blob);
        setUrl(made);
        setStatus('ready');
      })
      .catch(() => !cancelled && setStatus('error'));
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, callId]);
  if (status === 'none') return null;
  return (
    <section className="recording" data-testid="recording">
      <h3>Recording</h3>
      {status === 'loading' && <p className="muted">Loading the recording…</p>}
      {status === 'error' && <p className="banner banner-error">The recording could not be loaded.</p>}
      {url && (
        // biome-ignore lint/a11y/useMediaCaption: a call recording has no captions
        <audio controls preload="metadata" src={url} data-testid="recording-audio" />
      )}
      <p className="cell-sub">Left: the caller. Right: what the caller heard.</p>
    </section>
  );
}

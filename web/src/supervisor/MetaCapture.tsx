import { useEffect, useState } from 'react';
import type { Api, Transcript } from '../lib/api.js';
import { formatDuration } from '../lib/format.js';

/**
 * Meta's own recording and transcript of the call, when the number opted in (routing file `metaCapture`): a player
 * and the transcript text. Nothing is shown for a call without them.
 */
export function MetaCapture({ api, callId }: { api: Api; callId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [transcript, setTranscript] = useState<Transcript | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let made: string | null = null;
    api
      .recording(callId, 'meta-recording')
      .then((blob) => {
        if (cancelled || !blob) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      })
      .catch((err: Error) => !cancelled && setError(err.message));
    api
      .transcript(callId)
      .then((t) => !cancelled && setTranscript(t))
      .catch((err: Error) => !cancelled && setError(err.message));
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, callId]);
  if (!url && !transcript && !error) return null;
  return (
    <section className="recording" data-testid="meta-capture">
      <h3>Meta's recording</h3>
      {error && <p className="banner banner-error">{error}</p>}
      {url && (
        // biome-ignore lint/a11y/useMediaCaption: the transcript is shown below when there is one
        <audio controls preload="metadata" src={url} data-testid="meta-recording-audio" />
      )}
      {transcript && (
        <div className="transcript" data-testid="meta-transcript">
          {transcript.segments ? (
            transcript.segments.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: segments have no id and never reorder
              <p key={i}>
                <span className="cell-sub">
                  {s.startMs !== undefined ? `${formatDuration(s.startMs)} ` : ''}
                  {s.speaker}:
                </span>{' '}
                {s.text}
              </p>
            ))
          ) : (
            <pre>{JSON.stringify(transcript.document, null, 2)}</pre>
          )}
        </div>
      )}
    </section>
  );
}

import { useEffect, useState } from 'react';
import type { WrapUpInfo } from '../../../src/shared/rest-types.js';
import type { Api } from '../lib/api.js';
import { formatDuration } from '../lib/format.js';

export type WrapUpSubmit = (
  callId: string,
  code: string,
  notes: string,
) => Promise<{ ok: true } | { ok: false; message: string }>;

/**
 * After-call work: pick a code, add notes, submit. Shown while the server says a call waits for this agent's
 * wrap-up (so a reloaded tab gets it back), and for the call that just ended here.
 */
export function WrapUpForm({
  api,
  endedCallId,
  refreshKey,
  submit,
  onDone,
}: {
  api: Api;
  /** The answered call that just ended in this tab, if any. */
  endedCallId: string | null;
  refreshKey: string;
  submit: WrapUpSubmit;
  onDone: (callId: string) => void;
}) {
  const [info, setInfo] = useState<WrapUpInfo | null>(null);
  const [code, setCode] = useState('');
  const [notes, setNotes] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is the trigger
  useEffect(() => {
    let cancelled = false;
    void api
      .wrapUpInfo()
      .then((i) => {
        if (!cancelled) setInfo(i);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [api, refreshKey]);

  const callId = info?.pending?.callId ?? endedCallId;
  if (!info || !callId || done.includes(callId)) return null;
  const remaining = info.pending && !info.required ? info.pending.until - Date.now() : null;

  const send = async () => {
    if (!code) {
      setError('Pick a wrap-up code.');
      return;
    }
    setSending(true);
    setError(null);
    const res = await submit(callId, code, notes);
    setSending(false);
    if (!res.ok) {
      setError(res.message);
      return;
    }
    setDone((d) => [...d, callId]);
    setCode('');
    setNotes('');
    onDone(callId);
  };

  return (
    <form
      className="card wrapup"
      data-testid="wrapup-form"
      data-call-id={callId}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <h2>Wrap up the call</h2>
      <p className="muted">
        {info.required
          ? 'Calls ring again once you submit.'
          : remaining && remaining > 0
            ? `Calls ring again once you submit, or in ${formatDuration(remaining)}.`
            : 'Add a code and notes for this call.'}
      </p>
      <label className="field">
        <span>Code</span>
        <select value={code} onChange={(e) => setCode(e.target.value)} data-testid="wrapup-code" required>
          <option value="">Choose…</option>
          {info.codes.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Notes</span>
        <textarea
          value={notes}
          maxLength={info.notesMax}
          rows={3}
          onChange={(e) => setNotes(e.target.value)}
          data-testid="wrapup-notes"
        />
        <span className="cell-sub">
          {notes.length}/{info.notesMax}
        </span>
      </label>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="wrapup-error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={sending} data-testid="wrapup-submit">
          {sending ? 'Saving…' : 'Submit wrap-up'}
        </button>
      </div>
    </form>
  );
}

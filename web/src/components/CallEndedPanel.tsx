import { callerLabel, formatDuration, reasonText } from '../lib/format.js';
import type { EndedView } from '../state/agent-state.js';

/** The call that just ended and why, until dismissed or the next call. */
export function CallEndedPanel({ ended, onDismiss }: { ended: EndedView; onDismiss: () => void }) {
  const talked = ended.liveAt ? formatDuration(ended.endedAt - ended.liveAt) : null;
  return (
    <article
      className="card ended"
      data-testid="call-ended"
      data-call-id={ended.callId}
      data-reason={ended.reason ?? ''}
    >
      <div className="ended-head">
        <div>
          <div className="ended-title">Call ended{ended.from ? ` · ${callerLabel(ended.from)}` : ''}</div>
          <div className="ended-reason" data-testid="call-ended-reason">
            {ended.reason ? (
              <>
                {reasonText(ended.reason)} <code>({ended.reason})</code>
              </>
            ) : (
              'Looking up why…'
            )}
          </div>
          {ended.note && <div className="ended-note">{ended.note}</div>}
          {talked && <div className="ended-note">Talk time {talked}</div>}
        </div>
        <button type="button" className="btn btn-ghost" onClick={onDismiss} data-testid="dismiss-ended">
          Dismiss
        </button>
      </div>
    </article>
  );
}

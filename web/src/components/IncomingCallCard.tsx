import type { CallOffered } from '../../../src/shared/protocol.js';
import { useNow } from '../hooks/useNow.js';
import { callerLabel, formatDuration } from '../lib/format.js';

/** One ringing call: who, how long they have waited, how long it keeps ringing here; accept or decline. */
export function IncomingCallCard({
  offer,
  pending,
  onAccept,
  onDecline,
}: {
  offer: CallOffered;
  pending: 'accepting' | 'declining' | null;
  onAccept: () => void;
  onDecline: () => void;
}) {
  const now = useNow(250);
  const waited = now - offer.createdAt;
  const left = Math.max(0, offer.deadlineAt - now);
  const total = Math.max(1, offer.deadlineAt - offer.createdAt);
  const urgent = left < 10_000;
  return (
    <article className="card incoming" data-testid="incoming-call" data-call-id={offer.callId} aria-live="assertive">
      <div className="incoming-head">
        <div className="ring-icon" aria-hidden="true" />
        <div className="caller">
          <div className="caller-name" data-testid="caller-name">
            {callerLabel(offer.from)}
          </div>
          <div className="caller-number" data-testid="caller-number">
            {offer.from.number}
          </div>
        </div>
        <span className="pill pill-wa">WhatsApp call</span>
      </div>
      <dl className="facts">
        <div>
          <dt>Waiting</dt>
          <dd data-testid="time-waited">{formatDuration(waited)}</dd>
        </div>
        <div>
          <dt>Rings here for</dt>
          <dd data-testid="countdown" className={urgent ? 'urgent' : ''}>
            {formatDuration(left)}
          </dd>
        </div>
      </dl>
      <div className="countdown-bar" aria-hidden="true">
        <span style={{ width: `${(100 * left) / total}%` }} className={urgent ? 'urgent' : ''} />
      </div>
      <div className="actions">
        <button
          type="button"
          className="btn btn-accept"
          data-testid="accept-call"
          onClick={onAccept}
          disabled={pending !== null}
        >
          {pending === 'accepting' ? 'Answering…' : 'Accept'}
        </button>
        <button
          type="button"
          className="btn btn-decline"
          data-testid="decline-call"
          onClick={onDecline}
          disabled={pending !== null}
        >
          {pending === 'declining' ? 'Declining…' : 'Decline'}
        </button>
      </div>
    </article>
  );
}

import type { CallSummary } from '../../../src/shared/rest-types.js';
import { outcomeOf, talkTime } from '../components/CallHistory.js';
import { formatDuration, formatWhen, reasonText, stateLabel } from '../lib/format.js';
import { CallerCell, CallRow } from './CallRow.js';

/** Calls in a table; a row opens the call's timeline. */
export function CallsTable({
  title,
  calls,
  now,
  testId,
  empty,
  onOpen,
}: {
  title: string;
  calls: CallSummary[];
  now: number;
  testId: string;
  empty: string;
  onOpen: (id: string) => void;
}) {
  return (
    <section className="card" data-testid={testId} aria-label={title}>
      <h2>
        {title} <span className="count">{calls.length}</span>
      </h2>
      {calls.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table className="table table-click">
          <thead>
            <tr>
              <th>Caller</th>
              <th>State</th>
              <th>Agent</th>
              <th>Started</th>
              <th className="num">Waited</th>
              <th className="num">Talk</th>
              <th>Ended because</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => {
              const o = outcomeOf(c);
              const waitedUntil = c.liveAt ?? c.acceptedAt ?? c.endedAt ?? now;
              return (
                <CallRow key={c.id} callId={c.id} testId="call-row" state={c.state} onOpen={onOpen}>
                  <CallerCell caller={c.caller} />
                  <td>
                    <span className={`pill pill-${o.tone}`} title={c.state}>
                      {c.state === 'ended' ? o.label : stateLabel(c.state)}
                    </span>
                  </td>
                  <td>{c.agentId ?? '—'}</td>
                  <td>{formatWhen(c.createdAt, now)}</td>
                  <td className="num">{formatDuration(waitedUntil - c.createdAt)}</td>
                  <td className="num">{talkTime(c, now)}</td>
                  <td className="cell-sub" title={c.detail ?? undefined}>
                    {c.state === 'ended' ? reasonText(c.reason) : '—'}
                  </td>
                </CallRow>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

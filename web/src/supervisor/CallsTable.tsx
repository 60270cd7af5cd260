import type { CallSummary } from '../../../src/shared/protocol.js';
import { outcomeOf, talkTime } from '../components/CallHistory.js';
import { callerLabel, formatDuration, formatWhen, reasonText, stateLabel } from '../lib/format.js';

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
                <tr
                  key={c.id}
                  data-testid="call-row"
                  data-call-id={c.id}
                  data-state={c.state}
                  tabIndex={0}
                  onClick={() => onOpen(c.id)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') onOpen(c.id);
                  }}
                >
                  <td>
                    <div className="cell-main">{callerLabel(c.caller)}</div>
                    <div className="cell-sub">{c.caller.number}</div>
                  </td>
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
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

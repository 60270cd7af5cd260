import { useEffect, useState } from 'react';
import type { CallSummary } from '../../../src/shared/rest-types.js';
import type { Api, QueuesView } from '../lib/api.js';
import { formatDuration, formatPercent, formatSeconds } from '../lib/format.js';

const REFRESH_MS = 2000;

/**
 * The queues of business-answered calls: who waits in each team's queue, in order of service, for how long and
 * after which menu key; and today's queue figures (service level, abandonment, wait before abandoning, speed of
 * answer from queue entry). In the demo, a waiting caller can be made to press a key.
 */
export function QueuesPanel({
  api,
  demo,
  inMenu,
}: {
  api: Api;
  demo: boolean;
  /** Calls answered by the business that are still in the menu. */
  inMenu: CallSummary[];
}) {
  const [view, setView] = useState<QueuesView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api
        .queues()
        .then((v) => {
          if (!stopped) {
            setView(v);
            setError(null);
          }
        })
        .catch((err: Error) => !stopped && setError(err.message));
    void load();
    const t = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [api]);
  const f = view?.figures;
  const figures = [
    {
      label: `Service level (${f?.serviceLevelSeconds ?? '—'} s)`,
      value: formatPercent(f?.serviceLevel),
      testId: 'fig-service-level',
    },
    { label: 'Queue abandonment', value: formatPercent(f?.abandonmentRate), testId: 'fig-queue-abandonment' },
    { label: 'Avg. wait before abandoning', value: formatSeconds(f?.avgAbandonWaitMs), testId: 'fig-abandon-wait' },
    { label: 'Avg. speed of answer (queue)', value: formatSeconds(f?.avgSpeedOfAnswerMs), testId: 'fig-queue-asa' },
  ];
  const teams = view?.teams ?? [];
  return (
    <section className="card queues" data-testid="supervisor-queues" aria-label="Queues">
      <h2>Queues</h2>
      {error && <p className="banner banner-error">{error}</p>}
      <div className="figures">
        {figures.map((x) => (
          <div key={x.testId} className="figure" data-testid={x.testId}>
            <div className="figure-value">{x.value}</div>
            <div className="figure-label">{x.label}</div>
          </div>
        ))}
      </div>
      {inMenu.length > 0 && (
        <div className="queue-team" data-testid="queue-menu">
          <h3>
            In the menu <span className="muted">({inMenu.length})</span>
          </h3>
          <ul className="plain-list">
            {inMenu.map((c) => (
              <li key={c.id} data-testid="menu-entry" data-call-id={c.id}>
                {c.caller.name ?? c.caller.number} {demo && <DemoKeys api={api} callId={c.id} />}
              </li>
            ))}
          </ul>
        </div>
      )}
      {teams.map((t) => (
        <div key={t.team} className="queue-team" data-testid={`queue-${t.team}`}>
          <h3>
            {t.team} <span className="muted">({t.waiting.length} waiting)</span>
          </h3>
          {t.waiting.length === 0 ? (
            <p className="muted">Nobody is waiting.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Caller</th>
                  <th>Waiting</th>
                  <th>Menu key</th>
                  <th>Ringing</th>
                  {demo && <th>Simulate</th>}
                </tr>
              </thead>
              <tbody>
                {t.waiting.map((w) => (
                  <tr key={w.callId} data-testid="queue-entry" data-call-id={w.callId}>
                    <td>{w.position}</td>
                    <td>{w.caller.name ?? w.caller.number}</td>
                    <td>{formatDuration(w.waitMs)}</td>
                    <td>{w.ivrChoice ?? '—'}</td>
                    <td>{w.offeredTo.join(', ') || '—'}</td>
                    {demo && (
                      <td>
                        <DemoKeys api={api} callId={w.callId} />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </section>
  );
}

/** The demo's simulated caller presses a key (RFC 4733), e.g. while the menu plays. */
function DemoKeys({ api, callId }: { api: Api; callId: string }) {
  const [note, setNote] = useState<string | null>(null);
  const press = (digit: string) =>
    api
      .pressDemoKeys(callId, digit)
      .then(() => setNote(`pressed ${digit}`))
      .catch((err: Error) => setNote(err.message));
  return (
    <span className="demo-keys">
      {['1', '2'].map((d) => (
        <button
          key={d}
          type="button"
          className="btn btn-ghost"
          data-testid={`demo-key-${d}`}
          onClick={() => void press(d)}
        >
          {d}
        </button>
      ))}
      {note && <span className="muted">{note}</span>}
    </span>
  );
}

import { useEffect, useState } from 'react';
import type { TransferTargets } from '../../../src/shared/rest-types.js';
import type { Api } from '../lib/api.js';

export type TransferTo = { agentId: string } | { team: string };

/** Pick an agent (with their presence) or a team to hand the call to; only available agents can be picked. */
export function TransferDialog({
  api,
  onTransfer,
  onConsult,
  onClose,
}: {
  api: Api;
  onTransfer: (to: TransferTo) => Promise<string | null>;
  /** Ask the agent first (the caller holds). */
  onConsult?: ((agentId: string) => Promise<string | null>) | undefined;
  onClose: () => void;
}) {
  const [targets, setTargets] = useState<TransferTargets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      api
        .transferTargets()
        .then((t) => {
          if (!cancelled) setTargets(t);
        })
        .catch((err: Error) => setError(err.message));
    void load();
    const t = setInterval(load, 3000);
    return () => {
      cancelled = true;
      clearInterval(t);
    };
  }, [api]);

  const pick = async (to: TransferTo, consult = false) => {
    setSending(true);
    setError(null);
    const failed = consult && 'agentId' in to && onConsult ? await onConsult(to.agentId) : await onTransfer(to);
    setSending(false);
    if (failed) setError(failed);
    else onClose();
  };

  return (
    <div className="card transfer-dialog" role="dialog" aria-label="Transfer the call" data-testid="transfer-dialog">
      <div className="ended-head">
        <h2>Transfer to…</h2>
        <button type="button" className="btn btn-ghost" onClick={onClose} data-testid="transfer-cancel">
          Close
        </button>
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="transfer-error">
          {error}
        </p>
      )}
      {!targets && !error && <p className="muted">Loading…</p>}
      {targets && (
        <>
          <h3>Agents</h3>
          <ul className="transfer-list">
            {targets.agents.map((a) => (
              <li key={a.id}>
                <button
                  type="button"
                  className="btn btn-secondary"
                  disabled={!a.available || sending}
                  onClick={() => void pick({ agentId: a.id })}
                  data-testid="transfer-agent"
                  data-agent-id={a.id}
                >
                  {a.name}
                </button>
                {onConsult && (
                  <button
                    type="button"
                    className="btn btn-ghost"
                    disabled={!a.available || sending}
                    onClick={() => void pick({ agentId: a.id }, true)}
                    data-testid="transfer-consult"
                    data-agent-id={a.id}
                  >
                    Consult first
                  </button>
                )}
                <span className={`pill pill-${a.available ? 'good' : 'neutral'}`}>{a.presence}</span>
                <span className="cell-sub">{a.teams.join(', ')}</span>
              </li>
            ))}
          </ul>
          <h3>Teams</h3>
          <ul className="transfer-list">
            {targets.teams.map((t) => (
              <li key={t}>
                <button
                  type="button"
                  className="btn btn-secondary"
                  disabled={sending}
                  onClick={() => void pick({ team: t })}
                  data-testid="transfer-team"
                  data-team={t}
                >
                  {t}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

import { useCallback } from 'react';
import type { CallSummary } from '../../../src/shared/rest-types.js';
import { usePolling } from '../hooks/usePolling.js';
import type { Api } from '../lib/api.js';
import { callerLabel, formatDuration, formatWhen, outcomeText, stateLabel } from '../lib/format.js';

export function outcomeOf(c: CallSummary): { label: string; tone: 'good' | 'bad' | 'neutral' | 'warn' | 'connecting' } {
  if (c.state === 'live') return { label: stateLabel(c.state), tone: 'good' };
  if (c.state === 'ringing' || c.state === 'agent-offered') return { label: stateLabel(c.state), tone: 'warn' };
  if (c.state !== 'ended') return { label: stateLabel(c.state), tone: 'connecting' };
  if (c.liveAt) return { label: 'Answered', tone: 'good' };
  if (c.reason === 'missed') return { label: 'Missed', tone: 'bad' };
  if (c.reason === 'caller-hung-up') return { label: 'Abandoned', tone: 'bad' };
  return { label: 'Not connected', tone: 'neutral' };
}

export function talkTime(c: CallSummary, now = Date.now()): string {
  if (!c.liveAt) return '—';
  return formatDuration((c.endedAt ?? now) - c.liveAt);
}

/** The agent's recent calls: answered or missed, how long, who answered, why it ended. */
export function CallHistory({ api, me, refreshKey }: { api: Api; me: string; refreshKey: string }) {
  // refreshKey changes when a call is accepted, goes live or ends here: reload at once.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is the trigger
  const load = useCallback(() => api.calls({ mine: true, limit: 30 }), [api, refreshKey]);
  const { data, error, loading } = usePolling(load, 15_000);
  const calls = data ?? [];
  return (
    <section className="card history" data-testid="call-history" aria-labelledby="history-title">
      <h2 id="history-title">Recent calls</h2>
      {error && <p className="banner banner-error">{error}</p>}
      {!loading && calls.length === 0 && !error && <p className="muted">No calls yet today.</p>}
      <ul className="history-list">
        {calls.map((c) => {
          const o = outcomeOf(c);
          const who = c.agentId === me ? 'you' : c.agentId;
          return (
            <li key={c.id} data-testid="history-row" data-call-id={c.id}>
              <div className="history-top">
                <span className="history-caller">{callerLabel(c.caller)}</span>
                <span className={`pill pill-${o.tone}`}>{o.label}</span>
              </div>
              <div className="history-meta">
                <span>{formatWhen(c.createdAt)}</span>
                <span>· {talkTime(c)}</span>
                {who && (
                  <span>
                    · {c.liveAt ? 'answered' : 'accepted'} by {who}
                  </span>
                )}
              </div>
              {c.state === 'ended' && (
                <div className="history-reason" title={c.detail ?? undefined}>
                  {outcomeText(c.reason, c.endedBy)}
                </div>
              )}
              {c.wrapUp && (
                <div className="history-reason" data-testid="history-wrapup" title={c.wrapUp.notes ?? undefined}>
                  Wrap-up: <code>{c.wrapUp.code}</code>
                  {c.wrapUp.notes ? ` — ${c.wrapUp.notes}` : ''}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

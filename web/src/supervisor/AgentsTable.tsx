import type { AgentRow } from '../lib/api.js';
import { formatDuration } from '../lib/format.js';

const ORDER = { online: 0, busy: 1, away: 2, offline: 3 } as const;

/** Every agent with their presence, what they are doing and how long they have been free. */
export function AgentsTable({ agents, now }: { agents: AgentRow[]; now: number }) {
  const rows = [...agents].sort((a, b) => ORDER[a.presence] - ORDER[b.presence] || a.name.localeCompare(b.name));
  return (
    <section className="card" data-testid="supervisor-agents" aria-labelledby="agents-title">
      <h2 id="agents-title">Agents</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Status</th>
            <th>Teams</th>
            <th>Now</th>
            <th className="num">Tabs</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id} data-testid="agent-row" data-agent-id={a.id} data-presence={a.presence}>
              <td>
                <div className="cell-main">{a.name}</div>
                <div className="cell-sub">
                  {a.id}
                  {a.role === 'supervisor' ? ' · supervisor' : ''}
                </div>
              </td>
              <td>
                <span className={`status status-${a.presence}`}>
                  <span className="dot" aria-hidden="true" />
                  {a.presence}
                </span>
              </td>
              <td>{a.teams.join(', ') || '—'}</td>
              <td className="cell-sub nowrap">{activity(a, now)}</td>
              <td className="num">{a.sockets}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function activity(a: AgentRow, now: number): string {
  if (a.callId) return 'On a call';
  if (a.wrapUpUntil) return `Wrap-up ${formatDuration(a.wrapUpUntil - now)}`;
  if (a.offers > 0) return `Ringing (${a.offers})`;
  if (a.presence === 'online' && a.idleSince) return `Idle ${formatDuration(now - a.idleSince)}`;
  return '—';
}

import { useCallback, useEffect, useState } from 'react';
import type { Api, HistoryFilters, HistoryRow } from '../lib/api.js';
import { formatDuration, formatWhen, reasonText } from '../lib/format.js';
import { CallerCell, CallRow } from './CallRow.js';

const PAGE_SIZE = 25;
const EMPTY: HistoryFilters = { number: '', agent: '', team: '', outcome: '', code: '', from: '', to: '' };
const OUTCOMES = ['completed', 'missed', 'caller-hung-up', 'rejected', 'media-failed', 'agent-disconnected'];

/** Date inputs give `YYYY-MM-DD`; `to` means the end of that day. */
function apiFilters(f: HistoryFilters): Partial<HistoryFilters> {
  return {
    ...f,
    from: f.from ? String(new Date(`${f.from}T00:00:00`).getTime()) : '',
    to: f.to ? String(new Date(`${f.to}T23:59:59.999`).getTime()) : '',
  };
}

/** Ended calls, searchable: number, agent, team, outcome, wrap-up code, dates; paged; CSV export. */
export function HistoryPanel({ api, onOpen }: { api: Api; onOpen: (id: string) => void }) {
  const [form, setForm] = useState<HistoryFilters>(EMPTY);
  const [applied, setApplied] = useState<HistoryFilters>(EMPTY);
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<{ total: number; calls: HistoryRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setResult(await api.history(apiFilters(applied), page, PAGE_SIZE));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [api, applied, page]);
  useEffect(() => {
    void load();
  }, [load]);

  const exportCsv = async () => {
    try {
      const blob = await api.historyCsv(apiFilters(applied));
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `calls-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const field = (k: keyof HistoryFilters, label: string, type = 'text') => (
    <label className="field field-inline">
      <span>{label}</span>
      <input
        type={type}
        value={form[k]}
        onChange={(e) => setForm({ ...form, [k]: e.target.value })}
        data-testid={`history-filter-${k}`}
      />
    </label>
  );
  const pages = result ? Math.max(1, Math.ceil(result.total / PAGE_SIZE)) : 1;

  return (
    <section className="card" data-testid="history-panel" aria-label="Call history">
      <h2>Call history {result && <span className="count">{result.total}</span>}</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setApplied(form);
        }}
      >
        {field('number', 'Number')}
        {field('agent', 'Agent')}
        {field('team', 'Team')}
        <label className="field field-inline">
          <span>Outcome</span>
          <select
            value={form.outcome}
            onChange={(e) => setForm({ ...form, outcome: e.target.value })}
            data-testid="history-filter-outcome"
          >
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {reasonText(o)}
              </option>
            ))}
          </select>
        </label>
        {field('code', 'Wrap-up code')}
        {field('from', 'From', 'date')}
        {field('to', 'To', 'date')}
        <button type="submit" className="btn btn-primary" data-testid="history-search">
          Search
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setForm(EMPTY);
            setApplied(EMPTY);
            setPage(1);
          }}
        >
          Clear
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => void exportCsv()} data-testid="history-csv">
          Export CSV
        </button>
      </form>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {result && result.calls.length === 0 && <p className="muted">No calls match.</p>}
      {result && result.calls.length > 0 && (
        <table className="table table-click">
          <thead>
            <tr>
              <th>Caller</th>
              <th>Started</th>
              <th>Agent</th>
              <th>Teams</th>
              <th>Outcome</th>
              <th className="num">Waited</th>
              <th className="num">Talk</th>
              <th>Wrap-up</th>
            </tr>
          </thead>
          <tbody>
            {result.calls.map((c) => (
              <CallRow key={c.id} callId={c.id} testId="history-result" onOpen={onOpen}>
                <CallerCell caller={c.caller} />
                <td>{formatWhen(c.createdAt)}</td>
                <td>{c.agentId ?? '—'}</td>
                <td className="cell-sub">{c.teams.join(', ') || '—'}</td>
                <td>{reasonText(c.outcome)}</td>
                <td className="num">{formatDuration(c.waitMs)}</td>
                <td className="num">{c.talkMs === null ? '—' : formatDuration(c.talkMs)}</td>
                <td title={c.wrapUp?.notes ?? undefined}>{c.wrapUp ? <code>{c.wrapUp.code}</code> : '—'}</td>
              </CallRow>
            ))}
          </tbody>
        </table>
      )}
      {pages > 1 && (
        <div className="pager">
          <button type="button" className="btn btn-ghost" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            ← Newer
          </button>
          <span className="muted">
            Page {page} of {pages}
          </span>
          <button
            type="button"
            className="btn btn-ghost"
            disabled={page >= pages}
            onClick={() => setPage(page + 1)}
            data-testid="history-next"
          >
            Older →
          </button>
        </div>
      )}
    </section>
  );
}

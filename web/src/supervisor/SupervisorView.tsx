import { useState } from 'react';
import type { AgentClient } from '../../../src/client/agent-client.js';
import { useNow } from '../hooks/useNow.js';
import type { Api, ConsoleConfig } from '../lib/api.js';
import { AgentsAdmin } from './AgentsAdmin.js';
import { AgentsTable } from './AgentsTable.js';
import { CallDrawer } from './CallDrawer.js';
import { CallsTable } from './CallsTable.js';
import { HistoryPanel } from './HistoryPanel.js';
import { QueuesPanel } from './QueuesPanel.js';
import { TodayFigures } from './TodayFigures.js';
import { useSupervisorData } from './useSupervisorData.js';

/** Live calls, agents and today's figures; a call opens its timeline. */
export function SupervisorView({
  api,
  client,
  config,
  token,
  me,
}: {
  api: Api;
  client: AgentClient | null;
  config: ConsoleConfig | null;
  token: string;
  /** The supervisor's own id (their monitoring leg is `sup:<id>`). */
  me?: string;
}) {
  const { calls, agents, today } = useSupervisorData(api, client);
  const [open, setOpen] = useState<string | null>(null);
  const [managing, setManaging] = useState(false);
  const now = useNow(1000);
  const all = calls.data ?? [];
  const active = all.filter((c) => c.state !== 'ended');
  const recent = all.filter((c) => c.state === 'ended').slice(0, 30);
  const error = calls.error ?? agents.error ?? today.error;

  return (
    <div className="supervisor" data-testid="supervisor-view">
      <div className="toolbar">
        <h1>Supervisor</h1>
        <div className="toolbar-right">
          {config?.inspect && (
            <a
              className="btn btn-ghost"
              href={config.inspectUrl ?? 'https://stately.ai/inspect'}
              target="_blank"
              rel="noreferrer"
              data-testid="inspector-link"
            >
              Open the Stately inspector ↗
            </a>
          )}
          {/* A POST, so the token never lands in a URL (history, proxy logs); the server answers with a cookie. */}
          <form method="post" action="/admin/login" target="_blank" className="inline-form" rel="noopener">
            <input type="hidden" name="token" value={token} />
            <button type="submit" className="btn btn-ghost" data-testid="queues-link">
              Queues ↗
            </button>
          </form>
          {config?.demo && <DemoCallButton api={api} onPlaced={() => calls.refresh()} />}
        </div>
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <TodayFigures stats={today.data} />
      <QueuesPanel api={api} demo={config?.demo ?? false} inMenu={active.filter((c) => c.state === 'ivr')} />
      <div className="supervisor-grid">
        <div className="supervisor-calls" data-testid="supervisor-calls">
          <CallsTable
            title="Live and waiting"
            calls={active}
            now={now}
            testId="supervisor-live-calls"
            empty="No calls right now."
            onOpen={setOpen}
          />
          <CallsTable
            title="Recent calls"
            calls={recent}
            now={now}
            testId="supervisor-recent-calls"
            empty="No finished calls yet."
            onOpen={setOpen}
          />
        </div>
        <AgentsTable agents={agents.data ?? []} now={now} />
      </div>
      <HistoryPanel api={api} onOpen={setOpen} />
      <button
        type="button"
        className="btn btn-ghost"
        onClick={() => setManaging((m) => !m)}
        aria-expanded={managing}
        data-testid="manage-agents-toggle"
      >
        {managing ? 'Hide agent management' : 'Manage agents'}
      </button>
      {managing && <AgentsAdmin api={api} />}
      {open && (
        <CallDrawer
          api={api}
          callId={open}
          onClose={() => setOpen(null)}
          monitor={
            client && me
              ? { client, supervisorId: me, iceServers: (config?.iceServers ?? []) as RTCIceServer[] }
              : undefined
          }
        />
      )}
    </div>
  );
}

function DemoCallButton({ api, onPlaced }: { api: Api; onPlaced: () => void }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const place = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const { callId } = await api.placeDemoCall();
      setMessage({ tone: 'info', text: `Simulated call placed (${callId.slice(0, 16)}…).` });
      onPlaced();
    } catch (err) {
      setMessage({ tone: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="demo">
      {message && (
        <span className={`inline-msg inline-${message.tone}`} data-testid="demo-call-message">
          {message.text}
        </span>
      )}
      <button
        type="button"
        className="btn btn-primary"
        onClick={() => void place()}
        disabled={busy}
        data-testid="place-demo-call"
      >
        {busy ? 'Placing…' : 'Place a simulated call'}
      </button>
    </span>
  );
}

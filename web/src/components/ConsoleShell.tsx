import { useCallback, useEffect, useMemo, useState } from 'react';
import type { LoginResult } from '../../../src/client/api-request.js';
import { useAgentClient } from '../hooks/useAgentClient.js';
import { useAgentConsole } from '../hooks/useAgentConsole.js';
import { useRingtone } from '../hooks/useRingtone.js';
import { type ConsoleConfig, createApi } from '../lib/api.js';
import { SupervisorView } from '../supervisor/SupervisorView.js';
import { AgentView } from './AgentView.js';
import { ConnectionBadge } from './ConnectionBadge.js';
import { PresenceSwitch } from './PresenceSwitch.js';

type Tab = 'agent' | 'supervisor';

const tabFromHash = (isSupervisor: boolean): Tab =>
  isSupervisor && !window.location.hash.startsWith('#/agent') ? 'supervisor' : 'agent';

/** The signed-in console: header (status, connection, user) and the agent or supervisor view. */
export function ConsoleShell({
  auth,
  config,
  onLogout,
}: {
  auth: LoginResult;
  config: ConsoleConfig | null;
  onLogout: (reason?: string) => void;
}) {
  const isSupervisor = auth.agent.role === 'supervisor';
  const [tab, setTab] = useState<Tab>(() => tabFromHash(isSupervisor));
  const api = useMemo(() => createApi(auth.token), [auth.token]);
  const { client, connection } = useAgentClient(auth.token, onLogout);
  // Undefined until /api/config has loaded, so a call resumed right after a reload waits for the TURN servers
  // instead of connecting without them.
  const iceServers = useMemo(() => (config ? (config.iceServers ?? []) : undefined), [config]);
  const agent = useAgentConsole({
    client,
    connection,
    api,
    token: auth.token,
    agentId: auth.agent.id,
    role: auth.agent.role,
    iceServers,
  });

  useEffect(() => {
    const onHash = () => setTab(tabFromHash(isSupervisor));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [isSupervisor]);

  const go = useCallback((t: Tab) => {
    window.location.hash = t === 'agent' ? '#/agent' : '#/supervisor';
    setTab(t);
  }, []);

  const ringing = agent.state.offers.length;
  // The ringtone lives here, not in the agent view, so a supervisor watching the dashboard hears their calls too.
  useRingtone(ringing > 0 && agent.state.call === null);
  useEffect(() => {
    document.title = ringing > 0 ? `(${ringing}) Incoming call · Agent console` : 'Agent console · WhatsApp calls';
  }, [ringing]);

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span>Contact Center</span>
        </div>
        {isSupervisor && (
          <nav className="tabs" aria-label="Views">
            <button
              type="button"
              className={tab === 'agent' ? 'active' : ''}
              onClick={() => go('agent')}
              data-testid="tab-agent"
            >
              My calls{ringing > 0 && <span className="pill pill-ring">{ringing}</span>}
            </button>
            <button
              type="button"
              className={tab === 'supervisor' ? 'active' : ''}
              onClick={() => go('supervisor')}
              data-testid="tab-supervisor"
            >
              Supervisor
            </button>
          </nav>
        )}
        <div className="topbar-right">
          <ConnectionBadge status={connection} />
          <PresenceSwitch
            presence={agent.state.presence}
            disabled={connection.state !== 'connected'}
            onChange={(s) => void agent.setPresence(s)}
          />
          <span className="user" data-testid="current-user">
            <span className="avatar" aria-hidden="true">
              {auth.agent.name.slice(0, 1)}
            </span>
            {auth.agent.name}
          </span>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => onLogout()}
            data-testid="logout"
            disabled={agent.state.call !== null}
            title={agent.state.call ? 'Hang up before signing out' : undefined}
          >
            Sign out
          </button>
        </div>
      </header>
      {connection.state === 'reconnecting' && (
        <div className="banner banner-warn banner-bar" role="status">
          {connection.message ?? 'Reconnecting…'}
        </div>
      )}
      {tab === 'supervisor' && (ringing > 0 || agent.state.call) && (
        <div className="banner banner-info banner-bar" role="status" data-testid="attention">
          {agent.state.call
            ? 'You are on a call.'
            : `${ringing === 1 ? 'A call is' : `${ringing} calls are`} ringing for you.`}
          <button type="button" className="btn btn-primary" onClick={() => go('agent')}>
            Go to my calls
          </button>
        </div>
      )}
      <main className="content">
        {tab === 'supervisor' && isSupervisor ? (
          <SupervisorView api={api} client={client} config={config} token={auth.token} me={auth.agent.id} />
        ) : (
          <AgentView agent={agent} api={api} me={auth.agent.id} />
        )}
      </main>
    </div>
  );
}

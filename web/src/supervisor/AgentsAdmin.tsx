import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { AgentPatchInput, AgentRow, Api } from '../lib/api.js';

type Role = 'agent' | 'supervisor';
const splitTeams = (text: string) =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * Agent management for supervisors: add an agent, change their name, teams, role, whether they take calls, their
 * password, or disable them (their sessions end at once). Every change goes through `POST|PATCH /api/agents`.
 */
export function AgentsAdmin({ api }: { api: Api }) {
  const [agents, setAgents] = useState<AgentRow[]>([]);
  const [teams, setTeams] = useState<string[]>([]);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const d = await api.agentDirectory();
      setAgents([...d.agents].sort((a, b) => a.id.localeCompare(b.id)));
      setTeams(d.teams);
    } catch (err) {
      setMessage({ tone: 'error', text: (err as Error).message });
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  const run = async (what: string, fn: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await fn();
      setMessage({ tone: 'info', text: what });
      await load();
      return true;
    } catch (err) {
      setMessage({ tone: 'error', text: (err as Error).message });
      return false;
    }
  };

  return (
    <section className="card agents-admin" data-testid="agents-admin" aria-labelledby="agents-admin-title">
      <h2 id="agents-admin-title">Manage agents</h2>
      {message && (
        <p className={`inline-msg inline-${message.tone}`} role="status" data-testid="agents-admin-message">
          {message.text}
        </p>
      )}
      <NewAgentForm teams={teams} onCreate={(a) => run(`Added ${a.id}.`, () => api.createAgent(a))} />
      <table className="table">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Role</th>
            <th>Teams</th>
            <th>Takes calls</th>
            <th>Account</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {agents.map((a) =>
            editing === a.id ? (
              <EditRow
                key={a.id}
                agent={a}
                onCancel={() => setEditing(null)}
                onSave={async (patch) => {
                  if (await run(`Saved ${a.id}.`, () => api.updateAgent(a.id, patch))) setEditing(null);
                }}
              />
            ) : (
              <tr key={a.id} data-testid="admin-agent-row" data-agent-id={a.id} data-disabled={a.disabled ? '1' : '0'}>
                <td>
                  <div className="cell-main">{a.name}</div>
                  <div className="cell-sub">{a.id}</div>
                </td>
                <td>{a.role}</td>
                <td>{a.teams.join(', ') || '—'}</td>
                <td>{a.takesCalls ? 'yes' : 'no'}</td>
                <td>{a.disabled ? 'disabled' : 'active'}</td>
                <td className="nowrap">
                  <button
                    type="button"
                    className="btn btn-ghost"
                    data-testid="admin-edit"
                    onClick={() => setEditing(a.id)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    data-testid={a.disabled ? 'admin-enable' : 'admin-disable'}
                    onClick={() =>
                      void run(a.disabled ? `Enabled ${a.id}.` : `Disabled ${a.id}; their sessions ended.`, () =>
                        api.updateAgent(a.id, { disabled: !a.disabled }),
                      )
                    }
                  >
                    {a.disabled ? 'Enable' : 'Disable'}
                  </button>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}

function NewAgentForm({
  teams,
  onCreate,
}: {
  teams: string[];
  onCreate: (a: {
    id: string;
    name: string;
    password: string;
    teams: string[];
    role: Role;
    takesCalls: boolean;
  }) => Promise<boolean>;
}) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [teamText, setTeamText] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [takesCalls, setTakesCalls] = useState(true);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await onCreate({ id: id.trim(), name: name.trim(), password, teams: splitTeams(teamText), role, takesCalls })) {
      setId('');
      setName('');
      setPassword('');
      setTeamText('');
    }
  };
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} data-testid="admin-new-agent">
      <input
        aria-label="Username"
        placeholder="username"
        value={id}
        onChange={(e) => setId(e.target.value)}
        required
        data-testid="admin-new-id"
      />
      <input
        aria-label="Name"
        placeholder="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
        data-testid="admin-new-name"
      />
      <input
        aria-label="Password"
        type="password"
        placeholder="password (8+)"
        minLength={8}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        data-testid="admin-new-password"
      />
      <input
        aria-label="Teams"
        placeholder={teams.length ? `teams (${teams.join(', ')})` : 'teams, comma-separated'}
        value={teamText}
        onChange={(e) => setTeamText(e.target.value)}
        data-testid="admin-new-teams"
      />
      <select
        aria-label="Role"
        value={role}
        onChange={(e) => setRole(e.target.value as Role)}
        data-testid="admin-new-role"
      >
        <option value="agent">agent</option>
        <option value="supervisor">supervisor</option>
      </select>
      <label className="check">
        <input
          type="checkbox"
          checked={takesCalls}
          onChange={(e) => setTakesCalls(e.target.checked)}
          data-testid="admin-new-takes-calls"
        />
        takes calls
      </label>
      <button type="submit" className="btn btn-primary" data-testid="admin-new-submit">
        Add agent
      </button>
    </form>
  );
}

function EditRow({
  agent,
  onSave,
  onCancel,
}: {
  agent: AgentRow;
  onSave: (patch: AgentPatchInput) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(agent.name);
  const [teamText, setTeamText] = useState(agent.teams.join(', '));
  const [role, setRole] = useState<Role>(agent.role === 'supervisor' ? 'supervisor' : 'agent');
  const [takesCalls, setTakesCalls] = useState(agent.takesCalls ?? agent.role === 'agent');
  const [password, setPassword] = useState('');
  const save = () => {
    const patch: AgentPatchInput = { name: name.trim(), teams: splitTeams(teamText), role, takesCalls };
    if (password) patch.password = password;
    void onSave(patch);
  };
  return (
    <tr data-testid="admin-edit-row" data-agent-id={agent.id}>
      <td>
        <input aria-label="Name" value={name} onChange={(e) => setName(e.target.value)} data-testid="admin-edit-name" />
        <div className="cell-sub">{agent.id}</div>
      </td>
      <td>
        <select
          aria-label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          data-testid="admin-edit-role"
        >
          <option value="agent">agent</option>
          <option value="supervisor">supervisor</option>
        </select>
      </td>
      <td>
        <input
          aria-label="Teams"
          value={teamText}
          onChange={(e) => setTeamText(e.target.value)}
          data-testid="admin-edit-teams"
        />
      </td>
      <td>
        <input
          aria-label="Takes calls"
          type="checkbox"
          checked={takesCalls}
          onChange={(e) => setTakesCalls(e.target.checked)}
          data-testid="admin-edit-takes-calls"
        />
      </td>
      <td>
        <input
          aria-label="New password"
          type="password"
          placeholder="new password (ends their sessions)"
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="admin-edit-password"
        />
      </td>
      <td className="nowrap">
        <button type="button" className="btn btn-primary" onClick={save} data-testid="admin-save">
          Save
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} data-testid="admin-cancel">
          Cancel
        </button>
      </td>
    </tr>
  );
}

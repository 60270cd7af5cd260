import { type ChangeEvent, type FormEvent, useCallback, useEffect, useState } from 'react';
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

/** Which form a field is in: it names the field's test id, `admin-<form>-<field>`. */
type FormKind = 'new' | 'edit';

/** The fields both forms edit; teams as typed (comma-separated). */
interface AgentFields {
  name: string;
  teamText: string;
  role: Role;
  takesCalls: boolean;
  password: string;
}

function useAgentFields(initial: AgentFields) {
  const [fields, setFields] = useState(initial);
  const set =
    <K extends keyof AgentFields>(key: K) =>
    (value: AgentFields[K]) =>
      setFields((f) => ({ ...f, [key]: value }));
  return { fields, set, reset: () => setFields(initial) };
}

function TextField({
  form,
  field,
  label,
  value,
  onChange,
  type = 'text',
  placeholder,
  required,
}: {
  form: FormKind;
  field: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  type?: 'text' | 'password';
  placeholder?: string;
  required?: boolean;
}) {
  return (
    <input
      aria-label={label}
      type={type}
      placeholder={placeholder}
      minLength={type === 'password' ? 8 : undefined}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      required={required}
      data-testid={`admin-${form}-${field}`}
    />
  );
}

function RoleSelect({ form, value, onChange }: { form: FormKind; value: Role; onChange: (r: Role) => void }) {
  return (
    <select
      aria-label="Role"
      value={value}
      onChange={(e) => onChange(e.target.value as Role)}
      data-testid={`admin-${form}-role`}
    >
      <option value="agent">agent</option>
      <option value="supervisor">supervisor</option>
    </select>
  );
}

/** Whether the agent takes calls: with a visible `caption` (the new-agent form) or only an accessible `label`. */
function TakesCallsBox({
  form,
  checked,
  onChange,
  label,
  caption,
}: {
  form: FormKind;
  checked: boolean;
  onChange: (v: boolean) => void;
  label?: string;
  caption?: string;
}) {
  const box = {
    checked,
    onChange: (e: ChangeEvent<HTMLInputElement>) => onChange(e.target.checked),
    'data-testid': `admin-${form}-takes-calls`,
  };
  if (!caption) return <input aria-label={label} type="checkbox" {...box} />;
  return (
    <label className="check">
      <input type="checkbox" {...box} />
      {caption}
    </label>
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
  const { fields, set, reset } = useAgentFields({
    name: '',
    teamText: '',
    role: 'agent',
    takesCalls: true,
    password: '',
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { name, password, teamText, role, takesCalls } = fields;
    if (await onCreate({ id: id.trim(), name: name.trim(), password, teams: splitTeams(teamText), role, takesCalls })) {
      setId('');
      reset();
    }
  };
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} data-testid="admin-new-agent">
      <TextField form="new" field="id" label="Username" placeholder="username" value={id} onChange={setId} required />
      <TextField
        form="new"
        field="name"
        label="Name"
        placeholder="name"
        value={fields.name}
        onChange={set('name')}
        required
      />
      <TextField
        form="new"
        field="password"
        label="Password"
        type="password"
        placeholder="password (8+)"
        value={fields.password}
        onChange={set('password')}
        required
      />
      <TextField
        form="new"
        field="teams"
        label="Teams"
        placeholder={teams.length ? `teams (${teams.join(', ')})` : 'teams, comma-separated'}
        value={fields.teamText}
        onChange={set('teamText')}
      />
      <RoleSelect form="new" value={fields.role} onChange={set('role')} />
      <TakesCallsBox form="new" caption="takes calls" checked={fields.takesCalls} onChange={set('takesCalls')} />
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
  const { fields, set } = useAgentFields({
    name: agent.name,
    teamText: agent.teams.join(', '),
    role: agent.role === 'supervisor' ? 'supervisor' : 'agent',
    takesCalls: agent.takesCalls ?? agent.role === 'agent',
    password: '',
  });
  const save = () => {
    const { name, teamText, role, takesCalls, password } = fields;
    const patch: AgentPatchInput = { name: name.trim(), teams: splitTeams(teamText), role, takesCalls };
    if (password) patch.password = password;
    void onSave(patch);
  };
  return (
    <tr data-testid="admin-edit-row" data-agent-id={agent.id}>
      <td>
        <TextField form="edit" field="name" label="Name" value={fields.name} onChange={set('name')} />
        <div className="cell-sub">{agent.id}</div>
      </td>
      <td>
        <RoleSelect form="edit" value={fields.role} onChange={set('role')} />
      </td>
      <td>
        <TextField form="edit" field="teams" label="Teams" value={fields.teamText} onChange={set('teamText')} />
      </td>
      <td>
        <TakesCallsBox form="edit" label="Takes calls" checked={fields.takesCalls} onChange={set('takesCalls')} />
      </td>
      <td>
        <TextField
          form="edit"
          field="password"
          label="New password"
          type="password"
          placeholder="new password (ends their sessions)"
          value={fields.password}
          onChange={set('password')}
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

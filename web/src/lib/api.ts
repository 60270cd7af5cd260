import { apiRequest } from '../../../src/client/api-request.js';
import type {
  AgentRow,
  CallDetail,
  CallSummary,
  ConsoleConfig,
  HistoryRow,
  MachineGraph,
  QueuesView,
  TodayStats,
  TransferTargets,
  WrapUpInfo,
} from '../../../src/shared/rest-types.js';

export type { AgentRow, ConsoleConfig, HistoryRow, QueuesView, TodayStats, WrapUpInfo };

/** The history filters as the form holds them (empty string = not filtered). */
export type HistoryFilters = Record<'number' | 'agent' | 'team' | 'outcome' | 'code' | 'from' | 'to', string>;

function historyQuery(f: Partial<HistoryFilters>, page?: number, pageSize?: number): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  if (page) q.set('page', String(page));
  if (pageSize) q.set('pageSize', String(pageSize));
  return q.toString();
}

/** An agent as the management API returns it. */
export interface ManagedAgent {
  id: string;
  name: string;
  teams: string[];
  role: 'agent' | 'supervisor';
  takesCalls: boolean;
  disabled: boolean;
}
export interface NewAgentInput {
  id: string;
  name: string;
  password: string;
  teams: string[];
  role: 'agent' | 'supervisor';
  takesCalls: boolean;
}
export type AgentPatchInput = Partial<Omit<NewAgentInput, 'id'> & { disabled: boolean }>;

const origin = () => window.location.origin;

/** The REST API, bound to this page's origin and a token. */
export function createApi(token: string) {
  const get = <T>(path: string) => apiRequest<T>(origin(), path, { token });
  const post = <T>(path: string, body: unknown = {}) => apiRequest<T>(origin(), path, { token, method: 'POST', body });
  return {
    calls: async (opts: { mine?: boolean; limit?: number } = {}) => {
      const q = new URLSearchParams();
      if (opts.mine) q.set('mine', '1');
      if (opts.limit) q.set('limit', String(opts.limit));
      const qs = q.toString();
      return (await get<{ calls: CallSummary[] }>(`/api/calls${qs ? `?${qs}` : ''}`)).calls;
    },
    call: (id: string) => get<CallDetail>(`/api/calls/${encodeURIComponent(id)}`),
    machine: () => get<MachineGraph>('/api/machine'),
    cancelCall: (id: string) => post<{ ok: boolean }>(`/api/calls/${encodeURIComponent(id)}/cancel`),
    agents: async () => (await get<{ agents: AgentRow[] }>('/api/agents')).agents,
    /** Agent management (supervisors): every agent with the managed fields, and the teams known. */
    agentDirectory: () => get<{ agents: AgentRow[]; teams: string[] }>('/api/agents'),
    createAgent: (agent: NewAgentInput) => post<{ agent: ManagedAgent }>('/api/agents', agent),
    updateAgent: (id: string, patch: AgentPatchInput) =>
      apiRequest<{ agent: ManagedAgent }>(origin(), `/api/agents/${encodeURIComponent(id)}`, {
        token,
        method: 'PATCH',
        body: patch,
      }),
    today: () => get<TodayStats>('/api/stats/today'),
    placeDemoCall: () => post<{ callId: string }>('/api/demo/call'),
    queues: () => get<QueuesView>('/api/queues'),
    pressDemoKeys: (callId: string, digits: string) =>
      post<{ ok: boolean }>(`/api/demo/calls/${encodeURIComponent(callId)}/keys`, { digits }),
    wrapUpInfo: () => get<WrapUpInfo>('/api/wrapup'),
    transferTargets: () => get<TransferTargets>('/api/transfer-targets'),
    history: (f: Partial<HistoryFilters>, page: number, pageSize: number) =>
      get<{ total: number; page: number; pageSize: number; calls: HistoryRow[] }>(
        `/api/history?${historyQuery(f, page, pageSize)}`,
      ),
    /** The CSV export, fetched with the bearer token (a plain link could not send it). */
    /** The call's recording (ours, or Meta's) as a blob (supervisors), or null when it has none. */
    recording: async (id: string, which: 'recording' | 'meta-recording' = 'recording'): Promise<Blob | null> => {
      const res = await fetch(`${origin()}/api/calls/${encodeURIComponent(id)}/${which}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`The recording could not be loaded (${res.status}).`);
      return res.blob();
    },
    /** Meta's transcript of the call (supervisors), or null when it has none. */
    transcript: async (id: string): Promise<Transcript | null> => {
      const res = await fetch(`${origin()}/api/calls/${encodeURIComponent(id)}/transcript`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`The transcript could not be loaded (${res.status}).`);
      return (await res.json()) as Transcript;
    },
    historyCsv: async (f: Partial<HistoryFilters>): Promise<Blob> => {
      const res = await fetch(`${origin()}/api/history.csv?${historyQuery(f)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`Export failed (${res.status}): ${await res.text()}`);
      return res.blob();
    },
  };
}
export type Api = ReturnType<typeof createApi>;

/** Meta's transcript: its segments when in the expected shape, and the document as Meta sent it. */
export interface Transcript {
  segments: { speaker: string; startMs?: number; text: string }[] | null;
  document: unknown;
}

export function fetchConfig(): Promise<ConsoleConfig> {
  return apiRequest<ConsoleConfig>(origin(), '/api/config');
}

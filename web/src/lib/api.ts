import { apiRequest } from '../../../src/client/agent-client.js';
import type { CallDetail, CallSummary, PresenceState } from '../../../src/shared/protocol.js';

/** GET /api/config. `iceServers` is optional: the server may add it later. */
export interface ConsoleConfig {
  demo: boolean;
  inspect: boolean;
  protocol: number;
  answerDeadlineSeconds: number;
  iceServers?: RTCIceServer[];
}

/** A row of GET /api/agents (supervisors). */
export interface AgentRow {
  id: string;
  name: string;
  role: string;
  teams: string[];
  presence: PresenceState;
  available: boolean;
  idleSince: number;
  offers: number;
  callId: string | null;
  sockets: number;
  wrapUpUntil: number | null;
}

/** GET /api/stats/today. */
export interface TodayStats {
  day: string;
  calls: number;
  answered: number;
  missed: number;
  abandoned: number;
  failed: number;
  rejected: number;
  waitingNow: number;
  activeNow: number;
  averageSpeedOfAnswerMs: number | null;
  averageHandleTimeMs: number | null;
  abandonmentRate: number | null;
}

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
    cancelCall: (id: string) => post<{ ok: boolean }>(`/api/calls/${encodeURIComponent(id)}/cancel`),
    agents: async () => (await get<{ agents: AgentRow[] }>('/api/agents')).agents,
    today: () => get<TodayStats>('/api/stats/today'),
    placeDemoCall: () => post<{ callId: string }>('/api/demo/call'),
  };
}
export type Api = ReturnType<typeof createApi>;

export function fetchConfig(): Promise<ConsoleConfig> {
  return apiRequest<ConsoleConfig>(origin(), '/api/config');
}

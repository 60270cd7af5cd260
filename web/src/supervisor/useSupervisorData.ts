import { useCallback, useEffect, useRef } from 'react';
import type { AgentClient } from '../../../src/client/agent-client.js';
import { usePolling } from '../hooks/usePolling.js';
import type { Api } from '../lib/api.js';

/**
 * The supervisor's live picture: calls, agents and today's figures, polled every 3 s and refreshed at once
 * (coalesced) when the socket reports a call or presence change.
 */
export function useSupervisorData(api: Api, client: AgentClient | null) {
  const loadCalls = useCallback(() => api.calls({ limit: 100 }), [api]);
  const loadAgents = useCallback(() => api.agents(), [api]);
  const loadToday = useCallback(() => api.today(), [api]);
  const calls = usePolling(loadCalls, 3_000);
  const agents = usePolling(loadAgents, 3_000);
  const today = usePolling(loadToday, 3_000);

  const refreshers = useRef({ calls, agents, today });
  refreshers.current = { calls, agents, today };

  useEffect(() => {
    if (!client) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        const r = refreshers.current;
        r.calls.refresh();
        r.agents.refresh();
        r.today.refresh();
      }, 150);
    };
    const offs = [client.on('floor:call', soon), client.on('floor:agent', soon), client.on('session', soon)];
    return () => {
      for (const off of offs) off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client]);

  return { calls, agents, today };
}

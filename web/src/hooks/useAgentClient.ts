import { useEffect, useRef, useState } from 'react';
import { AgentClient, type ConnectionStatus } from '../../../src/client/agent-client.js';

/**
 * One agent socket per tab for the signed-in user. `onAuthExpired` fires when the server refuses or expires the
 * token (log in again).
 */
export function useAgentClient(
  token: string,
  onAuthExpired: (message: string) => void,
): { client: AgentClient | null; connection: ConnectionStatus } {
  const [client, setClient] = useState<AgentClient | null>(null);
  const [connection, setConnection] = useState<ConnectionStatus>({ state: 'idle', connects: 0 });
  // A new callback must not reconnect the socket: read it through a ref.
  const onExpired = useRef(onAuthExpired);
  onExpired.current = onAuthExpired;

  useEffect(() => {
    const c = new AgentClient({ baseUrl: window.location.origin, token });
    const offs = [c.on('connection', setConnection), c.on('auth:expired', (p) => onExpired.current(p.message))];
    c.connect();
    setClient(c);
    return () => {
      for (const off of offs) off();
      c.close();
      setClient(null);
    };
  }, [token]);

  return { client, connection };
}

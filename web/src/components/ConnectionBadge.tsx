import type { ConnectionStatus } from '../../../src/client/agent-client.js';

const LABELS: Record<ConnectionStatus['state'], string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
  'auth-failed': 'Signed out',
};

export function ConnectionBadge({ status }: { status: ConnectionStatus }) {
  return (
    <span
      className={`conn conn-${status.state}`}
      data-testid="connection"
      data-state={status.state}
      title={status.message ?? LABELS[status.state]}
    >
      <span className="dot" aria-hidden="true" />
      {LABELS[status.state]}
    </span>
  );
}

import type { PresenceState } from '../../../src/shared/protocol.js';

const LABELS: Record<PresenceState, string> = {
  online: 'Online',
  away: 'Away',
  busy: 'Busy',
  offline: 'Offline',
};

/**
 * The agent's status. Online and away are theirs to choose; busy (on a call or in wrap-up) and offline are what
 * the server reports, shown but not selectable.
 */
export function PresenceSwitch({
  presence,
  disabled,
  onChange,
}: {
  presence: PresenceState;
  disabled: boolean;
  onChange: (status: 'online' | 'away') => void;
}) {
  return (
    <label className={`presence presence-${presence}`}>
      <span className="dot" aria-hidden="true" />
      <span className="sr-only">Status</span>
      <select
        data-testid="presence"
        data-presence={presence}
        value={presence}
        disabled={disabled}
        onChange={(e) => {
          const v = e.target.value;
          if (v === 'online' || v === 'away') onChange(v);
        }}
      >
        {(['online', 'away', 'busy', 'offline'] as const).map((p) => (
          <option key={p} value={p} disabled={p === 'busy' || p === 'offline'}>
            {LABELS[p]}
          </option>
        ))}
      </select>
    </label>
  );
}

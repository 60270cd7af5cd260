import type { ReactNode } from 'react';
import { callerLabel } from '../lib/format.js';

/** A table row for one call that opens it on click, Enter or Space (the drawer with its details). */
export function CallRow({
  callId,
  testId,
  state,
  onOpen,
  children,
}: {
  callId: string;
  testId: string;
  state?: string;
  onOpen: (id: string) => void;
  children: ReactNode;
}) {
  return (
    <tr
      data-testid={testId}
      data-call-id={callId}
      data-state={state}
      tabIndex={0}
      onClick={() => onOpen(callId)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') onOpen(callId);
      }}
    >
      {children}
    </tr>
  );
}

/** The caller's name (or number) over their number. */
export function CallerCell({ caller }: { caller: { name: string | null; number: string } }) {
  return (
    <td>
      <div className="cell-main">{callerLabel(caller)}</div>
      <div className="cell-sub">{caller.number}</div>
    </td>
  );
}

import { type FormEvent, useState } from 'react';
import type { AgentConsole } from '../hooks/useAgentConsole.js';
import { useRingtone } from '../hooks/useRingtone.js';
import type { Api } from '../lib/api.js';
import { ActiveCallPanel } from './ActiveCallPanel.js';
import { CallEndedPanel } from './CallEndedPanel.js';
import { CallHistory } from './CallHistory.js';
import { IncomingCallCard } from './IncomingCallCard.js';
import { TransferDialog } from './TransferDialog.js';
import { WrapUpForm } from './WrapUpForm.js';

/** The agent's workspace: ringing cards, the call in progress or just ended, and their history. */
export function AgentView({ agent, api, me }: { agent: AgentConsole; api: Api; me: string }) {
  const { state } = agent;
  // Ringback while the called user's phone rings (business-initiated calls).
  const ringingOut =
    state.call !== null && agent.outbound?.callId === state.call.callId && agent.outbound.status === 'ringing';
  useRingtone(ringingOut);
  const [wrapped, setWrapped] = useState(0);
  const [transferring, setTransferring] = useState(false);
  const ts = agent.transferStatus;
  const transferNote = agent.consulting
    ? ts?.status === 'ringing'
      ? `Consulting: ringing ${agent.consulting}… The caller is on hold.`
      : `Consulting ${agent.consulting}: the caller is on hold. Complete the transfer or go back to the caller.`
    : ts && ts.callId === state.call?.callId
      ? ts.status === 'ringing'
        ? `Transferring: ringing ${ts.targets.join(', ')}… You stay on the call until someone answers.`
        : 'Nobody answered the transfer: the call is still with you.'
      : null;

  return (
    <div className="agent-layout">
      <section className="agent-main" aria-label="Calls">
        {!state.call && <DialForm busy={agent.dialing} onDial={(to) => void agent.dial(to)} />}
        {ringingOut && (
          <div className="banner banner-info" role="status" data-testid="ringback">
            Ringing… waiting for them to answer.
          </div>
        )}
        {state.notice && (
          <div
            className={`banner banner-${state.notice.tone}`}
            role={state.notice.tone === 'error' ? 'alert' : 'status'}
            data-testid="notice"
          >
            <span>{state.notice.text}</span>
            <button type="button" className="btn-close" onClick={agent.dismissNotice} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
        {state.micError && (
          <div className="banner banner-error" role="alert" data-testid="mic-error">
            <span>
              <strong>Microphone unavailable.</strong> {state.micError}
            </span>
            <button type="button" className="btn-close" onClick={agent.dismissMicError} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}

        {state.offers.length > 0 && (
          <div className="offers" data-testid="incoming-calls">
            {state.offers.map((offer) => (
              <IncomingCallCard
                key={offer.callId}
                offer={offer}
                pending={state.pending[offer.callId]?.kind ?? null}
                onAccept={() => void agent.accept(offer.callId)}
                onDecline={() => void agent.decline(offer.callId)}
              />
            ))}
          </div>
        )}

        {state.call && (
          <ActiveCallPanel
            call={state.call}
            media={agent.media}
            levels={agent.levels}
            hangingUp={state.hangingUp}
            onHangup={() => void agent.hangup()}
            onToggleMute={agent.toggleMute}
            onTakeOver={agent.takeOverHere}
            held={agent.heldCallId === state.call.callId}
            holdBusy={agent.holdBusy}
            onHold={() => void agent.hold()}
            onResume={() => void agent.resume()}
            onTransfer={agent.consulting ? undefined : () => setTransferring(true)}
            transferNote={transferNote}
          />
        )}
        {state.call && agent.consulting && (
          <div className="actions" data-testid="consult-controls">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void agent.consultEnd('complete')}
              data-testid="consult-complete"
            >
              Complete transfer
            </button>
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => void agent.consultEnd('cancel')}
              data-testid="consult-cancel"
            >
              Back to the caller
            </button>
          </div>
        )}
        {state.call && transferring && (
          <TransferDialog
            api={api}
            onTransfer={agent.transfer}
            onConsult={agent.consult}
            onClose={() => setTransferring(false)}
          />
        )}

        {!state.call && state.ended && <CallEndedPanel ended={state.ended} onDismiss={agent.dismissEnded} />}

        {!state.call && (
          <WrapUpForm
            api={api}
            // A call handed on by transfer is wrapped up by whoever finishes it.
            endedCallId={
              state.ended?.liveAt && !['transferred', 'consult-ended'].includes(state.ended.reason ?? '')
                ? state.ended.callId
                : null
            }
            refreshKey={`${state.ended?.callId ?? ''}|${state.presence}`}
            submit={agent.wrapUp}
            onDone={() => setWrapped((n) => n + 1)}
          />
        )}

        {!state.call && state.offers.length === 0 && !state.ended && <IdleState presence={state.presence} />}
      </section>
      <aside className="agent-side">
        <CallHistory
          api={api}
          me={me}
          refreshKey={`${state.call?.callId ?? ''}|${state.call?.liveAt ?? ''}|${state.ended?.callId ?? ''}|${wrapped}`}
        />
      </aside>
    </div>
  );
}

/** Calls a WhatsApp user who allowed calls (business-initiated call). */
function DialForm({ busy, onDial }: { busy: boolean; onDial: (to: string) => void }) {
  const [to, setTo] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (to.trim()) onDial(to.trim());
  };
  return (
    <form className="dial-form" onSubmit={submit} aria-label="Call a WhatsApp number">
      <input
        type="tel"
        inputMode="tel"
        placeholder="+91 98000 12345"
        aria-label="WhatsApp number"
        value={to}
        maxLength={40}
        onChange={(e) => setTo(e.target.value)}
        data-testid="dial-number"
      />
      <button type="submit" className="btn btn-primary" disabled={busy || !to.trim()} data-testid="dial-submit">
        {busy ? 'Calling…' : 'Call'}
      </button>
    </form>
  );
}

function IdleState({ presence }: { presence: string }) {
  const text =
    presence === 'online'
      ? 'You are online. Incoming WhatsApp calls will ring here.'
      : presence === 'away'
        ? 'You are away: no calls will ring. Set your status to Online to take calls.'
        : presence === 'busy'
          ? 'Wrapping up the last call; calls will ring again in a moment.'
          : 'Connecting to the call center…';
  return (
    <div className="empty" data-testid="idle">
      <div className="empty-icon" aria-hidden="true" />
      <p>{text}</p>
    </div>
  );
}

import type { TypedEmitter } from './emitter.js';
import type { CallMediaEvents, LegState } from './engine.js';

/** What a call's media emits through; both engines' calls are one. */
type CallEmitter = Pick<TypedEmitter<CallMediaEvents>, 'safeEmit'>;

/** Tells the call's owner what a state change of the WhatsApp leg means. */
export function emitWaState(call: CallEmitter, state: LegState): void {
  if (state === 'connected') call.safeEmit('wa-connected');
  else if (state === 'disconnected') call.safeEmit('wa-disconnected');
  else if (state === 'failed')
    call.safeEmit('failed', { leg: 'whatsapp', reason: 'ICE or DTLS failed on the WhatsApp leg' });
}

/**
 * Tells the call's owner what a state change of a browser leg means (the agent leg also has events of its own).
 * A failed leg is one the call has dropped: drop it before calling this.
 */
export function emitLegState(call: CallEmitter, legId: string, isAgent: boolean, state: LegState): void {
  if (state === 'connected') {
    if (isAgent) call.safeEmit('agent-connected');
    call.safeEmit('leg-connected', { legId });
  } else if (state === 'disconnected' || state === 'failed') emitLegDown(call, legId, isAgent, state);
}

/** A browser leg went down: it lost connectivity, failed, or the call closed it. */
export function emitLegDown(
  call: CallEmitter,
  legId: string,
  isAgent: boolean,
  reason: 'disconnected' | 'failed' | 'closed',
): void {
  if (isAgent) {
    if (reason === 'failed') call.safeEmit('failed', { leg: 'agent', reason: 'ICE or DTLS failed on the agent leg' });
    call.safeEmit('agent-disconnected', { reason });
  }
  call.safeEmit('leg-down', { legId, reason });
}

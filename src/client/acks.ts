/** What an agent → server request resolves to: the server's acknowledgement, or the client's own failure. */
import type { AckError } from '../shared/protocol.js';

/** Every ack error the server can send, plus the client's own: no answer in time, or no connection. */
export type ClientAckError = AckError | 'timeout' | 'disconnected';

export type AckFailure = {
  ok: false;
  error: ClientAckError;
  message: string;
  /** When trying again can succeed (epoch ms), e.g. a `limit-reached` dial. */
  retryAt?: number;
};
export type AckResult<T extends object = object> = ({ ok: true } & T) | AckFailure;

export const ACK_MESSAGES: Record<'timeout' | 'disconnected', string> = {
  timeout: 'The server did not answer in time; try again.',
  disconnected: 'Not connected to the server; wait for the connection to come back and try again.',
};

/** Turns whatever the server acknowledged into an {@link AckResult} (a malformed ack becomes `internal`). */
export function normalizeAck<T extends object>(res: unknown): AckResult<T> {
  if (res && typeof res === 'object' && 'ok' in res) {
    const r = res as { ok: unknown; error?: unknown; message?: unknown; retryAt?: unknown };
    if (r.ok === true) return res as AckResult<T>;
    const error = (typeof r.error === 'string' ? r.error : 'internal') as ClientAckError;
    return {
      ok: false,
      error,
      message: typeof r.message === 'string' ? r.message : describeAckError(error),
      ...(typeof r.retryAt === 'number' ? { retryAt: r.retryAt } : {}),
    };
  }
  return { ok: false, error: 'internal', message: 'The server sent an unexpected answer.' };
}

/** Words for an ack error the server sent without a message. */
function describeAckError(error: ClientAckError): string {
  switch (error) {
    case 'timeout':
    case 'disconnected':
      return ACK_MESSAGES[error];
    case 'already-taken':
      return 'Another agent answered this call first.';
    case 'call-ended':
      return 'That call has already ended.';
    case 'unknown-call':
      return 'That call does not exist (any more).';
    case 'busy':
      return 'You are already on another call.';
    case 'token-expired':
      return 'Your session has expired: log in again.';
    default:
      return `The server refused (${error}).`;
  }
}

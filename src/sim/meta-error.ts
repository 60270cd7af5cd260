import { randomBytes } from 'node:crypto';

/** What the simulated Graph API answers: an HTTP status and a JSON body. */
export interface GraphReply {
  status: number;
  body: unknown;
  /** Runs only when the reply is a success and goes out (the action takes effect at Meta). */
  commit?: () => void;
}

/** Meta's error response: `{error: {message, type, code, error_data?, fbtrace_id}}`. */
export function metaError(status: number, code: number, message: string, details?: string): GraphReply {
  return {
    status,
    body: {
      error: {
        message,
        type: 'OAuthException',
        code,
        ...(details !== undefined ? { error_data: { details } } : {}),
        fbtrace_id: randomBytes(8).toString('hex'),
      },
    },
  };
}

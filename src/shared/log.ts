import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs (pino). SDP bodies, tokens, secrets and full phone numbers never reach a log line: the redaction
 * list below censors them wherever they appear in a logged object, and code logs numbers through {@link maskNumber}.
 */
export function createLogger(opts: { level: string; name?: string }): Logger {
  return pino({
    level: opts.level,
    base: opts.name ? { role: opts.name } : {},
    redact: {
      paths: [
        'sdp',
        '*.sdp',
        '*.*.sdp',
        'offerSdp',
        'answerSdp',
        '*.offerSdp',
        '*.answerSdp',
        'token',
        '*.token',
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'accessToken',
        '*.accessToken',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything (tests and library defaults). */
export const silentLogger: Logger = pino({ level: 'silent' });

/** `919800012345` → `9198•••••345`: enough to tell callers apart in a log, not enough to dial. */
export function maskNumber(n: string | undefined | null): string {
  if (!n) return '';
  const digits = String(n);
  if (digits.length <= 6) return '•'.repeat(digits.length);
  return `${digits.slice(0, 4)}${'•'.repeat(Math.max(0, digits.length - 7))}${digits.slice(-3)}`;
}

/** DTMF keys can be a PIN: `1234#` → `•••••` (the count stays, for support). */
export function maskDigits(keys: string | undefined | null): string {
  return '•'.repeat(String(keys ?? '').length);
}

/**
 * What `npm run sim` sends, checked the way the service checks Meta's webhooks: a caller number the service would
 * drop (`abc<script>`) is refused here with a message, instead of a call that silently never arrives.
 */
export interface CallOptions {
  from?: string | undefined;
  name?: string | undefined;
}

/** Returns one line per problem (empty when the options are fine). */
export function checkCallOptions(o: CallOptions): string[] {
  const problems: string[] = [];
  if (o.from !== undefined && !/^\d{1,20}$/.test(o.from)) {
    problems.push(`--from must be the caller's number in digits only, with country code (like 919800012345).`);
  }
  if (o.name !== undefined && (o.name.trim() === '' || o.name.length > 200)) {
    problems.push('--name must be 1 to 200 characters.');
  }
  return problems;
}

/** Checks the server options: a port number and http(s) URLs. */
export function checkServerOptions(o: { port?: string; sim?: string; webhook?: string }): string[] {
  const problems: string[] = [];
  if (o.port !== undefined && !(/^\d{1,5}$/.test(o.port) && Number(o.port) <= 65535)) {
    problems.push('--port must be a port number (0 to 65535).');
  }
  for (const [flag, value] of [
    ['--sim', o.sim],
    ['--webhook', o.webhook],
  ] as const) {
    if (value === undefined) continue;
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`${flag} must be an http(s) URL (got ${JSON.stringify(value.slice(0, 80))}).`);
  }
  return problems;
}

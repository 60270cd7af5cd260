/**
 * The REST half of the agent client: one JSON request helper and the login call, for the browser console and Node
 * tests alike (no DOM API).
 */

/** An agent or supervisor as the API returns them. */
export interface AgentIdentity {
  id: string;
  name: string;
  teams: string[];
  role: 'agent' | 'supervisor';
}

export interface LoginResult {
  token: string;
  /** ms since epoch */
  expiresAt: number;
  agent: AgentIdentity;
}

/** An API error as the server words it (`{error: {code, message}}`), or a network failure (`status` 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  token?: string | undefined;
  method?: 'GET' | 'POST' | 'PATCH';
  body?: unknown;
  /** @default 10_000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** One REST call: JSON in, JSON out, server errors thrown as {@link ApiError} carrying the server's message. */
export async function apiRequest<T>(baseUrl: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await doFetch(`${baseUrl}${path}`, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new ApiError(
      0,
      timedOut ? 'timeout' : 'network',
      timedOut
        ? 'The server did not answer in time; check your connection and try again.'
        : 'Cannot reach the server; check your connection and try again.',
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    throw new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : `http-${res.status}`,
      typeof e?.message === 'string' ? e.message : `The server answered ${res.status} ${res.statusText}.`,
    );
  }
  return json as T;
}

/** POST /api/login. Throws {@link ApiError} with the server's message (e.g. "Wrong username or password."). */
export function login(
  baseUrl: string,
  username: string,
  password: string,
  opts: Pick<RequestOptions, 'fetch' | 'timeoutMs'> = {},
): Promise<LoginResult> {
  return apiRequest<LoginResult>(baseUrl, '/api/login', { ...opts, method: 'POST', body: { username, password } });
}

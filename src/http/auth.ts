import type { MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import type { Agent, AgentDirectory, AgentRole } from '../agents/directory.js';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';

export interface TokenClaims {
  sub: string;
  name: string;
  role: AgentRole;
  exp: number;
  iat: number;
  /** The agent's session version at sign-in; a password change bumps it and ends older tokens. */
  sv?: number;
}

/** Signed, expiring bearer tokens (HS256) for agents and supervisors. */
export class TokenService {
  readonly #secret: string;
  readonly #ttlSeconds: number;
  readonly #directory: AgentDirectory;

  constructor(opts: { secret: string; ttlSeconds: number; directory: AgentDirectory }) {
    this.#secret = opts.secret;
    this.#ttlSeconds = opts.ttlSeconds;
    this.#directory = opts.directory;
  }

  async issue(agent: Agent, nowS = Math.floor(Date.now() / 1000)): Promise<{ token: string; expiresAt: number }> {
    const exp = nowS + this.#ttlSeconds;
    const token = await sign(
      {
        sub: agent.id,
        name: agent.name,
        role: agent.role,
        iat: nowS,
        exp,
        sv: this.#directory.sessionVersion(agent.id),
      },
      this.#secret,
      'HS256',
    );
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * Checks signature and expiry, that the agent still exists and is not disabled, and that their password has not
   * changed since the token was issued.
   * @throws UnauthorizedError `token-missing` | `token-expired` | `token-invalid` | `account-disabled` |
   * `token-revoked`
   */
  async verify(token: string | undefined | null): Promise<{ agent: Agent; claims: TokenClaims }> {
    if (!token)
      throw new UnauthorizedError('token-missing', 'No token: log in and send Authorization: Bearer <token>.');
    let payload: Record<string, unknown>;
    try {
      payload = (await verify(token, this.#secret, { alg: 'HS256' })) as Record<string, unknown>;
    } catch (err) {
      const expired = (err as Error).name === 'JwtTokenExpired';
      throw expired
        ? new UnauthorizedError('token-expired', 'Your session has expired: log in again.')
        : new UnauthorizedError('token-invalid', 'The token is not valid: log in again.');
    }
    const agent = typeof payload.sub === 'string' ? this.#directory.get(payload.sub) : undefined;
    if (!agent) throw new UnauthorizedError('token-invalid', 'The token names no known agent: log in again.');
    if (agent.disabled) throw new UnauthorizedError('account-disabled', 'Your account is disabled: ask a supervisor.');
    if ((payload.sv ?? 0) !== this.#directory.sessionVersion(agent.id)) {
      throw new UnauthorizedError('token-revoked', 'Your password was changed since you logged in: log in again.');
    }
    return { agent, claims: payload as unknown as TokenClaims };
  }
}

export type AuthVariables = { agent: Agent; tokenExp: number };

export function bearer(header: string | undefined | null): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/** Requires a valid bearer token; `role: 'supervisor'` also requires the supervisor role. */
export function requireAuth(
  tokens: TokenService,
  opts: { role?: AgentRole } = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const { agent, claims } = await tokens.verify(bearer(c.req.header('authorization')));
    if (opts.role === 'supervisor' && agent.role !== 'supervisor') {
      throw new ForbiddenError('supervisor-only', 'This needs a supervisor account.');
    }
    c.set('agent', agent);
    c.set('tokenExp', claims.exp * 1000);
    await next();
  };
}

/**
 * Login limiting that a stranger cannot turn against an agent: failures count per pair of account and client
 * address, and past `freeAttempts` each further failure makes that pair wait longer (1 s, 2 s, 4 s … up to
 * `maxDelayS`). The agent at another address, and everyone else behind the same address, are not affected.
 * A success clears the pair. Every refusal is logged and counted by the caller.
 */
export class LoginLimiter {
  readonly opts: { freeAttempts: number; baseDelayS: number; maxDelayS: number; forgetAfterS: number };

  constructor(
    readonly redis: RedisClient,
    readonly keys: Keys,
    opts: Partial<LoginLimiter['opts']> = {},
  ) {
    this.opts = { freeAttempts: 5, baseDelayS: 1, maxDelayS: 900, forgetAfterS: 3600, ...opts };
  }

  #key(username: string, source: string): string {
    return this.keys.loginAttempts(`p:${username.slice(0, 64)}|${source.slice(0, 64)}`);
  }

  /** @throws TooManyRequestsError while the pair waits out its delay. */
  async check(username: string, source: string, now = Date.now()): Promise<void> {
    const until = Number((await this.redis.hget(this.#key(username, source), 'until')) ?? 0);
    if (until > now) {
      const wait = Math.ceil((until - now) / 1000);
      throw new TooManyRequestsError(
        `Too many failed logins for this account from here: wait ${wait} s and try again.`,
        wait,
      );
    }
  }

  /** Records a failure; returns the delay (seconds) the pair now waits before its next attempt. */
  async failed(username: string, source: string, now = Date.now()): Promise<number> {
    const k = this.#key(username, source);
    const n = await this.redis.hincrby(k, 'n', 1);
    const over = n - this.opts.freeAttempts;
    const delayS = over > 0 ? Math.min(this.opts.baseDelayS * 2 ** (over - 1), this.opts.maxDelayS) : 0;
    await this.redis
      .multi()
      .hset(k, 'until', now + delayS * 1000)
      .expire(k, Math.max(this.opts.forgetAfterS, delayS))
      .exec();
    return delayS;
  }

  async succeeded(username: string, source: string): Promise<void> {
    await this.redis.del(this.#key(username, source));
  }
}

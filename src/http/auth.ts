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
      { sub: agent.id, name: agent.name, role: agent.role, iat: nowS, exp },
      this.#secret,
      'HS256',
    );
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * Checks signature and expiry, and that the agent still exists in the directory.
   * @throws UnauthorizedError `token-missing` | `token-expired` | `token-invalid`
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
 * Login rate limit: at most `max` failed attempts per username and per client address in `windowS` seconds.
 */
export class LoginLimiter {
  constructor(
    readonly redis: RedisClient,
    readonly keys: Keys,
    readonly opts: { max: number; windowS: number } = { max: 10, windowS: 300 },
  ) {}

  async check(username: string, ip: string): Promise<void> {
    const [u, a] = await Promise.all([
      this.redis.get(this.keys.loginAttempts(`u:${username.slice(0, 64)}`)),
      this.redis.get(this.keys.loginAttempts(`ip:${ip}`)),
    ]);
    if (Number(u ?? 0) >= this.opts.max || Number(a ?? 0) >= this.opts.max * 3) {
      throw new TooManyRequestsError(
        `Too many failed logins: wait ${Math.ceil(this.opts.windowS / 60)} minutes and try again.`,
        this.opts.windowS,
      );
    }
  }

  async failed(username: string, ip: string): Promise<void> {
    for (const k of [this.keys.loginAttempts(`u:${username.slice(0, 64)}`), this.keys.loginAttempts(`ip:${ip}`)]) {
      await this.redis.multi().incr(k).expire(k, this.opts.windowS, 'NX').exec();
    }
  }

  async succeeded(username: string): Promise<void> {
    await this.redis.del(this.keys.loginAttempts(`u:${username.slice(0, 64)}`));
  }
}

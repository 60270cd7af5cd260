import { z } from 'zod';
import { AppError, BadRequestError, NotFoundError } from '../shared/errors.js';
import { AGENT_ID_RE, type Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis.js';
import {
  AGENT_ROLES,
  type Agent,
  type AgentDirectory,
  type AgentRecord,
  hashPassword,
  parseAgentRecords,
  TeamName,
} from './directory.js';

const Password = z.string().min(8, 'at least 8 characters').max(256);

/** `POST /api/agents`. */
const NewAgentSchema = z.strictObject({
  id: z.string().regex(AGENT_ID_RE, 'letters, digits, . _ - (max 64)'),
  name: z.string().trim().min(1).max(100),
  password: Password,
  teams: z.array(TeamName).max(50).default([]),
  role: z.enum(AGENT_ROLES).default('agent'),
  takesCalls: z.boolean().optional(),
  disabled: z.boolean().default(false),
});
export type NewAgent = z.input<typeof NewAgentSchema>;

/** `PATCH /api/agents/:id`: any of these, at least one. */
const AgentPatchSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    password: Password,
    teams: z.array(TeamName).max(50),
    role: z.enum(AGENT_ROLES),
    takesCalls: z.boolean(),
    disabled: z.boolean(),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'name, password, teams, role, takesCalls or disabled');
export type AgentPatch = z.infer<typeof AgentPatchSchema>;

export interface AgentStoreDeps {
  redis: RedisClient;
  /** A connection of its own for the change channel (pub/sub). */
  subscriber: () => RedisClient;
  keys: Keys;
  directory: AgentDirectory;
  logger: Logger;
  /** Ends every session of an agent at once (sockets closed on every replica). */
  endSessions(agentId: string, reason: 'disabled' | 'password-changed'): Promise<void>;
  /** How often to re-read the records even without a change message (a missed message heals). @default 30000 */
  refreshMs?: number;
}

/**
 * Agents and teams in Redis, managed by supervisors. AGENTS_FILE seeds them on the first start (plain passwords are
 * hashed on the way in); afterwards Redis is the truth and every process mirrors it in its {@link AgentDirectory},
 * re-read on each change message. A disabled agent cannot log in and their sockets close at once; a password change
 * bumps the agent's session version, which ends every token issued before it.
 */
export class AgentStore {
  readonly #d: AgentStoreDeps;
  #sub: RedisClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;

  constructor(deps: AgentStoreDeps) {
    this.#d = deps;
  }

  /** Seeds Redis on the first start, loads the records and follows changes. Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { redis, keys, directory, logger } = this.#d;
    // Follow changes before anything is read: a process that starts while another is still seeding (hashing the
    // seed's passwords takes a while) reads a partial set, and the seeder's announcement below brings the rest.
    const sub = this.#d.subscriber();
    this.#sub = sub;
    sub.on('message', (channel: string) => {
      if (channel === keys.agentsChanged) void this.refresh();
    });
    await sub.subscribe(keys.agentsChanged);
    if (await redis.set(keys.agentsSeeded, String(Date.now()), 'NX')) {
      const records = directory.seed.map(({ password, ...r }) =>
        password !== undefined && r.passwordHash === undefined ? { ...r, passwordHash: hashPassword(password) } : r,
      );
      // HSETNX: a record written by a supervisor meanwhile (another process seeding) is never overwritten.
      const multi = redis.multi();
      for (const r of records) multi.hsetnx(keys.agentRecords, r.id, JSON.stringify(r));
      const teams = [...new Set(records.flatMap((r) => r.teams))];
      if (teams.length) multi.sadd(keys.teams, ...teams);
      await multi.exec();
      await redis.publish(keys.agentsChanged, '*');
      logger.info({ agents: records.length }, 'agents seeded from AGENTS_FILE');
    }
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#d.refreshMs ?? 30_000);
    this.#timer.unref();
  }

  /** Re-reads every record into the directory. */
  async refresh(): Promise<void> {
    try {
      const records = await this.records();
      if (records.length) this.#d.directory.replace(records);
    } catch (err) {
      this.#d.logger.warn({ err: (err as Error).message }, 'reading agents from Redis failed; keeping the last copy');
    }
  }

  async records(): Promise<AgentRecord[]> {
    const raw = await this.#d.redis.hvals(this.#d.keys.agentRecords);
    return raw.length
      ? parseAgentRecords(
          raw.map((r) => JSON.parse(r) as unknown),
          'agents in Redis',
        )
      : [];
  }

  async teams(): Promise<string[]> {
    return (await this.#d.redis.smembers(this.#d.keys.teams)).sort();
  }

  async create(input: NewAgent): Promise<Agent> {
    const a = parseBody(NewAgentSchema, input);
    const { password, ...rest } = a;
    const record: AgentRecord = { ...rest, passwordHash: hashPassword(password), sessionVersion: 0 };
    const { redis, keys } = this.#d;
    if (!(await redis.hsetnx(keys.agentRecords, a.id, JSON.stringify(record)))) {
      throw new AgentExistsError(a.id);
    }
    if (a.teams.length) await redis.sadd(keys.teams, ...a.teams);
    await this.#changed(a.id);
    return this.#d.directory.get(a.id)!;
  }

  /**
   * Applies a patch. Disabling ends the agent's sessions at once; a new password ends every session that signed in
   * with the old one.
   */
  async update(id: string, input: AgentPatch): Promise<Agent> {
    const patch = parseBody(AgentPatchSchema, input);
    const { redis, keys } = this.#d;
    // Read, change, write: two supervisors saving the same agent at once end with the last one's fields (a
    // connection shared by the whole process cannot WATCH).
    const raw = await redis.hget(keys.agentRecords, id);
    if (!raw) throw new NotFoundError('unknown-agent', `No agent ${id}.`);
    const before = parseAgentRecords([JSON.parse(raw) as unknown], 'agents in Redis')[0]!;
    const { password, ...fields } = patch;
    const next: AgentRecord = { ...before, ...fields };
    if (password !== undefined) {
      next.passwordHash = hashPassword(password);
      delete next.password;
      next.sessionVersion = (before.sessionVersion ?? 0) + 1;
    }
    const multi = redis.multi().hset(keys.agentRecords, id, JSON.stringify(next));
    if (next.teams.length) multi.sadd(keys.teams, ...next.teams);
    await multi.exec();
    await this.#changed(id);
    if (next.disabled && !before.disabled) await this.#d.endSessions(id, 'disabled');
    else if (password !== undefined) await this.#d.endSessions(id, 'password-changed');
    this.#d.logger.info(
      { agentId: id, fields: Object.keys(patch).filter((k) => k !== 'password'), password: password !== undefined },
      'agent updated',
    );
    return this.#d.directory.get(id)!;
  }
  async #changed(id: string): Promise<void> {
    await this.refresh();
    await this.#d.redis.publish(this.#d.keys.agentsChanged, id);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}

class AgentExistsError extends AppError {
  constructor(id: string) {
    super('agent-exists', `An agent with id ${id} exists already: PATCH /api/agents/${id} changes them.`, {
      status: 409,
    });
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BadRequestError('bad-request', `${i?.path.join('.') || 'body'}: ${i?.message}`);
  }
  return r.data;
}

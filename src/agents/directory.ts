import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { AGENT_ID_RE } from '../shared/keys.js';

export const AGENT_ROLES = ['agent', 'supervisor'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

/** A team name: what routing files and agent records use. */
export const TeamName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, . _ - only');

const PASSWORD_HASH_RE = /^scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const AgentSchema = z
  .object({
    id: z.string().regex(AGENT_ID_RE, 'letters, digits, . _ - (max 64)'),
    name: z.string().min(1).max(100),
    /** Plain password (demo files) … */
    password: z.string().min(1).optional(),
    /** … or `scrypt$<salt b64>$<hash b64>` from `npm run hash-password`. */
    passwordHash: z.string().regex(PASSWORD_HASH_RE).optional(),
    teams: z.array(z.string().min(1).max(64)).default([]),
    role: z.enum(AGENT_ROLES).default('agent'),
    /** Whether calls are routed to them. @default true for agents, false for supervisors */
    takesCalls: z.boolean().optional(),
    /** A disabled account cannot log in; its sessions end. @default false */
    disabled: z.boolean().optional(),
    /** Bumped by a password change: tokens issued before it stop working. @default 0 */
    sessionVersion: z.number().int().min(0).optional(),
  })
  .refine((a) => a.password !== undefined || a.passwordHash !== undefined, 'needs password or passwordHash');

/** An agent as stored (AGENTS_FILE entry or Redis record). Never leaves the server. */
export type AgentRecord = z.infer<typeof AgentSchema>;

export interface Agent {
  id: string;
  name: string;
  teams: string[];
  role: AgentRole;
  takesCalls: boolean;
  disabled: boolean;
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function checkHash(password: string, stored: string): boolean {
  const [, saltB64 = '', hashB64 = ''] = stored.split('$');
  const expected = Buffer.from(hashB64, 'base64');
  const actual = scryptSync(password, Buffer.from(saltB64, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** Parses a list of agent records; throws a {@link ConfigError} naming `source` and the first problem. */
export function parseAgentRecords(list: unknown, source = 'AGENTS_FILE'): AgentRecord[] {
  const parsed = z.array(AgentSchema).min(1).safeParse(list);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ConfigError(
      `${source}: agent ${i?.path.join('.')}: ${i?.message} — fix the file (see README, "Agents").`,
    );
  }
  const seen = new Set<string>();
  for (const a of parsed.data) {
    if (seen.has(a.id)) throw new ConfigError(`${source}: agent id "${a.id}" appears twice.`);
    seen.add(a.id);
  }
  return parsed.data;
}

/**
 * The agents and supervisors this process knows, read synchronously on every request and socket event. Seeded from
 * AGENTS_FILE; once the agent store runs, it mirrors the records in Redis and is replaced whenever they change.
 */
export class AgentDirectory {
  #agents = new Map<string, AgentRecord>();
  readonly #seed: AgentRecord[];

  constructor(list: unknown, source = 'AGENTS_FILE') {
    this.#seed = parseAgentRecords(list, source);
    this.replace(this.#seed);
  }

  static fromFile(file: string): AgentDirectory {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`AGENTS_FILE ${file} is not readable JSON: ${(err as Error).message}`);
    }
    return new AgentDirectory(raw, `AGENTS_FILE ${file}`);
  }

  /** The records AGENTS_FILE gave (what the store seeds Redis with on first start). */
  get seed(): readonly AgentRecord[] {
    return this.#seed;
  }

  /** Swaps in a new set of records (the store's mirror of Redis). */
  replace(records: readonly AgentRecord[]): void {
    this.#agents = new Map(records.map((r) => [r.id, r]));
  }

  get(id: string): Agent | undefined {
    const a = this.#agents.get(id);
    return a
      ? {
          id: a.id,
          name: a.name,
          teams: a.teams,
          role: a.role,
          takesCalls: a.takesCalls ?? a.role === 'agent',
          disabled: a.disabled ?? false,
        }
      : undefined;
  }

  all(): Agent[] {
    return [...this.#agents.keys()].map((id) => this.get(id)!);
  }

  /** Tokens carry this; a password change bumps it, so tokens issued before stop working. */
  sessionVersion(id: string): number {
    return this.#agents.get(id)?.sessionVersion ?? 0;
  }

  /**
   * Constant-time check that costs the same for every username: exactly one scrypt runs whether the agent exists,
   * has a hash or a plain (demo) password, so response times do not reveal which usernames exist. A disabled agent
   * with the right password is returned (the caller refuses it with a clear message).
   */
  verify(id: string, password: string): Agent | undefined {
    const a = this.#agents.get(id);
    let ok: boolean;
    if (a?.passwordHash) ok = checkHash(password, a.passwordHash);
    else {
      checkHash(password, dummyHash());
      const want = Buffer.from(a?.password ?? `\u0000${randomBytes(8).toString('hex')}`);
      const got = Buffer.from(password);
      ok = want.length === got.length && timingSafeEqual(want, got) && a !== undefined;
    }
    return ok && a ? this.get(a.id) : undefined;
  }
}

let dummy: string | undefined;
/** A hash nobody's password matches, for the work an unknown user or a plain password would otherwise skip. */
function dummyHash(): string {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

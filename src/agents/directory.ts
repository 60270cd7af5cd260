import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { AGENT_ID_RE } from '../shared/keys.js';

export const AGENT_ROLES = ['agent', 'supervisor'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

const AgentSchema = z
  .object({
    id: z.string().regex(AGENT_ID_RE, 'letters, digits, . _ - (max 64)'),
    name: z.string().min(1).max(100),
    /** Plain password (demo files) … */
    password: z.string().min(1).optional(),
    /** … or `scrypt$<salt b64>$<hash b64>` from `npm run hash-password`. */
    passwordHash: z
      .string()
      .regex(/^scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
      .optional(),
    teams: z.array(z.string().min(1).max(64)).default([]),
    role: z.enum(AGENT_ROLES).default('agent'),
    /** Whether calls are routed to them. @default true for agents, false for supervisors */
    takesCalls: z.boolean().optional(),
  })
  .refine((a) => a.password !== undefined || a.passwordHash !== undefined, 'needs password or passwordHash');

export interface Agent {
  id: string;
  name: string;
  teams: string[];
  role: AgentRole;
  takesCalls: boolean;
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

/** The agents and supervisors from AGENTS_FILE. Immutable for the life of the process. */
export class AgentDirectory {
  readonly #agents = new Map<
    string,
    Omit<Agent, 'takesCalls'> & {
      takesCalls?: boolean | undefined;
      password?: string | undefined;
      passwordHash?: string | undefined;
    }
  >();

  constructor(list: unknown, source = 'AGENTS_FILE') {
    const parsed = z.array(AgentSchema).min(1).safeParse(list);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ConfigError(
        `${source}: agent ${i?.path.join('.')}: ${i?.message} — fix the file (see README, "Agents").`,
      );
    }
    for (const a of parsed.data) {
      if (this.#agents.has(a.id)) throw new ConfigError(`${source}: agent id "${a.id}" appears twice.`);
      this.#agents.set(a.id, a);
    }
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

  get(id: string): Agent | undefined {
    const a = this.#agents.get(id);
    return a
      ? { id: a.id, name: a.name, teams: a.teams, role: a.role, takesCalls: a.takesCalls ?? a.role === 'agent' }
      : undefined;
  }

  all(): Agent[] {
    return [...this.#agents.keys()].map((id) => this.get(id)!);
  }

  /**
   * Constant-time check that costs the same for every username: exactly one scrypt runs whether the agent exists,
   * has a hash or a plain (demo) password, so response times do not reveal which usernames exist.
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

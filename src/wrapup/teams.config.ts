import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { WRAP_UP_CODE_RE } from '../shared/protocol.js';

/** Codes offered when TEAMS_FILE does not say otherwise. */
export const DEFAULT_WRAP_UP_CODES = ['resolved', 'follow-up', 'escalated', 'wrong-number', 'no-action'] as const;

const Codes = z.array(z.string().regex(WRAP_UP_CODE_RE, 'letters, digits, _ and - (max 40)')).min(1).max(50);
const TeamSchema = z.object({ wrapUpCodes: Codes.optional() });
const FileSchema = z.object({
  default: TeamSchema.optional(),
  teams: z.record(z.string().min(1).max(64), TeamSchema).optional(),
});

/**
 * Per-team settings (TEAMS_FILE): today the wrap-up codes an agent of that team may choose. An agent in several
 * teams gets every code of their teams; a team the file does not list (or an agent in none) gets the default codes.
 */
export class TeamsConfig {
  readonly #default: string[];
  readonly #teams = new Map<string, string[]>();

  constructor(file?: unknown) {
    const parsed = FileSchema.safeParse(file ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ConfigError(`TEAMS_FILE: ${i?.path.join('.')}: ${i?.message} — see README, "Wrap-up".`);
    }
    this.#default = parsed.data.default?.wrapUpCodes ?? [...DEFAULT_WRAP_UP_CODES];
    for (const [team, t] of Object.entries(parsed.data.teams ?? {}))
      this.#teams.set(team, t.wrapUpCodes ?? this.#default);
  }

  static fromFile(file: string | undefined): TeamsConfig {
    if (!file) return new TeamsConfig();
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`TEAMS_FILE ${file} is not readable JSON: ${(err as Error).message}`);
    }
    return new TeamsConfig(raw);
  }

  /** The codes for an agent in these teams, in file order, without repeats. */
  wrapUpCodes(teams: readonly string[]): string[] {
    const lists = teams.length ? teams.map((t) => this.#teams.get(t) ?? this.#default) : [this.#default];
    return [...new Set(lists.flat())];
  }
}

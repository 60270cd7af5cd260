import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../shared/errors.js';
import { type NumberRouting, TIERS } from './policy.js';

const NumberSchema = z.object({
  policy: z.enum(['ring-all', 'ring-one']).optional(),
  teams: z.array(z.string().min(1)).optional(),
  tiers: z.array(z.enum(TIERS)).min(1).optional(),
  ringTimeoutSeconds: z.number().int().min(3).max(300).optional(),
});

const FileSchema = z.object({
  default: NumberSchema.optional(),
  /** phone_number_id → routing */
  numbers: z.record(z.string().regex(/^\d+$/), NumberSchema).optional(),
  /** caller wa_id → agent id (the "assigned" tier) */
  assignments: z.record(z.string().regex(/^\d+$/), z.string()).optional(),
  /** Offer a returning caller to the agent who last answered them (the "assigned" tier). @default true */
  stickyAgent: z.boolean().optional(),
});

/** Routing per business number (ROUTING_FILE), with the env defaults underneath. */
export class RoutingConfig {
  readonly #defaults: NumberRouting;
  readonly #numbers = new Map<string, NumberRouting>();
  readonly #assignments: Map<string, string>;
  readonly stickyAgent: boolean;

  constructor(defaults: { policy: 'ring-all' | 'ring-one'; ringTimeoutMs: number }, file?: unknown) {
    const parsed = FileSchema.safeParse(file ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ConfigError(`ROUTING_FILE: ${i?.path.join('.')}: ${i?.message} — see README, "Routing".`);
    }
    const f = parsed.data;
    const merge = (n: z.infer<typeof NumberSchema> | undefined, base: NumberRouting): NumberRouting => ({
      policy: n?.policy ?? base.policy,
      teams: n?.teams ?? base.teams,
      tiers: n?.tiers ?? base.tiers,
      ringTimeoutMs: n?.ringTimeoutSeconds ? n.ringTimeoutSeconds * 1000 : base.ringTimeoutMs,
    });
    this.#defaults = merge(f.default, {
      policy: defaults.policy,
      teams: undefined,
      tiers: ['assigned', 'team', 'anyone'],
      ringTimeoutMs: defaults.ringTimeoutMs,
    });
    for (const [id, n] of Object.entries(f.numbers ?? {})) this.#numbers.set(id, merge(n, this.#defaults));
    this.#assignments = new Map(Object.entries(f.assignments ?? {}));
    this.stickyAgent = f.stickyAgent ?? true;
  }

  static fromFile(defaults: { policy: 'ring-all' | 'ring-one'; ringTimeoutMs: number }, file: string | undefined) {
    if (!file) return new RoutingConfig(defaults);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`ROUTING_FILE ${file} is not readable JSON: ${errorMessage(err)}`);
    }
    return new RoutingConfig(defaults, raw);
  }

  forNumber(phoneNumberId: string): NumberRouting {
    return this.#numbers.get(phoneNumberId) ?? this.#defaults;
  }

  assignedAgent(waId: string | undefined): string | undefined {
    return waId ? this.#assignments.get(waId) : undefined;
  }
}

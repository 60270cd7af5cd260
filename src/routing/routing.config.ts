import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { BusinessFlow } from '../machines/call.types.js';
import { resolvePrompt } from '../media/opus/prompts.js';
import { ConfigError, errorMessage } from '../shared/errors.js';
import type { CaptureOptIn } from '../shared/meta-capture.js';
import { duplicateKeys } from './json-duplicates.js';
import { type NumberRouting, TIERS } from './policy.js';

const prompt = z.string().min(1).max(1024);
const teams = z.array(z.string().min(1).max(64)).min(1);

const IvrSchema = z.object({
  prompt: prompt.optional(),
  options: z.record(z.string().regex(/^[0-9*#]$/, 'an IVR key is one of 0-9, * or #'), z.object({ teams })),
  timeoutSeconds: z.number().int().min(1).max(60).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  /** The key taken when no key came after every retry; unset = goodbye. */
  default: z.string().optional(),
});

const QueueSchema = z.object({
  music: prompt.optional(),
  announceEverySeconds: z.number().int().min(5).max(600).optional(),
  maxWaitSeconds: z.number().int().min(5).max(3600),
  overflow: z.union([z.object({ teams }), z.object({ action: z.literal('hangup') })]).optional(),
  /** Higher is served first; equal priorities by entry time. @default 0 */
  priority: z.number().int().min(0).max(99).optional(),
});

const NumberSchema = z.object({
  policy: z.enum(['ring-all', 'ring-one']).optional(),
  teams: z.array(z.string().min(1)).optional(),
  tiers: z.array(z.enum(TIERS)).min(1).optional(),
  ringTimeoutSeconds: z.number().int().min(3).max(300).optional(),
  /** agent: answered when an agent accepts (the default); business: answered at once, greeting → IVR → queue. */
  answer: z.enum(['agent', 'business']).optional(),
  greeting: prompt.optional(),
  ivr: IvrSchema.optional(),
  queue: QueueSchema.optional(),
  /** Call recording: none, every call (announced), or when the agent starts it. @default 'off' */
  record: z.enum(['off', 'all', 'agent']).optional(),
  /** Meta-side recording and transcription, asked for with every accept and connect (both parties hear it). */
  metaCapture: z
    .object({
      recording: z.boolean(),
      transcription: z.boolean(),
      purpose: z.string().min(1).max(200),
      language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language such as "en_US"'),
    })
    .strict()
    .optional(),
});
type NumberFile = z.infer<typeof NumberSchema>;

const FileSchema = z.object({
  default: NumberSchema.optional(),
  /** phone_number_id → routing */
  numbers: z.record(z.string().regex(/^\d+$/), NumberSchema).optional(),
  /** caller wa_id → agent id (the "assigned" tier) */
  assignments: z.record(z.string().regex(/^\d+$/), z.string()).optional(),
  /** Offer a returning caller to the agent who last answered them (the "assigned" tier). @default true */
  stickyAgent: z.boolean().optional(),
});

/** What the routing file is checked against at start. */
export interface RoutingChecks {
  /** Every team an agent belongs to; a team the file names that nobody is in stops the start. */
  knownTeams?: string[] | undefined;
  /** Returns a problem sentence for a prompt that cannot be played. @default shipped prompts and absolute paths */
  promptProblem?: ((nameOrPath: string) => string | undefined) | undefined;
}

const defaultPromptProblem = (p: string): string | undefined => {
  try {
    resolvePrompt(p);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
};

const DEFAULT_QUEUE = { music: 'music', announceEverySeconds: 30, maxWaitSeconds: 300 };

/** Routing per business number (ROUTING_FILE), with the env defaults underneath. */
export class RoutingConfig {
  readonly #record = new Map<string, 'off' | 'all' | 'agent'>();
  #recordDefault: 'off' | 'all' | 'agent' = 'off';
  readonly #capture = new Map<string, CaptureOptIn | undefined>();
  #captureDefault: CaptureOptIn | undefined;
  readonly #defaults: NumberRouting;
  readonly #numbers = new Map<string, NumberRouting>();
  readonly #flows = new Map<string, BusinessFlow | undefined>();
  readonly #defaultFlow: BusinessFlow | undefined;
  readonly #assignments: Map<string, string>;
  readonly stickyAgent: boolean;

  constructor(
    defaults: { policy: 'ring-all' | 'ring-one'; ringTimeoutMs: number },
    file?: unknown,
    checks?: RoutingChecks,
  ) {
    const parsed = FileSchema.safeParse(file ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      // A bad record key (an IVR key such as "12") carries its reason one level down.
      const why = i && 'issues' in i && Array.isArray(i.issues) ? (i.issues[0]?.message ?? i.message) : i?.message;
      throw new ConfigError(`ROUTING_FILE: ${i?.path.join('.')}: ${why} — see README, "Routing".`);
    }
    const f = parsed.data;
    const merge = (n: NumberFile | undefined, base: NumberRouting): NumberRouting => ({
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
    const problems: string[] = [];
    this.#defaultFlow = businessFlow('default', f.default, undefined, this.#defaults, problems);
    for (const [id, n] of Object.entries(f.numbers ?? {})) {
      const routing = merge(n, this.#defaults);
      this.#numbers.set(id, routing);
      this.#flows.set(id, businessFlow(`numbers.${id}`, n, f.default, routing, problems));
    }
    problems.push(...checkFlows([['default', this.#defaultFlow], ...this.#flowEntries()], checks));
    if (problems.length) {
      throw new ConfigError(problems.map((p) => `ROUTING_FILE: ${p} — see README, "Routing".`).join('\n'));
    }
    this.#assignments = new Map(Object.entries(f.assignments ?? {}));
    this.#recordDefault = f.default?.record ?? 'off';
    for (const [id, n] of Object.entries(f.numbers ?? {})) this.#record.set(id, n.record ?? this.#recordDefault);
    const optIn = (c: NumberFile['metaCapture']) => (c && (c.recording || c.transcription) ? { ...c } : undefined);
    this.#captureDefault = optIn(f.default?.metaCapture);
    for (const [id, n] of Object.entries(f.numbers ?? {}))
      this.#capture.set(id, n.metaCapture ? optIn(n.metaCapture) : this.#captureDefault);
    this.stickyAgent = f.stickyAgent ?? true;
  }

  #flowEntries(): [string, BusinessFlow | undefined][] {
    return [...this.#flows.entries()].map(([id, flow]) => [`numbers.${id}`, flow]);
  }

  static fromFile(
    defaults: { policy: 'ring-all' | 'ring-one'; ringTimeoutMs: number },
    file: string | undefined,
    checks?: RoutingChecks,
  ) {
    if (!file) return new RoutingConfig(defaults, undefined, checks);
    let raw: unknown;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`ROUTING_FILE ${file} is not readable JSON: ${errorMessage(err)}`);
    }
    const dup = duplicateKeys(text);
    if (dup.length) {
      throw new ConfigError(
        dup.map((d) => `ROUTING_FILE: ${d} is given twice (an IVR key mapped twice?) — keep one.`).join('\n'),
      );
    }
    return new RoutingConfig(defaults, raw, checks);
  }

  forNumber(phoneNumberId: string): NumberRouting {
    return this.#numbers.get(phoneNumberId) ?? this.#defaults;
  }

  /** The business-answer flow of a number, or undefined when its calls are answered by agents. */
  flowFor(phoneNumberId: string): BusinessFlow | undefined {
    return this.#flows.has(phoneNumberId) ? this.#flows.get(phoneNumberId) : this.#defaultFlow;
  }

  /** The number's recording policy (`record`). */
  recordFor(phoneNumberId: string): 'off' | 'all' | 'agent' {
    return this.#record.get(phoneNumberId) ?? this.#recordDefault;
  }

  /** The number's Meta-side recording / transcription opt-in (`metaCapture`), or undefined when off. */
  captureFor(phoneNumberId: string): CaptureOptIn | undefined {
    return this.#capture.has(phoneNumberId) ? this.#capture.get(phoneNumberId) : this.#captureDefault;
  }

  assignedAgent(waId: string | undefined): string | undefined {
    return waId ? this.#assignments.get(waId) : undefined;
  }
}

/** A number's business flow; a number's own fields win over the default's, field by field. */
function businessFlow(
  where: string,
  n: NumberFile | undefined,
  base: NumberFile | undefined,
  routing: NumberRouting,
  problems: string[],
): BusinessFlow | undefined {
  const answer = n?.answer ?? base?.answer ?? 'agent';
  if (answer !== 'business') return undefined;
  const ivr = n?.ivr ?? base?.ivr;
  const queue = { ...DEFAULT_QUEUE, ...(n?.queue ?? base?.queue) };
  const queueTeams = routing.teams ?? [];
  if (!ivr && queueTeams.length === 0) {
    problems.push(`${where}: answer "business" without an ivr needs "teams" (the queue the caller waits in)`);
  }
  if (ivr?.default !== undefined && !(ivr.default in ivr.options)) {
    problems.push(`${where}.ivr.default: key "${ivr.default}" is not one of the options`);
  }
  const greeting = n?.greeting ?? base?.greeting ?? 'greeting';
  return {
    greeting: [greeting],
    ivr: ivr && {
      prompt: [ivr.prompt ?? 'menu'],
      options: Object.fromEntries(Object.entries(ivr.options).map(([k, v]) => [k, v.teams])),
      timeoutMs: (ivr.timeoutSeconds ?? 5) * 1000,
      retries: ivr.retries ?? 2,
      defaultDigit: ivr.default,
    },
    queue: {
      teams: queueTeams,
      music: queue.music,
      announceEveryMs: queue.announceEverySeconds * 1000,
      maxWaitMs: queue.maxWaitSeconds * 1000,
      overflow: queue.overflow ?? { action: 'hangup' },
      priority: queue.priority ?? 0,
    },
  };
}

/** Teams nobody is in, and prompts that cannot be played: one line each. */
function checkFlows(flows: [string, BusinessFlow | undefined][], checks: RoutingChecks | undefined): string[] {
  const problems: string[] = [];
  const promptProblem = checks?.promptProblem ?? defaultPromptProblem;
  const known = checks?.knownTeams && new Set(checks.knownTeams);
  const seenPrompts = new Map<string, string | undefined>();
  for (const [where, flow] of flows) {
    if (!flow) continue;
    const teamRefs: [string, string[]][] = [[`${where}.teams`, flow.queue.teams]];
    for (const [k, t] of Object.entries(flow.ivr?.options ?? {})) teamRefs.push([`${where}.ivr.options.${k}.teams`, t]);
    if ('teams' in flow.queue.overflow) teamRefs.push([`${where}.queue.overflow.teams`, flow.queue.overflow.teams]);
    if (known) {
      for (const [at, list] of teamRefs) {
        for (const t of list) if (!known.has(t)) problems.push(`${at}: unknown team "${t}" (no agent is in it)`);
      }
    }
    const prompts: [string, string][] = [
      [`${where}.greeting`, flow.greeting[0]!],
      [`${where}.queue.music`, flow.queue.music],
      ...(flow.ivr ? ([[`${where}.ivr.prompt`, flow.ivr.prompt[0]!]] as [string, string][]) : []),
    ];
    for (const [at, p] of prompts) {
      if (!seenPrompts.has(p)) seenPrompts.set(p, promptProblem(p));
      const problem = seenPrompts.get(p);
      if (problem) problems.push(`${at}: ${problem}`);
    }
  }
  return problems;
}

import { z } from 'zod';
import { type CallsConfig, CallsEnv, callsConfig } from './config.calls.js';
import { bool, csv, int, type Problems } from './config.fields.js';
import { type HttpConfig, HttpEnv, httpConfig } from './config.http.js';
import { type IceServer, type MediaConfig, MediaEnv, mediaConfig } from './config.media.js';
import {
  type EventsConfig,
  type OutboundConfig,
  OutboundEnv,
  outboundConfig,
  type RecordingsConfig,
} from './config.outbound.js';
import { ConfigError } from './errors.js';

/**
 * The configuration: environment variables only, read once by {@link loadConfig}. This file holds the core (role,
 * Redis, WhatsApp and the Graph API, demo mode); each area keeps its variables, checks and section beside it:
 * config.http.ts (listening, logins, security), config.calls.ts (timing, routing, queues, wrap-up), config.media.ts
 * (media nodes), config.outbound.ts (outbound calls, recordings, call events).
 */

export const ROLES = ['http', 'worker', 'media', 'all'] as const;
type Role = (typeof ROLES)[number];

/** Demo secrets used only when no WhatsApp credentials are configured (the embedded default). */
export const DEMO = {
  appSecret: 'demo-app-secret',
  verifyToken: 'demo-verify-token',
  accessToken: 'demo-access-token',
  phoneNumberId: '100000000000001',
  displayPhoneNumber: '15550001111',
} as const;

const CoreEnv = z.object({
  ROLE: z.enum(ROLES).default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  REDIS_URL: z.string().optional(),
  REDIS_DEFAULT_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER: bool.default(false),
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('wacc'),

  DEMO: z.enum(['auto', '1', '0']).default('auto'),
  SIM_PORT: int(0, 65535).optional(),
  WHATSAPP_APP_SECRET: z.string().min(1).optional(),
  WHATSAPP_VERIFY_TOKEN: z.string().min(1).optional(),
  WHATSAPP_ACCESS_TOKEN: z.string().min(1).optional(),
  WHATSAPP_PHONE_NUMBER_ID: csv().optional(),
  GRAPH_API_BASE_URL: z.url().default('https://graph.facebook.com'),
  DEMO_GRAPH_API_BASE_URL: z.url().optional(),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'like v23.0')
    .default('v23.0'),
  GRAPH_TIMEOUT_MS: int(100, 120_000).default(10_000),
  GRAPH_MAX_ATTEMPTS: int(1, 20).default(5),
  WORKER_LOCK_MS: int(1000, 600_000).default(10_000),
});

/** Every environment variable the service reads, with its default. The README lists the same table. */
const EnvSchema = z.object({
  ...CoreEnv.shape,
  ...HttpEnv.shape,
  ...CallsEnv.shape,
  ...MediaEnv.shape,
  ...OutboundEnv.shape,
});

export interface GraphConfig {
  baseUrl: string;
  version: string;
  accessToken: string;
  timeoutMs: number;
  maxAttempts: number;
}

/** The validated, frozen configuration. Only {@link loadConfig} reads the environment. */
export interface Config extends HttpConfig {
  role: Role;
  logLevel: string;
  redis: { url: string | undefined; defaultUrl: string; cluster: boolean; keyPrefix: string };
  /** Demo mode: no WhatsApp credentials configured; an embedded simulator plays Meta. */
  demo: boolean;
  simPort: number | undefined;
  whatsapp: { appSecret: string; verifyToken: string; phoneNumberIds: string[] };
  graph: GraphConfig;
  /** True when GRAPH_API_BASE_URL was set; in demo mode an unset one means "the embedded simulator". */
  graphBaseUrlSet: boolean;
  /** How long a worker holds a job without renewing its lock; a crashed worker's job is retried after this. */
  workerLockMs: number;
  calls: CallsConfig;
  media: MediaConfig;
  /** ICE servers for agents' browsers (served by /api/config). */
  agentIceServers: IceServer[];
  /** Business-initiated calls. */
  outbound: OutboundConfig;
  recordings: RecordingsConfig;
  events: EventsConfig;
}

const WHATSAPP_VARS = [
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_VERIFY_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'WHATSAPP_PHONE_NUMBER_ID',
] as const;

/**
 * Parses the environment once. Throws a {@link ConfigError} whose message is one line per problem, each naming the
 * variable and what to set: first every value zod refuses, else every setting that does not fit with another.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  // Empty strings mean "unset" (docker-compose passes `VAR=` through).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return `${name}: ${i.message} (got ${JSON.stringify(cleaned[name] ?? null)})`;
    });
    throw new ConfigError(`Invalid configuration — fix these environment variables:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const problems: Problems = [];

  const givenWa = WHATSAPP_VARS.filter((k) => e[k] !== undefined);
  const demo = e.DEMO === '1' || (e.DEMO === 'auto' && givenWa.length === 0);
  if (!demo && givenWa.length < WHATSAPP_VARS.length) {
    const missing = WHATSAPP_VARS.filter((k) => e[k] === undefined);
    problems.push(
      `Missing ${missing.join(', ')}: set all four WhatsApp variables (from your Meta app dashboard), or none for the demo mode.`,
    );
  }
  // Demo mode talks to a simulator: GRAPH_API_BASE_URL, else DEMO_GRAPH_API_BASE_URL (a simulator of its own, as in
  // docker-compose), else the one each http process embeds. A worker on its own has none to fall back on.
  const demoGraph = demo && cleaned.GRAPH_API_BASE_URL === undefined ? e.DEMO_GRAPH_API_BASE_URL : undefined;
  const graphBaseUrlSet = cleaned.GRAPH_API_BASE_URL !== undefined || demoGraph !== undefined;
  if (demo && e.ROLE === 'worker' && !graphBaseUrlSet) {
    problems.push(
      'GRAPH_API_BASE_URL is not set and this is the demo mode: a worker on its own would call Meta with the demo token. Point GRAPH_API_BASE_URL (or DEMO_GRAPH_API_BASE_URL) at the simulator (npm run sim).',
    );
  }

  const config: Config = {
    role: e.ROLE,
    logLevel: e.LOG_LEVEL,
    redis: { url: e.REDIS_URL, defaultUrl: e.REDIS_DEFAULT_URL, cluster: e.REDIS_CLUSTER, keyPrefix: e.KEY_PREFIX },
    demo,
    simPort: e.SIM_PORT,
    whatsapp: {
      appSecret: e.WHATSAPP_APP_SECRET ?? DEMO.appSecret,
      verifyToken: e.WHATSAPP_VERIFY_TOKEN ?? DEMO.verifyToken,
      phoneNumberIds: e.WHATSAPP_PHONE_NUMBER_ID ?? [DEMO.phoneNumberId],
    },
    graph: {
      baseUrl: (demoGraph ?? e.GRAPH_API_BASE_URL).replace(/\/+$/, ''),
      version: e.GRAPH_API_VERSION,
      accessToken: e.WHATSAPP_ACCESS_TOKEN ?? DEMO.accessToken,
      timeoutMs: e.GRAPH_TIMEOUT_MS,
      maxAttempts: e.GRAPH_MAX_ATTEMPTS,
    },
    graphBaseUrlSet,
    workerLockMs: e.WORKER_LOCK_MS,
    ...httpConfig(e, demo, problems),
    calls: callsConfig(e),
    ...mediaConfig(e, problems),
    ...outboundConfig(e, problems),
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration — fix these environment variables:\n  ${problems.join('\n  ')}`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Project root (two levels above this file), used for defaults that point at shipped files. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** With WRAP_UP_REQUIRED, an agent who never submits is freed after this anyway (every wait has a deadline). */
export const REQUIRED_WRAP_UP_MAX_MS = 8 * 3600_000;

export const ROLES = ['http', 'worker', 'media', 'all'] as const;
export type Role = (typeof ROLES)[number];

/** Demo secrets used only when no WhatsApp credentials are configured (the embedded default). */
export const DEMO = {
  appSecret: 'demo-app-secret',
  verifyToken: 'demo-verify-token',
  accessToken: 'demo-access-token',
  phoneNumberId: '100000000000001',
  displayPhoneNumber: '15550001111',
} as const;

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** Every environment variable the service reads, with its default. The README lists the same table. */
const EnvSchema = z.object({
  ROLE: z.enum(ROLES).default('all'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  METRICS_PORT: int(1, 65535).optional(),
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
  WHATSAPP_PHONE_NUMBER_ID: csv.optional(),
  GRAPH_API_BASE_URL: z.url().default('https://graph.facebook.com'),
  DEMO_GRAPH_API_BASE_URL: z.url().optional(),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'like v23.0')
    .default('v23.0'),
  GRAPH_TIMEOUT_MS: int(100, 120_000).default(10_000),
  GRAPH_MAX_ATTEMPTS: int(1, 20).default(5),
  WORKER_LOCK_MS: int(1000, 600_000).default(10_000),

  CALL_ANSWER_DEADLINE_SECONDS: int(5, 600).default(45),
  AGENT_RING_TIMEOUT_SECONDS: int(3, 300).default(15),
  ACCEPT_DEADLINE_SECONDS: int(1, 120).default(10),
  MAX_CALL_SECONDS: int(30, 86_400).default(4 * 3600),
  WRAP_UP_SECONDS: int(0, 3600).default(5),
  WRAP_UP_REQUIRED: bool.default(false),
  TEAMS_FILE: z.string().optional(),
  HOLD_ALERT_SECONDS: int(5, 3600).default(60),
  QUEUE_SERVICE_LEVEL_SECONDS: int(1, 3600).default(20),
  CALL_RETENTION_SECONDS: int(60, 90 * 86_400).default(7 * 86_400),
  ROUTING_POLICY: z.enum(['ring-all', 'ring-one']).default('ring-all'),
  ROUTING_FILE: z.string().optional(),

  AGENTS_FILE: z.string().optional(),
  JWT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  JWT_TTL_SECONDS: int(60, 30 * 86_400).default(12 * 3600),
  PRESENCE_LEASE_SECONDS: int(5, 600).default(30),
  CORS_ORIGIN: csv.optional(),
  TRUSTED_PROXIES: csv.optional(),
  DEMO_ALLOW_REMOTE: bool.default(false),
  SHOW_DTMF: bool.default(false),

  MEDIA_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  MEDIA_CAPACITY: int(1, 1000).optional(),
  MEDIA_ICE_SERVERS: z.string().optional(),
  AGENT_ICE_SERVERS: z.string().optional(),
  MEDIA_ANNOUNCED_IP: z.string().optional(),
  MEDIA_PORT_MIN: int(1024, 65535).optional(),
  MEDIA_PORT_MAX: int(1024, 65535).optional(),
  MEDIA_ALLOWED_NETWORKS: csv.optional(),
  MEDIA_HEARTBEAT_MS: int(200, 60_000).default(2000),
  MEDIA_NODE_TTL_MS: int(1000, 120_000).default(6000),
  MEDIA_DRAIN_TIMEOUT_SECONDS: int(0, 86_400).default(4 * 3600),
  MEDIA_DETECT_DTMF: bool.default(true),
  MEDIA_ENGINE: z.enum(['forward', 'wrtc']).default('forward'),
  MEDIA_RECORDINGS_DIR: z.string().default('data/recordings/parts'),

  EVENTS_WEBHOOK_URL: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'a comma-separated list of http(s) URLs' })).max(10))
    .optional(),
  EVENTS_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  EVENTS_WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5000),
  EVENTS_WEBHOOK_ATTEMPTS: int(1, 50).default(12),
  EVENTS_WEBHOOK_BACKOFF_MS: int(10, 600_000).default(1000),

  XSTATE_INSPECT: bool.default(false),
  XSTATE_INSPECT_PORT: int(1, 65535).default(8484),
  XSTATE_INSPECT_HOST: z.string().min(1).default('127.0.0.1'),
  XSTATE_INSPECT_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CONSOLE_BUILD: z.enum(['auto', 'never']).default('auto'),
  /** Numbers agents may never call (comma-separated digits): refused before anything reaches Meta. */
  OUTBOUND_DO_NOT_CALL: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.replace(/[\s+-]/g, ''))
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^\d{8,15}$/, 'each entry must be a phone number of 8 to 15 digits')))
    .optional(),
  /** Where finished recordings are stored (one Ogg Opus file per call) unless S3 is configured. */
  RECORDINGS_DIR: z.string().min(1).default('data/recordings'),
  /** S3-compatible storage for recordings: set the bucket to use it (credentials below or the AWS defaults). */
  RECORDINGS_S3_BUCKET: z.string().min(3).max(63).optional(),
  RECORDINGS_S3_PREFIX: z.string().max(200).default('recordings/'),
  RECORDINGS_S3_REGION: z.string().min(1).default('us-east-1'),
  RECORDINGS_S3_ENDPOINT: z.string().url().optional(),
  RECORDINGS_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  RECORDINGS_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** The text of the call-permission request message users receive. */
  OUTBOUND_PERMISSION_TEXT: z.string().min(1).max(1024).default('We would like to call you on WhatsApp.'),
});

export interface GraphConfig {
  baseUrl: string;
  version: string;
  accessToken: string;
  timeoutMs: number;
  maxAttempts: number;
}

export interface MediaConfig {
  nodeId: string | undefined;
  capacity: number;
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  announcedIp: string | undefined;
  portRange: { min: number; max: number } | undefined;
  allowedNetworks: string[] | undefined;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** SIGTERM waits this long for live calls to end before ending the rest. */
  drainTimeoutMs: number;
  /** Detect the caller's DTMF keys (played in-band by libwebrtc) and report them as call events. */
  detectDtmf: boolean;
  /** `forward` (RTP forwarding, node-datachannel) or `wrtc` (libwebrtc decodes and re-encodes). */
  engine: 'forward' | 'wrtc';
  /** Where a media node writes `<callId>.caller.ogg` and `<callId>.agents.ogg` (created at start). */
  recordingsDir: string;
}

/**
 * Calls per media process when MEDIA_CAPACITY is unset, from measurements on a 2-core machine (README, Media):
 * forward carried 100 calls at 40 % of a core (0.4 % per call); wrtc ≈ 5–7 % per call, ≈ 13 per core.
 */
const MEDIA_CAPACITY_DEFAULT = { forward: 100, wrtc: 10 } as const;

/** The validated, frozen configuration. Only {@link loadConfig} reads the environment. */
export interface Config {
  role: Role;
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** worker and media roles: serve /metrics and /healthz on this port (the http role serves them on PORT). */
  metricsPort: number | undefined;
  logLevel: string;
  redis: { url: string | undefined; defaultUrl: string; cluster: boolean; keyPrefix: string };
  /** Demo mode: no WhatsApp credentials configured; an embedded simulator plays Meta. */
  demo: boolean;
  simPort: number | undefined;
  whatsapp: { appSecret: string; verifyToken: string; phoneNumberIds: string[] };
  graph: GraphConfig;
  /** True when GRAPH_API_BASE_URL was set; in demo mode an unset one means "the embedded simulator". */
  graphBaseUrlSet: boolean;
  calls: {
    answerDeadlineMs: number;
    ringTimeoutMs: number;
    acceptDeadlineMs: number;
    maxCallMs: number;
    wrapUpMs: number;
    /** The agent stays busy until they submit a wrap-up (bounded by {@link REQUIRED_WRAP_UP_MAX_MS}). */
    wrapUpRequired: boolean;
    /** Per-team settings (wrap-up codes); unset = the default codes for everyone. */
    teamsFile: string | undefined;
    /** A caller on hold longer than this alerts the agent (and again after every further period). */
    holdAlertMs: number;
    /** Service level: the share of queued calls answered within this many seconds of entering the queue. */
    serviceLevelSeconds: number;
    retentionMs: number;
    routingPolicy: 'ring-all' | 'ring-one';
    routingFile: string | undefined;
  };
  auth: {
    agentsFile: string;
    jwtSecret: string;
    /** JWT_SECRET was set; otherwise (demo mode) every process on one Redis shares a random one kept there. */
    jwtSecretSet: boolean;
    jwtTtlSeconds: number;
    presenceLeaseMs: number;
  };
  corsOrigins: string[] | undefined;
  /** Proxies (CIDRs) whose X-Forwarded-For names the client's address (login limiting, logs). */
  trustedProxies: string[] | undefined;
  /** Show DTMF digits in timelines, the call view and the inspector (they can be PINs: masked by default). */
  showDtmf: boolean;
  /** ICE servers for agents' browsers (served by /api/config). */
  agentIceServers: MediaConfig['iceServers'];
  media: MediaConfig;
  inspect: boolean;
  /** The Stately inspector bridge's port (XSTATE_INSPECT=1). */
  inspectPort: number;
  /** The address the inspector bridge listens on (loopback unless set). */
  inspectHost: string;
  /** The token a client of the inspector bridge must present (random per start unless set). */
  inspectToken: string;
  /** How long a worker holds a job without renewing its lock; a crashed worker's job is retried after this. */
  workerLockMs: number;
  /** Build web/dist at start when it is missing or stale (`npm start`). */
  consoleBuild: boolean;
  /** Business-initiated calls. */
  outbound: { doNotCall: string[]; permissionText: string };
  /** Finished call recordings: a directory, or S3-compatible storage when a bucket is set. */
  recordings: {
    dir: string;
    s3:
      | {
          bucket: string;
          prefix: string;
          region: string;
          endpoint: string | undefined;
          accessKeyId: string | undefined;
          secretAccessKey: string | undefined;
          forcePathStyle: boolean;
        }
      | undefined;
  };
  /** Signed call events for outside systems; no URLs = none sent. */
  events: EventsConfig;
}

export interface EventsConfig {
  urls: string[];
  secret: string;
  timeoutMs: number;
  attempts: number;
  /** First retry after this; each next one waits twice as long. */
  backoffMs: number;
}

const WHATSAPP_VARS = [
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_VERIFY_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'WHATSAPP_PHONE_NUMBER_ID',
] as const;

/**
 * Parses the environment once. Throws a {@link ConfigError} whose message is one line per problem, each naming the
 * variable and what to set.
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

  const givenWa = WHATSAPP_VARS.filter((k) => e[k] !== undefined);
  const demo = e.DEMO === '1' || (e.DEMO === 'auto' && givenWa.length === 0);
  if (!demo && givenWa.length < WHATSAPP_VARS.length) {
    const missing = WHATSAPP_VARS.filter((k) => e[k] === undefined);
    throw new ConfigError(
      `Missing ${missing.join(', ')}: set all four WhatsApp variables (from your Meta app dashboard), or none for the demo mode.`,
    );
  }
  // Demo mode talks to a simulator: GRAPH_API_BASE_URL, else DEMO_GRAPH_API_BASE_URL (a simulator of its own, as in
  // docker-compose), else the one each http process embeds. A worker on its own has none to fall back on.
  const demoGraph = demo && cleaned.GRAPH_API_BASE_URL === undefined ? e.DEMO_GRAPH_API_BASE_URL : undefined;
  const graphBaseUrlSet = cleaned.GRAPH_API_BASE_URL !== undefined || demoGraph !== undefined;
  if (demo && e.ROLE === 'worker' && !graphBaseUrlSet) {
    throw new ConfigError(
      'GRAPH_API_BASE_URL is not set and this is the demo mode: a worker on its own would call Meta with the demo token. Point GRAPH_API_BASE_URL (or DEMO_GRAPH_API_BASE_URL) at the simulator (npm run sim).',
    );
  }
  if (!demo && !e.JWT_SECRET) {
    throw new ConfigError('JWT_SECRET is not set: set it to a random string of at least 16 characters.');
  }
  if ((e.RECORDINGS_S3_ACCESS_KEY_ID === undefined) !== (e.RECORDINGS_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('Set both RECORDINGS_S3_ACCESS_KEY_ID and RECORDINGS_S3_SECRET_ACCESS_KEY, or neither.');
  }
  for (const cidr of e.TRUSTED_PROXIES ?? []) {
    const [address = '', prefix] = cidr.split('/');
    const max = isIP(address) === 4 ? 32 : 128;
    if (isIP(address) === 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) {
      throw new ConfigError(`TRUSTED_PROXIES: "${cidr}" is not an address or CIDR network (like 10.0.0.0/8).`);
    }
  }
  if (demo && !e.DEMO_ALLOW_REMOTE && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(
      `HOST ${e.HOST} is not a loopback address and this is the demo mode (no WhatsApp credentials, demo logins): set HOST=127.0.0.1, or DEMO_ALLOW_REMOTE=1 to expose the demo anyway.`,
    );
  }
  if ((e.MEDIA_PORT_MIN === undefined) !== (e.MEDIA_PORT_MAX === undefined)) {
    throw new ConfigError('Set both MEDIA_PORT_MIN and MEDIA_PORT_MAX, or neither.');
  }
  if (e.MEDIA_PORT_MIN !== undefined && e.MEDIA_PORT_MAX !== undefined && e.MEDIA_PORT_MIN > e.MEDIA_PORT_MAX) {
    throw new ConfigError('MEDIA_PORT_MIN must not be greater than MEDIA_PORT_MAX.');
  }
  const iceServers = parseIceServers('MEDIA_ICE_SERVERS', e.MEDIA_ICE_SERVERS);
  const agentIceServers = parseIceServers('AGENT_ICE_SERVERS', e.AGENT_ICE_SERVERS);
  const eventUrls = e.EVENTS_WEBHOOK_URL ?? [];
  if (eventUrls.length > 0 && !e.EVENTS_WEBHOOK_SECRET) {
    throw new ConfigError(
      'EVENTS_WEBHOOK_SECRET is not set: receivers check each event against it; set a random string of at least 16 characters.',
    );
  }
  const agentsFile = path.resolve(e.AGENTS_FILE ?? path.join(PROJECT_ROOT, 'config', 'agents.demo.json'));
  if (!existsSync(agentsFile)) {
    throw new ConfigError(`AGENTS_FILE ${agentsFile} does not exist: point AGENTS_FILE at a JSON list of agents.`);
  }

  const config: Config = {
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    metricsPort: e.METRICS_PORT,
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
    calls: {
      answerDeadlineMs: e.CALL_ANSWER_DEADLINE_SECONDS * 1000,
      ringTimeoutMs: e.AGENT_RING_TIMEOUT_SECONDS * 1000,
      acceptDeadlineMs: e.ACCEPT_DEADLINE_SECONDS * 1000,
      maxCallMs: e.MAX_CALL_SECONDS * 1000,
      wrapUpMs: e.WRAP_UP_SECONDS * 1000,
      wrapUpRequired: e.WRAP_UP_REQUIRED,
      teamsFile: e.TEAMS_FILE ? path.resolve(e.TEAMS_FILE) : undefined,
      holdAlertMs: e.HOLD_ALERT_SECONDS * 1000,
      serviceLevelSeconds: e.QUEUE_SERVICE_LEVEL_SECONDS,
      retentionMs: e.CALL_RETENTION_SECONDS * 1000,
      routingPolicy: e.ROUTING_POLICY,
      routingFile: e.ROUTING_FILE ? path.resolve(e.ROUTING_FILE) : undefined,
    },
    auth: {
      agentsFile,
      // Demo mode never signs with a secret from the repository: a random one per start.
      jwtSecret: e.JWT_SECRET ?? randomBytes(32).toString('base64url'),
      jwtSecretSet: e.JWT_SECRET !== undefined,
      jwtTtlSeconds: e.JWT_TTL_SECONDS,
      presenceLeaseMs: e.PRESENCE_LEASE_SECONDS * 1000,
    },
    corsOrigins: e.CORS_ORIGIN,
    trustedProxies: e.TRUSTED_PROXIES,
    showDtmf: e.SHOW_DTMF,
    agentIceServers,
    media: {
      nodeId: e.MEDIA_NODE_ID,
      capacity: e.MEDIA_CAPACITY ?? MEDIA_CAPACITY_DEFAULT[e.MEDIA_ENGINE],
      iceServers,
      announcedIp: e.MEDIA_ANNOUNCED_IP,
      portRange:
        e.MEDIA_PORT_MIN !== undefined && e.MEDIA_PORT_MAX !== undefined
          ? { min: e.MEDIA_PORT_MIN, max: e.MEDIA_PORT_MAX }
          : undefined,
      allowedNetworks: e.MEDIA_ALLOWED_NETWORKS,
      heartbeatMs: e.MEDIA_HEARTBEAT_MS,
      nodeTtlMs: e.MEDIA_NODE_TTL_MS,
      drainTimeoutMs: e.MEDIA_DRAIN_TIMEOUT_SECONDS * 1000,
      detectDtmf: e.MEDIA_DETECT_DTMF,
      engine: e.MEDIA_ENGINE,
      recordingsDir: e.MEDIA_RECORDINGS_DIR,
    },
    inspect: e.XSTATE_INSPECT,
    inspectPort: e.XSTATE_INSPECT_PORT,
    inspectHost: e.XSTATE_INSPECT_HOST,
    inspectToken: e.XSTATE_INSPECT_TOKEN ?? randomBytes(16).toString('hex'),
    workerLockMs: e.WORKER_LOCK_MS,
    consoleBuild: e.CONSOLE_BUILD === 'auto',
    outbound: { doNotCall: e.OUTBOUND_DO_NOT_CALL ?? [], permissionText: e.OUTBOUND_PERMISSION_TEXT },
    recordings: {
      dir: path.resolve(e.RECORDINGS_DIR),
      s3: e.RECORDINGS_S3_BUCKET
        ? {
            bucket: e.RECORDINGS_S3_BUCKET,
            prefix: e.RECORDINGS_S3_PREFIX,
            region: e.RECORDINGS_S3_REGION,
            endpoint: e.RECORDINGS_S3_ENDPOINT,
            accessKeyId: e.RECORDINGS_S3_ACCESS_KEY_ID,
            secretAccessKey: e.RECORDINGS_S3_SECRET_ACCESS_KEY,
            forcePathStyle: e.RECORDINGS_S3_ENDPOINT !== undefined,
          }
        : undefined,
    },
    events: {
      urls: eventUrls,
      secret: e.EVENTS_WEBHOOK_SECRET ?? '',
      timeoutMs: e.EVENTS_WEBHOOK_TIMEOUT_MS,
      attempts: e.EVENTS_WEBHOOK_ATTEMPTS,
      backoffMs: e.EVENTS_WEBHOOK_BACKOFF_MS,
    },
  };
  return deepFreeze(config);
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function parseIceServers(name: string, value: string | undefined): MediaConfig['iceServers'] {
  if (!value) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw new ConfigError(
      `${name} is not JSON: set it like [{"urls":"turn:turn.example.com:3478","username":"u","credential":"p"}].`,
    );
  }
  const servers = z.array(iceServer).safeParse(raw);
  if (!servers.success)
    throw new ConfigError(`${name} must be a JSON array of {urls, username?, credential?} objects.`);
  return servers.data;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

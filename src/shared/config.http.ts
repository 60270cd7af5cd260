import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { bool, csv, int, PROJECT_ROOT, type Problems } from './config.fields.js';

/** The HTTP side and its security: where it listens, agents' logins and tokens, proxies, the inspector. @see config.ts */
export const HttpEnv = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  METRICS_PORT: int(1, 65535).optional(),
  AGENTS_FILE: z.string().optional(),
  JWT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  JWT_TTL_SECONDS: int(60, 30 * 86_400).default(12 * 3600),
  PRESENCE_LEASE_SECONDS: int(5, 600).default(30),
  CORS_ORIGIN: csv().optional(),
  TRUSTED_PROXIES: csv().optional(),
  DEMO_ALLOW_REMOTE: bool.default(false),
  SHOW_DTMF: bool.default(false),
  XSTATE_INSPECT: bool.default(false),
  XSTATE_INSPECT_PORT: int(1, 65535).default(8484),
  XSTATE_INSPECT_HOST: z.string().min(1).default('127.0.0.1'),
  XSTATE_INSPECT_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CONSOLE_BUILD: z.enum(['auto', 'never']).default('auto'),
});

export interface HttpConfig {
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** worker and media roles: serve /metrics and /healthz on this port (the http role serves them on PORT). */
  metricsPort: number | undefined;
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
  inspect: boolean;
  /** The Stately inspector bridge's port (XSTATE_INSPECT=1). */
  inspectPort: number;
  /** The address the inspector bridge listens on (loopback unless set). */
  inspectHost: string;
  /** The token a client of the inspector bridge must present (random per start unless set). */
  inspectToken: string;
  /** Build web/dist at start when it is missing or stale (`npm start`). */
  consoleBuild: boolean;
}

/** The HTTP and security settings; `demo` (no WhatsApp credentials) allows fewer of them unset. */
export function httpConfig(e: z.infer<typeof HttpEnv>, demo: boolean, problems: Problems): HttpConfig {
  if (!demo && !e.JWT_SECRET) {
    problems.push('JWT_SECRET is not set: set it to a random string of at least 16 characters.');
  }
  for (const cidr of e.TRUSTED_PROXIES ?? []) {
    if (!isAddressOrCidr(cidr)) {
      problems.push(`TRUSTED_PROXIES: "${cidr}" is not an address or CIDR network (like 10.0.0.0/8).`);
    }
  }
  if (demo && !e.DEMO_ALLOW_REMOTE && !isLoopbackHost(e.HOST)) {
    problems.push(
      `HOST ${e.HOST} is not a loopback address and this is the demo mode (no WhatsApp credentials, demo logins): set HOST=127.0.0.1, or DEMO_ALLOW_REMOTE=1 to expose the demo anyway.`,
    );
  }
  const agentsFile = path.resolve(e.AGENTS_FILE ?? path.join(PROJECT_ROOT, 'config', 'agents.demo.json'));
  if (!existsSync(agentsFile)) {
    problems.push(`AGENTS_FILE ${agentsFile} does not exist: point AGENTS_FILE at a JSON list of agents.`);
  }
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    metricsPort: e.METRICS_PORT,
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
    inspect: e.XSTATE_INSPECT,
    inspectPort: e.XSTATE_INSPECT_PORT,
    inspectHost: e.XSTATE_INSPECT_HOST,
    inspectToken: e.XSTATE_INSPECT_TOKEN ?? randomBytes(16).toString('hex'),
    consoleBuild: e.CONSOLE_BUILD === 'auto',
  };
}

function isAddressOrCidr(cidr: string): boolean {
  const [address = '', prefix] = cidr.split('/');
  const max = isIP(address) === 4 ? 32 : 128;
  return isIP(address) !== 0 && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max));
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { type HttpRole, startHttpRole } from '../src/roles/http.role.js';
import { startWorkerRole, type WorkerRole } from '../src/roles/worker.role.js';
import { type Core, createCore } from '../src/runtime.js';
import { type Config, DEMO } from '../src/shared/config.js';
import { createLogger, silentLogger } from '../src/shared/log.js';
import { type CallerFactory, WhatsAppSimulator } from '../src/sim/simulator.js';
import { cleanupPrefix, redisUrl, testConfig, testEnv, testPrefix, waitUntil } from './helpers.js';

export const BUSINESS = {
  phoneNumberId: DEMO.phoneNumberId,
  displayPhoneNumber: DEMO.displayPhoneNumber,
  wabaId: '200000000000002',
};

export function newSimulator(
  opts: { callerFactory?: CallerFactory; answerWindowMs?: number; mediaWatchdogMs?: number } = {},
) {
  return new WhatsAppSimulator({
    webhookUrl: 'http://127.0.0.1:9/unset',
    appSecret: DEMO.appSecret,
    accessToken: DEMO.accessToken,
    business: BUSINESS,
    callerFactory: opts.callerFactory,
    answerWindowMs: opts.answerWindowMs ?? 120_000,
    mediaWatchdogMs: opts.mediaWatchdogMs ?? 0,
    logger: process.env.TEST_LOG_LEVEL
      ? createLogger({ level: process.env.TEST_LOG_LEVEL, name: 'sim' })
      : silentLogger,
  });
}

export interface InProcessService {
  config: Config;
  core: Core;
  http: HttpRole;
  worker: WorkerRole | undefined;
  url: string;
  redis: Redis;
  stop(): Promise<void>;
}

/** http + worker roles in this process, on the test's Redis prefix, talking to `sim` for the Graph API. */
export async function startInProcess(
  prefix: string,
  sim: WhatsAppSimulator,
  env: Record<string, string> = {},
  opts: { worker?: boolean } = {},
): Promise<InProcessService> {
  const config = testConfig(prefix, { GRAPH_API_BASE_URL: sim.baseUrl, GRAPH_TIMEOUT_MS: '2000', ...env });
  const logger = process.env.TEST_LOG_LEVEL
    ? createLogger({ level: process.env.TEST_LOG_LEVEL, name: 'svc' })
    : silentLogger;
  const core = createCore(config, logger, config.redis.url ?? redisUrl());
  const worker = opts.worker === false ? undefined : await startWorkerRole(core);
  const http = await startHttpRole(core);
  sim.setWebhookUrl(`${http.url}/webhooks/whatsapp`);
  const redis = new Redis(redisUrl());
  return {
    config,
    core,
    http,
    worker,
    url: http.url,
    redis,
    async stop() {
      await http.stop();
      await worker?.stop();
      await core.close();
      redis.disconnect();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface ChildService {
  role: string;
  port: number;
  url: string;
  proc: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `src/main.ts <role>` as its own process (a replica), on a chosen port. */
export async function spawnRole(
  role: 'http' | 'worker' | 'media' | 'all',
  prefix: string,
  env: Record<string, string> = {},
): Promise<ChildService> {
  const port = role === 'http' || role === 'all' ? await freePort() : 0;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...testEnv(prefix, { PORT: String(port), LOG_LEVEL: 'info', ...env }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += String(d);
    if (process.env.TEST_CHILD_LOGS) process.stdout.write(`[${role}] ${d}`);
  });
  proc.stderr!.on('data', (d) => {
    out += String(d);
    if (process.env.TEST_CHILD_LOGS) process.stderr.write(`[${role}!] ${d}`);
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready =
    role === 'http' || role === 'all'
      ? /http role listening/
      : role === 'worker'
        ? /worker role running/
        : /media node ready/;
  await waitUntil(() => ready.test(out) || proc.exitCode !== null, { timeoutMs: 60_000, what: `${role} to start` });
  if (proc.exitCode !== null) throw new Error(`${role} exited during start (${proc.exitCode}):\n${out.slice(-2000)}`);
  return {
    role,
    port,
    url,
    proc,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export { cleanupPrefix, testPrefix };

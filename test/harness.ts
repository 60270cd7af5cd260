import { Redis } from 'ioredis';
import { freePort, type RoleProcess, spawnRoleProcess } from '../src/cluster/process.js';
import { createCallInspector } from '../src/machines/inspect.js';
import { type HttpRole, startHttpRole } from '../src/roles/http.role.js';
import { startWorkerRole, type WorkerRole } from '../src/roles/worker.role.js';
import { type Core, createCore } from '../src/runtime.js';
import { type Config, DEMO } from '../src/shared/config.js';
import { createLogger, silentLogger } from '../src/shared/log.js';
import { type CallerFactory, WhatsAppSimulator } from '../src/sim/simulator.js';
import { cleanupPrefix, redisUrl, testConfig, testEnv, testPrefix } from './helpers.js';

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
  const inspector = config.inspect
    ? await createCallInspector({
        port: config.inspectPort,
        host: config.inspectHost,
        token: config.inspectToken,
        showDtmf: config.showDtmf,
        startBridge: true,
        logger,
      })
    : undefined;
  const core = createCore(
    config,
    logger,
    config.redis.url ?? redisUrl(),
    inspector ? { onTransition: inspector.onTransition } : {},
  );
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
      inspector?.stop();
      redis.disconnect();
    },
  };
}

export type ChildService = RoleProcess;
export { freePort };

/** Runs `src/main.ts <role>` as its own process (a replica) on the test's prefix, and waits until it is ready. */
export function spawnRole(
  role: 'http' | 'worker' | 'media' | 'all',
  prefix: string,
  env: Record<string, string> = {},
): Promise<ChildService> {
  return spawnRoleProcess({
    role,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...testEnv(prefix, { LOG_LEVEL: 'info', ...env }),
    },
    ...(process.env.TEST_CHILD_LOGS ? { echo: (l: string) => process.stdout.write(`${l}\n`) } : {}),
  });
}

export { cleanupPrefix, testPrefix };

import { Redis } from 'ioredis';
import { type Cluster, startCluster } from '../src/cluster/cluster.js';
import { freePort, type RoleProcess, spawnRoleProcess } from '../src/cluster/process.js';
import { createCallInspector } from '../src/machines/inspect.js';
import { type HttpRole, startHttpRole } from '../src/roles/http.role.js';
import { startWorkerRole, type WorkerRole } from '../src/roles/worker.role.js';
import { type Core, createCore } from '../src/runtime.js';
import { type Config, DEMO } from '../src/shared/config.js';
import { createLogger, silentLogger } from '../src/shared/log.js';
import { createCallerFactory } from '../src/sim/caller-factory.js';
import { KeypadCaller } from '../src/sim/keypad-caller.js';
import { type CallerFactory, WhatsAppSimulator } from '../src/sim/simulator.js';
import { TestAgent } from '../src/testing/agent-harness.js';
import { EventsReceiver } from '../src/testing/events-receiver.js';
import { cleanupPrefix, loginToken, redisUrl, testConfig, testEnv, testPrefix, waitUntil } from './helpers.js';

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

/** The simulator, http + worker in this process and a media replica: the stack most integration tests call into. */
export interface TestStack {
  sim: WhatsAppSimulator;
  svc: InProcessService;
  media: ChildService;
  /** Stops the media replica (with `mediaSignal`), then the service, then the simulator. */
  stop(mediaSignal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the simulator, the service on `prefix` (`env`) and a media replica (`mediaEnv`). When a part fails to
 * start, the parts already up are stopped before the error is thrown.
 */
export async function startStack(
  prefix: string,
  opts: {
    sim?: Parameters<typeof newSimulator>[0];
    env?: Record<string, string>;
    mediaEnv?: Record<string, string>;
  } = {},
): Promise<TestStack> {
  const sim = newSimulator(opts.sim);
  let svc: InProcessService | undefined;
  try {
    await sim.start();
    svc = await startInProcess(prefix, sim, opts.env);
    const media = await spawnRole('media', prefix, opts.mediaEnv);
    const started = svc;
    return {
      sim,
      svc: started,
      media,
      async stop(mediaSignal) {
        await media.stop(mediaSignal);
        await started.stop();
        await sim.stop();
      },
    };
  } catch (err) {
    await svc?.stop();
    await sim.stop();
    throw err;
  }
}

export interface BossStack extends TestStack {
  /** The boss's token (supervisor API). */
  boss: string;
}

/**
 * startStack for a file whose agents sign in from agents.test.json (password 'pw'): `env` goes to the service and
 * the media replica alike, callers listen for the agents' 660 Hz; with the boss's token for the supervisor API.
 */
export async function startBossStack(prefix: string, env: Record<string, string>): Promise<BossStack> {
  const stack = await startStack(prefix, {
    sim: { callerFactory: createCallerFactory({ watchHz: [660] }) },
    env,
    mediaEnv: env,
  });
  try {
    return { ...stack, boss: await loginToken(stack.svc.url, 'boss', 'pw') };
  } catch (err) {
    await stack.stop('SIGKILL');
    throw err;
  }
}

/**
 * Role processes behind the balancer on `prefix`, talking to `sim` for the Graph API, whose webhook then points at
 * the balancer. `env` adds to (or overrides) what every cluster test sets.
 */
export async function startTestCluster(
  prefix: string,
  sim: WhatsAppSimulator,
  opts: { http: number; worker: number; media: number; redisUrl?: string; env?: Record<string, string> },
): Promise<Cluster> {
  const cluster = await startCluster({
    http: opts.http,
    worker: opts.worker,
    media: opts.media,
    sim: false,
    port: 0,
    redisUrl: opts.redisUrl ?? redisUrl(),
    env: {
      KEY_PREFIX: prefix,
      GRAPH_API_BASE_URL: sim.baseUrl,
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      MEDIA_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
      WRAP_UP_SECONDS: '0',
      WORKER_LOCK_MS: '3000',
      ...opts.env,
    },
    ...(process.env.TEST_CHILD_LOGS ? { echo: (l: string) => process.stdout.write(`${l}\n`) } : {}),
  });
  sim.setWebhookUrl(`${cluster.url}/webhooks/whatsapp`);
  return cluster;
}

/**
 * The stack with keypad callers (they press keys as RFC 4733 telephone-events) and a forward-engine media node, both
 * roles on `env` (the service also on `svcEnv`); resolves once the media node takes calls.
 */
export async function startKeypadStack(
  prefix: string,
  opts: { env: Record<string, string>; svcEnv?: Record<string, string> },
): Promise<TestStack> {
  const stack = await startStack(prefix, {
    sim: { callerFactory: () => KeypadCaller.create() },
    env: { ...opts.env, ...opts.svcEnv },
    mediaEnv: { ...opts.env, MEDIA_ENGINE: 'forward' },
  });
  try {
    await waitUntil(async () => (await stack.svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** {@link startStack} with agents alice and bob connected, sam's supervisor token and a call-events receiver. */
export interface AgentsStack extends TestStack {
  alice: TestAgent;
  bob: TestAgent;
  /** sam's (supervisor) bearer token. */
  sam: string;
  receiver: EventsReceiver;
  /** Closes the agents, stops the stack and the receiver, and removes the prefix's keys. */
  stop(): Promise<void>;
}

/** Starts an {@link AgentsStack} on a fresh prefix; call events go to its receiver, signed with `eventsSecret`. */
export async function startAgentsStack(opts: {
  sim: Parameters<typeof newSimulator>[0];
  env: Record<string, string>;
  mediaEnv: Record<string, string>;
  eventsSecret: string;
}): Promise<AgentsStack> {
  const prefix = testPrefix();
  const receiver = await new EventsReceiver(opts.eventsSecret).start();
  const agents: TestAgent[] = [];
  let stack: TestStack | undefined;
  const stop = async () => {
    for (const a of agents) a.close();
    await stack?.stop();
    await receiver.stop();
    await cleanupPrefix(prefix);
  };
  try {
    stack = await startStack(prefix, {
      sim: opts.sim,
      env: { EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: opts.eventsSecret, ...opts.env },
      mediaEnv: opts.mediaEnv,
    });
    const { url } = stack.svc;
    for (const id of ['alice', 'bob']) agents.push(await TestAgent.connect(url, id));
    const sam = await loginToken(url, 'sam', 'demo');
    return { ...stack, alice: agents[0]!, bob: agents[1]!, sam, receiver, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A drill's cluster ({@link startTestCluster}) with its simulator, boss's supervisor token and the agents it connects. */
export interface DrillCluster {
  prefix: string;
  sim: WhatsAppSimulator;
  cluster: Cluster;
  /** boss's (supervisor) bearer token. */
  boss: string;
  /** Connects agent `id` (password `pw`) through the balancer; it is closed on {@link stop}. */
  agent(id: string): Promise<TestAgent>;
  /** The agents connected so far. */
  agents: readonly TestAgent[];
  /** Closes the agents, stops the cluster and the simulator, and removes the prefix's keys. */
  stop(): Promise<void>;
}

/** Starts the simulator (`sim`) and role processes behind the balancer on a fresh prefix. */
export async function startDrillCluster(opts: {
  sim: Parameters<typeof newSimulator>[0];
  http: number;
  worker: number;
  media: number;
  env: Record<string, string>;
}): Promise<DrillCluster> {
  const prefix = testPrefix();
  const sim = newSimulator(opts.sim);
  const agents: TestAgent[] = [];
  let cluster: Cluster | undefined;
  const stop = async () => {
    for (const a of agents) a.close();
    await cluster?.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  };
  try {
    await sim.start();
    cluster = await startTestCluster(prefix, sim, opts);
    const url = cluster.url;
    const boss = await loginToken(url, 'boss', 'pw');
    const agent = async (id: string) => {
      const a = await TestAgent.connect(url, id, { password: 'pw' });
      agents.push(a);
      return a;
    };
    return { prefix, sim, cluster, boss, agent, agents, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

import { DEMO, loadConfig } from '../shared/config.js';
import { type EmbeddedRedis, resolveRedis } from '../shared/embedded-redis.js';
import { errorMessage } from '../shared/errors.js';
import { createLogger, type Logger, silentLogger } from '../shared/log.js';
import { TcpBalancer } from './balancer.js';
import { type RoleProcess, spawnRoleProcess } from './process.js';

export interface ClusterOptions {
  http?: number;
  worker?: number;
  media?: number;
  /** The balancer's port (agents and Meta use it). @default PORT or 3000; 0 picks a free one */
  port?: number;
  /** Extra environment for every process (KEY_PREFIX, WHATSAPP_*, …). */
  env?: Record<string, string | undefined>;
  /** Run the WhatsApp simulator as its own process (demo mode, tests). @default true when no WhatsApp credentials */
  sim?: boolean;
  redisUrl?: string;
  echo?: (line: string) => void;
  logger?: Logger;
  /**
   * Start a process again when it dies (not when the cluster stops it), after a backoff that doubles from 1 s to
   * 30 s and resets once a process has stayed up a minute. Tests that kill processes on purpose leave it off.
   * @default false
   */
  restart?: boolean;
}

export interface Cluster {
  url: string;
  redisUrl: string;
  http: RoleProcess[];
  worker: RoleProcess[];
  media: RoleProcess[];
  sim: RoleProcess | undefined;
  balancer: TcpBalancer;
  /** Starts one more process of a role (e.g. to replace a killed one). */
  add(role: 'http' | 'worker' | 'media'): Promise<RoleProcess>;
  stop(): Promise<void>;
}

/**
 * The multi-process topology on loopback, for machines without Docker: N http replicas behind a TCP balancer,
 * N workers, N media nodes, Redis (the embedded default when none is given) and, in demo mode, the simulator.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const logger = opts.logger ?? silentLogger;
  const baseEnv: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    CONSOLE_BUILD: 'never',
    ...opts.env,
  };

  const config = loadConfig({ ...baseEnv, REDIS_URL: opts.redisUrl ?? baseEnv.REDIS_URL });
  let embedded: EmbeddedRedis | undefined;
  const redis = await resolveRedis(
    { url: opts.redisUrl ?? config.redis.url, defaultUrl: config.redis.defaultUrl },
    logger,
  );
  embedded = redis.embedded;
  const procs: RoleProcess[] = [];
  const balancer = new TcpBalancer([], logger);
  try {
    const useSim = opts.sim ?? config.demo;
    const env: Record<string, string | undefined> = { ...baseEnv, REDIS_URL: redis.url };
    const port = await balancer.listen(opts.port ?? config.port);
    const url = `http://127.0.0.1:${port}`;
    let sim: RoleProcess | undefined;
    if (useSim) {
      sim = await spawnRoleProcess({
        role: 'sim',
        env: {
          ...env,
          WHATSAPP_APP_SECRET: env.WHATSAPP_APP_SECRET ?? DEMO.appSecret,
          WHATSAPP_ACCESS_TOKEN: env.WHATSAPP_ACCESS_TOKEN ?? DEMO.accessToken,
        },
        args: ['--webhook', `${url}/webhooks/whatsapp`],
        echo: opts.echo,
      });
      procs.push(sim);
      env.GRAPH_API_BASE_URL = sim.url;
    }
    const counters = { http: 0, worker: 0, media: 0 };
    let stopping = false;
    const backoffMs = new Map<string, number>();
    /** Watches a child: when it dies on its own, report it and (with `restart`) start a replacement after a backoff. */
    const watch = (role: 'http' | 'worker' | 'media', p: RoleProcess) => {
      const startedAt = Date.now();
      p.proc.once('exit', (code, signal) => {
        if (stopping) return;
        if (!opts.restart) {
          logger.error({ name: p.name, code, signal }, 'a cluster process died');
          opts.echo?.(`[cluster] ${p.name} exited (${code ?? signal})`);
          return;
        }
        const list = cluster[role];
        list.splice(list.indexOf(p), 1);
        if (role === 'http') balancer.removeBackend({ host: '127.0.0.1', port: p.port });
        const prev = Date.now() - startedAt > 60_000 ? 0 : (backoffMs.get(role) ?? 0);
        const wait = Math.min(prev ? prev * 2 : 1000, 30_000);
        backoffMs.set(role, wait);
        logger.error({ name: p.name, code, signal, restartInMs: wait }, 'a cluster process died; restarting it');
        opts.echo?.(`[cluster] ${p.name} exited (${code ?? signal}); restarting ${role} in ${wait} ms`);
        setTimeout(() => {
          if (stopping) return;
          cluster.add(role).catch((err) => logger.error({ role, err: (err as Error).message }, 'restart failed'));
        }, wait).unref();
      });
    };
    const cluster: Cluster = {
      url,
      redisUrl: redis.url,
      http: [],
      worker: [],
      media: [],
      sim,
      balancer,
      async add(role) {
        const n = ++counters[role];
        const p = await spawnRoleProcess({
          role,
          name: `${role}${n}`,
          env: {
            ...env,
            ...(role === 'media'
              ? {
                  MEDIA_NODE_ID: env.MEDIA_NODE_ID
                    ? `${env.MEDIA_NODE_ID}-${n}`
                    : `media${n}-${Date.now().toString(36)}`,
                }
              : {}),
          },
          echo: opts.echo,
        });
        procs.push(p);
        cluster[role].push(p);
        if (role === 'http') balancer.addBackend({ host: '127.0.0.1', port: p.port });
        watch(role, p);
        return p;
      },
      async stop() {
        stopping = true;
        await Promise.all([...cluster.media].map((p) => p.stop('SIGTERM', 10_000)));
        await Promise.all([...cluster.http, ...cluster.worker].map((p) => p.stop('SIGTERM', 10_000)));
        await sim?.stop('SIGTERM', 5000);
        await balancer.close();
        await embedded?.stop();
      },
    };
    await Promise.all([
      ...Array.from({ length: opts.media ?? 2 }, () => cluster.add('media')),
      ...Array.from({ length: opts.worker ?? 2 }, () => cluster.add('worker')),
      ...Array.from({ length: opts.http ?? 2 }, () => cluster.add('http')),
    ]);
    return cluster;
  } catch (err) {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await balancer.close();
    await embedded?.stop();
    embedded = undefined;
    throw err;
  }
}

async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', name: 'cluster' });
  const n = (name: string, d: number) => {
    const v = process.argv.indexOf(`--${name}`);
    return v > -1 ? Number(process.argv[v + 1]) : d;
  };
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      http: n('http', 2),
      worker: n('worker', 2),
      media: n('media', 2),
      // Everything the caller set (KEY_PREFIX, REDIS_URL, JWT_SECRET, WHATSAPP_*, …) reaches every process.
      env: { ...process.env },
      redisUrl: process.env.REDIS_URL || undefined,
      restart: true,
      echo: (line) => process.stdout.write(`${line}\n`),
      logger,
    });
  } catch (err) {
    console.error(errorMessage(err));
    process.exit(1);
  }
  process.stdout.write(
    [
      '',
      `  Cluster up: ${cluster.http.length} http, ${cluster.worker.length} worker, ${cluster.media.length} media processes; Redis ${cluster.redisUrl}`,
      `  Agent console and webhooks (balanced): ${cluster.url}/`,
      cluster.sim ? `  Simulator: ${cluster.sim.url} — place a call: npm run sim -- call --sim ${cluster.sim.url}` : '',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1]?.endsWith('cluster.ts')) void main();

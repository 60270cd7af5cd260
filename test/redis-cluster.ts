import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { redisAnswers } from '../src/shared/embedded-redis.js';
import { freePort } from './harness.js';
import { waitUntil } from './helpers.js';

export interface TestRedisCluster {
  url: string;
  ports: number[];
  client(): Cluster;
  stop(): Promise<void>;
}

/** A 3-master Redis Cluster from `redis-server` on loopback ports, in a temporary directory. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wacc-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = ports.map((p) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${p}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const p of ports) await waitUntil(() => redisAnswers(`redis://127.0.0.1:${p}`), { what: `redis ${p}` });
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const p of ports) {
      await waitUntil(
        () =>
          /cluster_state:ok/.test(
            spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
          ),
        { what: `cluster state ok on ${p}`, timeoutMs: 20_000 },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','),
    ports,
    client: () => new Cluster(ports.map((p) => ({ host: '127.0.0.1', port: p }))),
    stop,
  };
}

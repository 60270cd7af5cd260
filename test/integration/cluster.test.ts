/**
 * `npm run cluster` dropped the caller's environment (KEY_PREFIX, REDIS_URL, JWT_SECRET, the WhatsApp variables):
 * its processes signed tokens with the demo secret on the default prefix. A child that died stayed dead, unreported.
 * And in demo mode each http replica now draws a random secret, so replicas must share it through Redis.
 */
import { execFileSync, spawn } from 'node:child_process';
import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/cluster/process.js';
import { spawnRole } from '../harness.js';
import { cleanupPrefix, loginToken, redisUrl, testPrefix, waitUntil } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('npm run cluster and demo secrets', () => {
  let prefix: string | undefined;
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    if (prefix) await cleanupPrefix(prefix);
  });

  it("passes the caller's environment to every process and restarts a child that dies, with a backoff", async () => {
    prefix = testPrefix();
    const port = await freePort();
    const secret = 'caller-chosen-secret-0123456789';
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cluster/cluster.ts', '--http', '1', '--worker', '1', '--media', '0'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KEY_PREFIX: prefix,
          REDIS_URL: redisUrl(),
          JWT_SECRET: secret,
          PORT: String(port),
          AGENTS_FILE: 'test/fixtures/agents.test.json',
          CONSOLE_BUILD: 'never',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    proc.stdout!.on('data', (d) => (out += String(d)));
    proc.stderr!.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    stops.push(async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    });
    await waitUntil(() => out.includes('Cluster up'), { what: 'the cluster to start', timeoutMs: 90_000 });
    const url = `http://127.0.0.1:${port}`;
    // A token signed with the caller's JWT_SECRET is accepted: the http process got it.
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'boss', name: 'B', role: 'supervisor', iat: now, exp: now + 600 }, secret, 'HS256');
    expect((await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(await loginToken(url, 'a1', 'pw')).toBeTruthy(); // AGENTS_FILE reached it too
    // And the caller's KEY_PREFIX: the agents were seeded under it.
    const { Redis } = await import('ioredis');
    const r = new Redis(redisUrl());
    try {
      expect(await r.hexists(`${prefix}:{${prefix}-agents}:records`, 'a1')).toBe(1);
    } finally {
      r.disconnect();
    }
    // Kill the worker: the cluster says so and starts another after its backoff.
    const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(proc.pid)], { encoding: 'utf8' });
    const pid = Number(/^\s*(\d+) .*src\/main\.ts worker/m.exec(children)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => /worker1 exited \(SIGKILL\); restarting worker in 1000 ms/.test(out), {
      what: 'the death reported',
      timeoutMs: 10_000,
    });
    await waitUntil(() => /\[worker2\][^\n]*worker role running/.test(out), {
      what: 'a new worker',
      timeoutMs: 60_000,
    });
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);

  it('demo http replicas without JWT_SECRET share one random secret: a token from one works on the other', async () => {
    prefix = testPrefix();
    const env = {
      JWT_SECRET: '',
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      GRAPH_API_BASE_URL: 'http://127.0.0.1:9',
    };
    const [a, b] = await Promise.all([spawnRole('http', prefix, env), spawnRole('http', prefix, env)]);
    stops.push(
      () => a.stop('SIGKILL'),
      () => b.stop('SIGKILL'),
    );
    const token = await loginToken(a.url, 'a1', 'pw');
    expect((await fetch(`${b.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Not a secret anyone can read in the repository: a token signed with the old demo one is refused.
    const now = Math.floor(Date.now() / 1000);
    const forged = await sign(
      { sub: 'boss', name: 'B', role: 'supervisor', iat: now, exp: now + 600 },
      'demo-jwt-secret-change-me-0123456789',
      'HS256',
    );
    expect((await fetch(`${b.url}/api/me`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  });
});

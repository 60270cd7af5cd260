/**
 * `npm start` on a machine with no Redis running: the process starts its own `redis-server` (from PATH, free port,
 * temp dir) and stops it on exit; with no `redis-server` at all it says in one line how to install it.
 * The local address it probes is REDIS_DEFAULT_URL (127.0.0.1:6379 normally); the test points it at a port nothing
 * listens on, since this machine runs a Redis on 6379.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisAnswers } from '../../src/shared/embedded-redis.js';
import { freePort } from '../harness.js';
import { waitUntil } from '../helpers.js';

function start(env: Record<string, string>) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', HOST: '127.0.0.1', CONSOLE_BUILD: 'never', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += String(d)));
  proc.stderr.on('data', (d) => (out += String(d)));
  // 'close', not 'exit': it comes once the child's stdout and stderr are read to the end, so output() is whole.
  const exit = new Promise<number | null>((r) => proc.once('close', (c) => r(c)));
  return { proc, exit, output: () => out };
}

describe('the embedded Redis default', () => {
  it('starts a local redis-server when none answers, serves, and stops it on SIGTERM', async () => {
    const [port, deadRedis] = await Promise.all([freePort(), freePort()]);
    expect(await redisAnswers(`redis://127.0.0.1:${deadRedis}`)).toBe(false);
    const svc = start({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PORT: String(port),
      REDIS_DEFAULT_URL: `redis://127.0.0.1:${deadRedis}`,
      KEY_PREFIX: `emb${port}`,
    });
    try {
      await waitUntil(() => /http role listening/.test(svc.output()), {
        timeoutMs: 60_000,
        what: 'the service to listen',
      });
      const url =
        /started a local redis-server[^\n]*"url":"(redis:\/\/[^"]+)"|"url":"(redis:\/\/[^"]+)"[^\n]*started a local redis-server/.exec(
          svc.output(),
        );
      const redisUrl = url?.[1] ?? url?.[2];
      expect(redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(await redisAnswers(redisUrl!)).toBe(true);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.redis).toBe('ok');
      expect(svc.output()).toMatch(/Agent console: {2}http:\/\/127\.0\.0\.1:\d+\//);
      svc.proc.kill('SIGTERM');
      expect(await svc.exit).toBe(0);
      // The redis-server it started is gone with it.
      await waitUntil(async () => !(await redisAnswers(redisUrl!)), {
        timeoutMs: 10_000,
        what: 'redis-server to stop',
      });
    } finally {
      if (svc.proc.exitCode === null) svc.proc.kill('SIGKILL');
    }
  });

  it('says in one line how to install Redis when there is no redis-server on PATH', async () => {
    const [port, deadRedis] = await Promise.all([freePort(), freePort()]);
    const emptyPath = mkdtempSync(path.join(os.tmpdir(), 'no-redis-'));
    const svc = start({ PATH: emptyPath, PORT: String(port), REDIS_DEFAULT_URL: `redis://127.0.0.1:${deadRedis}` });
    expect(await svc.exit).toBe(1);
    // One line says it (stdout and stderr interleave, so not necessarily the last one read).
    const said = svc
      .output()
      .split('\n')
      .filter((l) => l.includes('redis-server is not on PATH'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /redis-server is not on PATH: install it \(Debian\/Ubuntu: sudo apt-get install -y redis-server/,
    );
  });

  it('a bad configuration stops the start with a line naming the variable to set', async () => {
    const svc = start({ PATH: process.env.PATH ?? '', PORT: 'eighty', CALL_ANSWER_DEADLINE_SECONDS: '2' });
    expect(await svc.exit).toBe(1);
    expect(svc.output()).toMatch(/PORT: .*"eighty"/);
    expect(svc.output()).toMatch(/CALL_ANSWER_DEADLINE_SECONDS: .*"2"/);
    const partial = start({ PATH: process.env.PATH ?? '', WHATSAPP_APP_SECRET: 'x' });
    expect(await partial.exit).toBe(1);
    expect(partial.output()).toMatch(/Missing WHATSAPP_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID/);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';

const REDIS_INSTALL_HINT =
  'Redis is not running and redis-server is not on PATH: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL to a running Redis.';

/** Answers whether a Redis at `url` replies to PING within `timeoutMs` (raw RESP, no client library). */
export function redisAnswers(url: string, timeoutMs = 700): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(/^\+PONG|^-NOAUTH/.test(d.toString())));
  });
}

function findOnPath(bin: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` on a free loopback port in a temporary directory (nothing persisted).
 * Throws a {@link ConfigError} carrying the install hint when there is no `redis-server` on PATH.
 */
async function startEmbeddedRedis(logger: Logger, opts: { timeoutMs?: number } = {}): Promise<EmbeddedRedis> {
  const bin = findOnPath('redis-server');
  if (!bin) throw new ConfigError(REDIS_INSTALL_HINT);
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wacc-redis-'));
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (!(await redisAnswers(url, 300))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new ConfigError(`redis-server (${bin}) did not start on port ${port}: ${stderr.trim().slice(0, 300)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  logger.info({ url, dir }, 'started a local redis-server (nothing is persisted)');
  // Never leave an orphan: if this process dies without a clean stop, take the child along.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', onExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Redis to use: `REDIS_URL` when set; else the local default if it answers; else a local `redis-server` started
 * for this process (stopped on exit); else a one-line error saying how to install Redis.
 */
export async function resolveRedis(
  cfg: { url: string | undefined; defaultUrl: string },
  logger: Logger,
): Promise<{ url: string; embedded?: EmbeddedRedis }> {
  if (cfg.url) return { url: cfg.url };
  if (await redisAnswers(cfg.defaultUrl)) return { url: cfg.defaultUrl };
  logger.info({ tried: cfg.defaultUrl }, 'no Redis answers at the default address; starting one');
  const embedded = await startEmbeddedRedis(logger);
  return { url: embedded.url, embedded };
}

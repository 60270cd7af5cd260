import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './util.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const LOG_DIR = path.join(RESULTS_DIR, 'logs');

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  logFile: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  exited(): boolean;
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<Child>();

/** Every child still running: killed on exit, on SIGINT/SIGTERM and on an uncaught error, whatever happens. */
function killAllNow(): void {
  for (const c of live) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

let guarded = false;
export function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n[bench] ${sig}: stopping ${live.size} child process(es)\n`);
      killAllNow();
      process.exit(130);
    });
  }
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

/**
 * Spawns `node --import tsx <args>` with its output in bench/results/logs/<name>.log (the file, not a pipe: no
 * parent CPU per log line). Resolves once `ready` matches the output; throws (and kills it) if it exits first.
 */
export async function spawnNode(
  name: string,
  args: string[],
  opts: { env: Record<string, string>; ready?: RegExp; readyTimeoutMs?: number; ipc?: boolean; nodeArgs?: string[] },
): Promise<Child> {
  guardChildren();
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: opts.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  const exitedP = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const output = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    logFile,
    output,
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
    async stop(timeoutMs = 15_000) {
      if (child.exited()) {
        live.delete(child);
        return;
      }
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exitedP;
      clearTimeout(t);
      live.delete(child);
    },
  };
  live.add(child);
  proc.once('exit', () => live.delete(child));
  if (opts.ready) {
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (opts.ready.test(output())) break;
      if (child.exited()) throw new Error(`${name} exited during start (${proc.exitCode}):\n${output().slice(-2000)}`);
      if (Date.now() > deadline) {
        await child.stop(2000);
        throw new Error(`${name} did not start within ${opts.readyTimeoutMs ?? 60_000} ms:\n${output().slice(-2000)}`);
      }
      await sleep(50);
    }
  }
  return child;
}

/** Stops children in parallel; never throws. */
export async function stopAll(children: readonly (Child | undefined)[]): Promise<void> {
  await Promise.allSettled(children.filter((c): c is Child => c !== undefined).map((c) => c.stop()));
}

/** Every child this run still has (for a last sweep in `finally`). */
export async function stopEverything(): Promise<void> {
  await stopAll([...live]);
}

export interface RoleChild extends Child {
  role: string;
  url: string;
  port: number;
}

/** The environment a service process runs with in the bench: like test/helpers.ts testEnv(), on our prefix. */
export function serviceEnv(
  redisUrl: string,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    MEDIA_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    CONSOLE_BUILD: 'never',
    ...extra,
  };
}

/** Runs `src/main.ts <role>` as its own process (a replica), like test/harness.ts spawnRole(). */
export async function spawnRole(
  role: 'http' | 'worker' | 'media',
  name: string,
  redisUrl: string,
  prefix: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<RoleChild> {
  const port = role === 'http' ? await freePort() : 0;
  const ready =
    role === 'http' ? /http role listening/ : role === 'worker' ? /worker role running/ : /media node ready/;
  // BENCH_CPU_PROF=http,media (roles, or "all") writes a V8 CPU profile per process to bench/results/profiles/.
  const prof = (process.env.BENCH_CPU_PROF ?? '').split(',');
  const profArgs =
    prof.includes(role) || prof.includes('all')
      ? ['--cpu-prof', `--cpu-prof-dir=${path.join(RESULTS_DIR, 'profiles', name)}`]
      : [];
  // BENCH_SERVICE_ROOT=/other/checkout benchmarks that checkout's service with this bench (A/B of a patch).
  const root = process.env.BENCH_SERVICE_ROOT ?? ROOT;
  const child = await spawnNode(name, [path.join(root, 'src', 'main.ts'), role], {
    env: serviceEnv(redisUrl, prefix, { PORT: String(port), ...env }),
    ready,
    nodeArgs: [...profArgs, ...nodeArgs],
  });
  return { ...child, role, port, url: `http://127.0.0.1:${port}` };
}

/** Runs a bench script in its own process and returns the JSON it prints last on stdout (one line). */
export async function runScript<T>(
  name: string,
  script: string,
  config: unknown,
  opts: { timeoutMs: number; env?: Record<string, string> },
): Promise<T> {
  const child = await spawnNode(name, [script], {
    env: { BENCH_CONFIG: JSON.stringify(config), ...(opts.env ?? {}) },
  });
  const deadline = Date.now() + opts.timeoutMs;
  while (!child.exited()) {
    if (Date.now() > deadline) {
      await child.stop(2000);
      throw new Error(`${name} did not finish within ${opts.timeoutMs} ms:\n${child.output().slice(-2000)}`);
    }
    await sleep(50);
  }
  await child.stop();
  const out = child.output();
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"result":'));
  if (!line) throw new Error(`${name} printed no result (exit ${child.proc.exitCode}):\n${out.slice(-2000)}`);
  return (JSON.parse(line) as { result: T }).result;
}

/** Prints the result line runScript() reads. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${JSON.stringify({ result })}\n`);
}

export function scriptConfig<T>(): T {
  const raw = process.env.BENCH_CONFIG;
  if (!raw) throw new Error('BENCH_CONFIG is not set: this script is started by bench/run.ts');
  return JSON.parse(raw) as T;
}

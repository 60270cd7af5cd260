import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../shared/config.fields.js';
import { freePort } from '../shared/embedded-redis.js';

export { freePort };

export type ProcessRole = 'http' | 'worker' | 'media' | 'all' | 'sim';

export interface RoleProcess {
  role: ProcessRole;
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const READY: Record<ProcessRole, RegExp> = {
  http: /http role listening/,
  all: /http role listening/,
  worker: /worker role running/,
  media: /media node ready/,
  sim: /WhatsApp simulator: Graph API at/,
};

/**
 * Runs one role of this codebase as its own process (`src/main.ts <role>`, or the simulator) and waits until it
 * says it is ready. Used by `npm run cluster`, the tests and the benchmarks.
 */
export async function spawnRoleProcess(opts: {
  role: ProcessRole;
  name?: string;
  env: Record<string, string | undefined>;
  port?: number;
  args?: string[];
  echo?: (line: string) => void;
  readyTimeoutMs?: number;
}): Promise<RoleProcess> {
  const { role } = opts;
  const needsPort = role === 'http' || role === 'all' || role === 'sim';
  const port = opts.port ?? (needsPort ? await freePort() : 0);
  const script =
    role === 'sim' ? ['src/sim/cli.ts', 'serve', '--port', String(port), ...(opts.args ?? [])] : ['src/main.ts', role];
  const proc = spawn(process.execPath, ['--import', 'tsx', ...script], {
    cwd: PROJECT_ROOT,
    env: { ...opts.env, PORT: String(port) } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const name = opts.name ?? role;
  let out = '';
  const onData = (d: Buffer) => {
    const text = String(d);
    out += text;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    if (opts.echo) for (const line of text.split('\n')) if (line) opts.echo(`[${name}] ${line}`);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!READY[role].test(out)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${name} exited while starting (${proc.exitCode ?? proc.signalCode}):\n${out.slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} did not become ready:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    role,
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime + stime of a process in ms (all its threads), from /proc/<pid>/stat; null once it is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
export function processRssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuWindow {
  /** Wall time of the window, ms. */
  wallMs: number;
  /** Per pid: CPU used in the window as % of one core. */
  byPid: Record<string, number>;
  /** The whole machine: % of all cores busy. */
  machineBusyPct: number;
}

/**
 * Measures CPU over a window for some processes (by name → pid) and for the machine. start() then stop();
 * values are % of ONE core (100 % = one core saturated; 200 % = both cores of this box).
 */
export class CpuMeter {
  readonly #pids: Map<string, number>;
  #start = new Map<string, number>();
  #startAt = 0;
  #machine = { busy: 0, total: 0 };

  constructor(pids: Record<string, number | undefined>) {
    this.#pids = new Map(Object.entries(pids).filter((e): e is [string, number] => e[1] !== undefined));
  }

  start(): this {
    this.#startAt = performance.now();
    this.#machine = machineTicks();
    for (const [name, pid] of this.#pids) this.#start.set(name, processCpuMs(pid) ?? 0);
    return this;
  }

  stop(): CpuWindow {
    const wallMs = performance.now() - this.#startAt;
    const byPid: Record<string, number> = {};
    for (const [name, pid] of this.#pids) {
      const now = processCpuMs(pid);
      byPid[name] = now === null ? Number.NaN : ((now - (this.#start.get(name) ?? 0)) / wallMs) * 100;
    }
    const m = machineTicks();
    const total = m.total - this.#machine.total;
    return {
      wallMs,
      byPid,
      machineBusyPct: total > 0 ? ((m.busy - this.#machine.busy) / total) * 100 : Number.NaN,
    };
  }
}

export function machineInfo(): { cpus: number; model: string; node: string; memGiB: number; kernel: string } {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }));
    if (m?.[1]) model = m[1].trim();
  } catch {
    // lscpu missing: keep os.cpus()
  }
  return {
    cpus: os.cpus().length,
    model,
    node: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
}

/**
 * Share of the machine (all cores, %) used by processes other than ours in a window: busy − ours / cores.
 * `oursPct` is the sum of our processes' CPU in % of one core.
 */
export function otherShare(window: CpuWindow, oursPct: number): number {
  const cores = os.cpus().length;
  return Math.max(0, window.machineBusyPct - oursPct / cores);
}

/**
 * Waits until the machine is quiet — other work below `thresholdPct` of all cores over a 1 s window — or until
 * `maxWaitMs` has passed. Other people's builds and tests share this box; measuring while they run would say more
 * about them than about us. Returns the last busy % seen and how long it waited.
 */
export async function waitQuiet(
  ours: Record<string, number | undefined>,
  maxWaitMs: number,
  thresholdPct = 15,
): Promise<{ busyPct: number; waitedMs: number }> {
  const started = performance.now();
  for (;;) {
    const m = new CpuMeter(ours).start();
    await new Promise((r) => setTimeout(r, 1000));
    const w = m.stop();
    const oursPct = Object.values(w.byPid).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const busy = otherShare(w, oursPct);
    const waited = performance.now() - started;
    if (busy < thresholdPct || waited >= maxWaitMs) return { busyPct: busy, waitedMs: waited };
  }
}

/** Other work above this share of the machine during a window marks the figure as disturbed. */
export const NOISY_PCT = 20;

/** waitQuiet() with a budget for the whole run, so that a busy machine delays the run by a bounded amount. */
export class QuietGate {
  readonly waits: { what: string; busyPct: number; waitedMs: number }[] = [];
  readonly reruns: string[] = [];
  #budgetMs: number;
  #reruns: number;

  constructor(
    budgetMs: number,
    readonly perWaitMs: number,
    reruns = 0,
  ) {
    this.#budgetMs = budgetMs;
    this.#reruns = reruns;
  }

  /** A measurement disturbed by other work (more than NOISY_PCT of the machine) may run again, a few times a run. */
  rerun(what: string, otherPct: number): boolean {
    if (!(otherPct > NOISY_PCT) || this.#reruns <= 0) return false;
    this.#reruns--;
    this.reruns.push(`${what} (others ${Math.round(otherPct)} %)`);
    return true;
  }

  async wait(what: string, ours: Record<string, number | undefined>): Promise<number> {
    const r = await waitQuiet(ours, Math.min(this.perWaitMs, this.#budgetMs));
    this.#budgetMs = Math.max(0, this.#budgetMs - r.waitedMs);
    this.waits.push({ what, busyPct: r.busyPct, waitedMs: Math.round(r.waitedMs) });
    return r.busyPct;
  }
}

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deletePrefix } from '../../src/shared/keys.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Redis key prefix nobody else uses: every key a bench run writes starts with it and is deleted afterwards. */
export function benchPrefix(tag: string): string {
  return `bench${tag}${randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

/** Deletes every key under a prefix: its own keys, its BullMQ queues and its Socket.IO channels. */
export async function cleanupPrefix(redisUrl: string, prefix: string): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  try {
    return await deletePrefix(r, prefix);
  } finally {
    r.disconnect();
  }
}

/** Sum of MEMORY USAGE over every key matching `pattern` (SCAN), and how many keys that was. */
export async function memoryOf(redis: Redis, pattern: string): Promise<{ bytes: number; keys: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      const used = (await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) as number | null;
      bytes += used ?? 0;
      keys++;
    }
  } while (cursor !== '0');
  return { bytes, keys };
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? Number.NaN,
    mean,
  };
}

export function round(v: number, digits = 0): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** A duration or size made readable for the table. */
export function fmt(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

/** Runs `fn`, and on failure returns the error instead of throwing, so that one section cannot sink the run. */
export async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`\n[bench] ${what} failed: ${message}\n`);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export function isError(v: unknown): v is { error: string } {
  return typeof v === 'object' && v !== null && 'error' in v && typeof (v as { error: unknown }).error === 'string';
}

/** Progress lines go to stderr, so stdout carries the table alone. */
export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

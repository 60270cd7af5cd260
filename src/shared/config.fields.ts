import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * What every area of the configuration reads with: zod readers for environment strings, and the project root for
 * defaults that point at shipped files. @see config.ts
 */

/** Project root (two levels above this file), used for defaults that point at shipped files. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list, blanks dropped; `clean` rewrites each entry first. */
export const csv = (clean: (s: string) => string = (s) => s.trim()) =>
  z.string().transform((v) => v.split(',').map(clean).filter(Boolean));

/**
 * The problems found after parsing, one line each naming the variable and what to set; loadConfig reports them all
 * at once.
 */
export type Problems = string[];

/** Both of two variables or neither (a pair like a port range or a key and its secret). */
export function bothOrNeither(problems: Problems, a: [string, unknown], b: [string, unknown]): void {
  if ((a[1] === undefined) !== (b[1] === undefined)) problems.push(`Set both ${a[0]} and ${b[0]}, or neither.`);
}

/**
 * `npm run sim -- call --from 'abc<script>'` exited 0 while the service dropped the webhook as malformed: the CLI
 * now refuses what the service would refuse, before sending anything.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCallOptions, checkServerOptions } from './cli-options.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('sim CLI input', () => {
  it('a caller number must be digits only; a name 1 to 200 characters', () => {
    expect(checkCallOptions({ from: '919800012345', name: 'Priya' })).toEqual([]);
    expect(checkCallOptions({ from: 'abc<script>' })[0]).toMatch(/--from .*digits only/);
    expect(checkCallOptions({ from: '+919800012345' })).toHaveLength(1);
    expect(checkCallOptions({ from: '1'.repeat(21) })).toHaveLength(1);
    expect(checkCallOptions({ name: 'x'.repeat(201) })[0]).toMatch(/--name/);
  });

  it('ports and URLs are checked too', () => {
    expect(checkServerOptions({ port: '3001', sim: 'http://127.0.0.1:3001', webhook: 'https://x.test/w' })).toEqual([]);
    expect(checkServerOptions({ port: '99999' })[0]).toMatch(/--port/);
    expect(checkServerOptions({ sim: 'javascript:alert(1)' })[0]).toMatch(/--sim/);
  });

  it("npm run sim -- call --from 'abc<script>' exits 2 with the reason, sending nothing", () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/sim/cli.ts', 'call', '--from', 'abc<script>', '--sim', 'http://127.0.0.1:9'],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--from must be the caller's number in digits only/);
    // It never tried the (unreachable) simulator.
    expect(r.stderr).not.toMatch(/no simulator answers/);
  });
});

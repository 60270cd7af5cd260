/** A bad routing file stops `npm start` (any role) with one line per problem, naming it; nothing starts. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testEnv, testPrefix } from '../helpers.js';

function start(routing: string): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routing-check-'));
  const file = path.join(dir, 'routing.json');
  writeFileSync(file, routing);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...testEnv(testPrefix(), {
        ROUTING_FILE: file,
        AGENTS_FILE: 'test/fixtures/agents.test.json',
        // A demo worker on its own refuses to start without a simulator to call (never Meta with the demo token).
        GRAPH_API_BASE_URL: 'http://127.0.0.1:9',
      }),
    },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    proc.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

const options = (o: string) =>
  `{"default": {"answer": "business", "ivr": {"options": {${o}}}, "queue": {"maxWaitSeconds": 60, "music": "music"}, "greeting": "greeting"}}`;

describe('routing file checks at start', () => {
  it('an unknown team, a missing prompt and a key mapped twice each stop the start with a line naming the problem', async () => {
    const unknownTeam = await start(
      options(`"1": {"teams": ["billing"]}`).replace('"greeting": "greeting"', '"greeting": "/nowhere/hello.opus"'),
    );
    expect(unknownTeam.code).toBe(1);
    expect(unknownTeam.stderr).toContain('ROUTING_FILE: default.ivr.options.1.teams: unknown team "billing"');
    expect(unknownTeam.stderr).toContain(
      'ROUTING_FILE: default.greeting: clip "/nowhere/hello.opus": no such file /nowhere/hello.opus',
    );

    const twice = await start(options(`"1": {"teams": ["sales"]}, "1": {"teams": ["support"]}`));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('ROUTING_FILE: default.ivr.options.1 is given twice');
  });

  it('a bad metaCapture value stops the start with a line naming it', async () => {
    const bad = await start(
      '{"numbers": {"123": {"metaCapture": {"recording": "yes", "transcription": false, "purpose": "qa", "language": "en_US"}}}}',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ROUTING_FILE: numbers.123.metaCapture.recording:');
  });
});

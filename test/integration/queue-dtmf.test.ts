/**
 * A caller presses a key with RFC 4733 telephone-events (as WhatsApp sends them) during the menu: the forward
 * media node reads it from the WhatsApp leg, the call keeps the choice and waits in that team's queue.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeypadCaller } from '../../src/sim/keypad-caller.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type InProcessService, startKeypadStack, type TestStack } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, testPrefix, waitForCallState, waitUntil } from '../helpers.js';

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
  let output = '';
  proc.stdout.on('data', (d) => {
    output += String(d);
  });
  proc.stderr.on('data', (d) => {
    output += String(d);
  });
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, output })));
}

describe('IVR key press (RFC 4733) on the forward engine', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let boss: string;

  beforeAll(async () => {
    prefix = testPrefix();
    stack = await startKeypadStack(prefix, {
      env: { AGENTS_FILE: 'test/fixtures/agents.test.json', ROUTING_FILE: 'test/fixtures/routing.ivr.json' },
      // SHOW_DTMF: the keys are what this test checks (the call view masks them by default).
      svcEnv: { SHOW_DTMF: '1' },
    });
    ({ sim, svc } = stack);
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  it.each([
    ['1', ['sales'], 'the caller'],
    ['2', ['support'], 'npm run sim -- keys'],
  ])(
    'pressing %s during the menu puts the call in the queue of %j, with the choice in its timeline (via %s)',
    async (key, teams, via) => {
      const { call } = await sim.placeCall({ name: 'Keypad' });
      await call.waitFor('accepted', 15_000);
      const caller = call.caller as KeypadCaller;
      await waitUntil(() => caller.connected, { what: 'the caller leg' });
      expect((await fetchCall(svc.url, boss, call.callId)).state).toBe('ivr');
      if (via === 'the caller') await caller.sendDtmf(key);
      else {
        // The simulator's CLI, as a user would run it against a running simulator.
        const out = await runCli(['keys', call.callId, key, '--sim', sim.baseUrl]);
        expect(out.code, out.output).toBe(0);
        expect(out.output).toContain('"ok":true');
      }
      const d = await waitForCallState(svc.url, boss, call.callId, 'queued');
      expect(d.ivrChoice).toBe(key);
      expect(d.queueTeams).toEqual(teams);
      expect(d.dtmf).toBe(key);
      expect(d.timeline.some((t) => t.event === 'MEDIA.DTMF' && t.detail === `digit=${key}` && t.to === 'queued')).toBe(
        true,
      );
      await sim.hangup(call.callId);
      await call.waitFor('ended', 10_000);
      const ended = await waitForCallState(svc.url, boss, call.callId, 'ended');
      expect(ended.reason).toBe('abandoned');
      // Nothing went to Meta after the caller hung up.
      expect(sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept']);
    },
  );
});

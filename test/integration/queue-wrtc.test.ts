/**
 * `answer: "business"` needs the forward engine (players, the routing table). A media node on the `wrtc` engine
 * says at start which features it lacks, and a business-answered call placed on it ends with a reason naming the
 * missing part, Meta told once, instead of leaving the caller in silence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type InProcessService, startStack, type TestStack } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitForCallState, waitUntil } from '../helpers.js';

describe('business answer on the wrtc engine', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let boss: string;

  beforeAll(async () => {
    prefix = testPrefix();
    const env = { AGENTS_FILE: 'test/fixtures/agents.test.json', ROUTING_FILE: 'test/fixtures/routing.queue.json' };
    stack = await startStack(prefix, {
      sim: { callerFactory: createCallerFactory({}), mediaWatchdogMs: 0 },
      env,
      mediaEnv: { ...env, MEDIA_ENGINE: 'wrtc', LOG_LEVEL: 'info' },
    });
    ({ sim, svc } = stack);
    await waitUntil(async () => (await svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  it('the node names what it lacks at start, and the call ends with that reason', async () => {
    expect(stack.media.output()).toMatch(/calls that need [^)]*player[^)]* will be ended with that reason/);
    const { call } = await sim.placeCall({ name: 'On wrtc' });
    await call.waitFor('ended', 20_000);
    const d = await waitForCallState(svc.url, boss, call.callId, 'ended');
    expect(d.reason).toBe('media-failed');
    const failed = d.timeline.find((t) => t.event === 'MEDIA.FAILED');
    expect(failed?.detail, 'the reason in the timeline').toMatch(/the wrtc media engine cannot .*set MEDIA_ENGINE/);
    // Meta heard one way out of the call, and no second one.
    const ended = sim.actionsFor(call.callId).filter((a) => a.action === 'reject' || a.action === 'terminate');
    expect(ended).toHaveLength(1);
  });
});

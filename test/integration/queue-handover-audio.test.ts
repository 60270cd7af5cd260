/**
 * From the queue to the agent, measured at both ends with numbered markers: once the agent's leg is connected and
 * the routing table switches the caller from the player to the agent, nothing the agent says is clipped and nothing
 * the caller says is lost; Meta saw one pre_accept and one accept, before any agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { reportBothWays } from '../../src/audio/audio-peer.js';
import { nowMs } from '../../src/rtc/clock.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type InProcessService, startStack, type TestStack } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

describe('queue → agent hand-over audio', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let agent: TestAgent | undefined;
  let boss: string;

  beforeAll(async () => {
    prefix = testPrefix();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      ROUTING_FILE: 'test/fixtures/routing.queue.json',
      WRAP_UP_SECONDS: '0',
    };
    stack = await startStack(prefix, {
      sim: { callerFactory: createCallerFactory({ markers: true, watchHz: [660] }), mediaWatchdogMs: 0 },
      env,
      mediaEnv: { ...env, MEDIA_ENGINE: 'forward' },
    });
    ({ sim, svc } = stack);
    await waitUntil(async () => (await svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterAll(async () => {
    agent?.close();
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  it('after the switch from the player, every marker arrives both ways and no second accept went to Meta', async () => {
    const { call } = await sim.placeCall({ name: 'Waiting' });
    await call.waitFor('accepted', 10_000);
    // The caller waits a moment with the music before an agent comes online.
    await new Promise((r) => setTimeout(r, 1500));
    agent = await TestAgent.connect(svc.url, 'a1', { password: 'pw' });
    await agent.offered(call.callId, 10_000);
    expect((await agent.client.accept(call.callId)).ok).toBe(true);
    const peer = await agent.startMedia(call.callId, { markers: true, watchHz: [440] });
    await waitUntil(() => agent!.live.includes(call.callId), { what: 'call:live', timeoutMs: 15_000 });
    const res = await fetch(`${svc.url}/api/calls/${encodeURIComponent(call.callId)}`, {
      headers: { authorization: `Bearer ${boss}` },
    });
    const d = (await res.json()) as CallDetail;
    await new Promise((r) => setTimeout(r, 2500));
    const until = nowMs();
    await drainAnalysis();
    // From the moment the agent's leg was connected (the switch), both directions whole.
    const { atAgent, atCaller } = reportBothWays(call.caller as CallerPeer, peer, { since: d.liveAt!, until });
    expect(atCaller.markers?.missing).toEqual([]);
    expect(atAgent.markers?.missing).toEqual([]);
    expect(atCaller.markers?.expected).toBeGreaterThanOrEqual(10);
    expect(atAgent.markers?.expected).toBeGreaterThanOrEqual(10);
    expect(sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual(['pre_accept:200', 'accept:200']);
    await agent.client.hangup(call.callId);
    await call.waitFor('ended', 10_000);
  });
});

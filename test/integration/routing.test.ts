/** Routing policies end to end: ring-one rotation, skipping agents who go offline, tiers. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type InProcessService, newSimulator, startInProcess } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, META_OFFER, testPrefix, waitUntil } from '../helpers.js';

describe('ring-one rotation (ring timeout 3 s)', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  const agents: TestAgent[] = [];
  let boss: string;

  const connectInOrder = async (ids: string[]) => {
    // Connected one after another, so the first is the longest idle.
    for (const id of ids) {
      agents.push(await TestAgent.connect(svc.url, id, { password: 'pw' }));
      await new Promise((r) => setTimeout(r, 30));
    }
    return agents.slice(-ids.length);
  };
  const detail = async (id: string) => fetchCall(svc.url, boss, id);

  beforeEach(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      ROUTING_FILE: 'test/fixtures/routing.ring-one.json',
      CALL_ANSWER_DEADLINE_SECONDS: '30',
    });
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) a.close();
    await svc.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  });

  it('offers the longest-idle agent first, then the next when each lets it ring out, until the third', async () => {
    const [a1, a2, a3] = await connectInOrder(['a1', 'a2', 'a3']);
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await a1!.offered(call.callId, 5000);
    expect(a2!.offers).toHaveLength(0);
    expect(a3!.offers).toHaveLength(0);
    await a2!.offered(call.callId, 6000);
    expect(a1!.withdrawn).toContainEqual({ callId: call.callId, reason: 'expired' });
    await a3!.offered(call.callId, 6000);
    expect(a2!.withdrawn).toContainEqual({ callId: call.callId, reason: 'expired' });
    const d = await detail(call.callId);
    expect(d.offer?.agentIds).toEqual(['a3']);
    expect(d.offer?.policy).toBe('ring-one');
    // The rotation is in the timeline, with the policy's reasons.
    const offers = d.timeline.filter((t) => t.event === 'ROUTING.OFFER').map((t) => t.detail ?? '');
    expect(offers).toHaveLength(3);
    expect(offers[0]).toMatch(/agentIds=a1 .*note=ring-one tier team: longest idle/);
    expect(offers[2]).toMatch(/agentIds=a3/);
  });

  it('an agent who goes offline mid-offer is skipped at once', async () => {
    const [a1, a2] = await connectInOrder(['a1', 'a2']);
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await a1!.offered(call.callId, 5000);
    const closedAt = Date.now();
    a1!.close();
    await a2!.offered(call.callId, 2500);
    // Well inside the 3 s ring timeout: it was the disconnect, not the timer.
    expect(Date.now() - closedAt).toBeLessThan(2500);
    const d = await detail(call.callId);
    expect(d.timeline.some((t) => t.event === 'AGENT.UNAVAILABLE' && t.detail?.includes('agentId=a1'))).toBe(true);
  });

  it('a decline moves a ring-one offer to the next agent and is never offered back to the decliner', async () => {
    const [a1, a2] = await connectInOrder(['a1', 'a2']);
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await a1!.offered(call.callId, 5000);
    expect((await a1!.client.decline(call.callId)).ok).toBe(true);
    await a2!.offered(call.callId, 2000);
    // a2 lets it ring out: a new round skips a1 (declined) and rings a2 again.
    await waitUntil(() => a2!.offers.filter((o) => o.callId === call.callId).length >= 2, {
      timeoutMs: 6000,
      what: 'second offer to a2',
    });
    expect(a1!.offers.filter((o) => o.callId === call.callId)).toHaveLength(1);
  });

  it("the team tier comes before anyone: an agent outside the number's teams is not rung while team agents are free", async () => {
    // a5 is in sales, not support: only after the support agents (tier team) would "anyone" reach them.
    const [a5] = await connectInOrder(['a5']);
    const [a1] = await connectInOrder(['a1']);
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await a1!.offered(call.callId, 5000);
    expect(a5!.offers).toHaveLength(0);
    const d = await detail(call.callId);
    expect(d.offer?.tier).toBe('team');
  });
});

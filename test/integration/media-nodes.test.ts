/**
 * Media nodes as separate processes, on each media engine: placement across nodes, a node killed mid-call, a node
 * drained on SIGTERM, a broken browser offer, and the supervisors' list of nodes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, META_OFFER, takeLiveCall, testPrefix, waitUntil } from '../helpers.js';

describe.each(['forward', 'wrtc'] as const)('media nodes on the %s engine', (engine) => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let nodes: ChildService[];
  let boss: string;
  const agents: TestAgent[] = [];

  const detail = async (id: string) => fetchCall(svc.url, boss, id);
  const agent = async (id: string) => {
    const a = await TestAgent.connect(svc.url, id, { password: 'pw' });
    agents.push(a);
    return a;
  };
  /** A call with real audio, accepted by `a`, live. */
  const liveCall = async (a: TestAgent) => {
    const { call } = await sim.placeCall({ name: 'Caller' });
    const peer = await takeLiveCall(a, call);

    return { call, peer, caller: call.caller as CallerPeer };
  };

  beforeEach(async () => {
    prefix = testPrefix();
    sim = newSimulator({ callerFactory: createCallerFactory({ watchHz: [660] }) });
    await sim.start();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      WRAP_UP_SECONDS: '0',
      ROUTING_POLICY: 'ring-one',
      MEDIA_ENGINE: engine,
    };
    svc = await startInProcess(prefix, sim, env);
    nodes = await Promise.all([
      spawnRole('media', prefix, { ...env, MEDIA_NODE_ID: 'm1', MEDIA_DRAIN_TIMEOUT_SECONDS: '60' }),
      spawnRole('media', prefix, { ...env, MEDIA_NODE_ID: 'm2', MEDIA_DRAIN_TIMEOUT_SECONDS: '60' }),
    ]);
    boss = await loginToken(svc.url, 'boss', 'pw');
  }, 120_000);
  afterEach(async () => {
    for (const a of agents.splice(0)) a.close();
    // Teardown only: the drain behaviour is what one test checks, the others need not wait for it.
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await svc.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  });

  it('GET /api/media-nodes lists both nodes with their engine, capacity, load and draining flag', async () => {
    const res = await fetch(`${svc.url}/api/media-nodes`, { headers: { authorization: `Bearer ${boss}` } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as {
      id: string;
      engine: string;
      capacity: number;
      load: number;
      draining: boolean;
    }[];
    const ours = list.filter((n) => n.id === 'm1' || n.id === 'm2').sort((a, b) => a.id.localeCompare(b.id));
    expect(ours).toEqual([
      { id: 'm1', engine, capacity: expect.any(Number), load: 0, draining: false },
      { id: 'm2', engine, capacity: expect.any(Number), load: 0, draining: false },
    ]);
    const agentToken = await loginToken(svc.url, 'a1', 'pw');
    const refused = await fetch(`${svc.url}/api/media-nodes`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(refused.status).toBe(403);
  });

  it('spreads 10 calls across both nodes', async () => {
    const ten = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10'].map(agent));
    const placed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { call } = await sim.placeCall({ sdp: META_OFFER });
      // ring-one: exactly one agent rings; whoever it is accepts.
      const ringing = await waitUntil(() => ten.find((x) => x.offers.some((o) => o.callId === call.callId)), {
        what: 'an offer',
      });
      expect((await ringing.client.accept(call.callId)).ok).toBe(true);
      placed.push((await detail(call.callId)).mediaNodeId!);
    }
    const m1 = placed.filter((n) => n === 'm1').length;
    const m2 = placed.filter((n) => n === 'm2').length;
    expect(m1 + m2).toBe(10);
    expect(Math.min(m1, m2)).toBeGreaterThanOrEqual(4);
  });

  it('a media node killed mid-call ends only its calls, media-failed, with terminate at Meta, within 10 s', async () => {
    // ring-one offers to the longest idle agent: a2 signs in once a1 is busy, so each call's agent is known.
    const a1 = await agent('a1');
    const first = await liveCall(a1);
    const a2 = await agent('a2');
    const second = await liveCall(a2);
    const n1 = (await detail(first.call.callId)).mediaNodeId!;
    const n2 = (await detail(second.call.callId)).mediaNodeId!;
    expect(n1).not.toBe(n2);
    const victim = nodes[n1 === 'm1' ? 0 : 1]!;
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    await waitUntil(async () => (await detail(first.call.callId)).state === 'ended', {
      timeoutMs: 10_000,
      what: 'the call on the lost node to end',
    });
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const d = await detail(first.call.callId);
    expect(d.reason).toBe('media-failed');
    expect(d.detail).toMatch(/lost/);
    await first.call.waitFor('ended', 5000);
    expect(sim.okActions(first.call.callId, 'terminate')).toBe(1);
    await waitUntil(() => a1.ended.some((e) => e.callId === first.call.callId && e.reason === 'media-failed'), {
      what: 'agent told',
    });
    // The other node's call goes on, audio flowing.
    expect((await detail(second.call.callId)).state).toBe('live');
    const before = second.caller.report().inbound.framesReceived;
    await new Promise((r) => setTimeout(r, 1000));
    expect(second.caller.report().inbound.framesReceived).toBeGreaterThan(before + 50);
    expect(Math.abs((second.peer.report().inbound.dominantHz ?? 0) - 440)).toBeLessThan(25);
  });

  it('SIGTERM drains a node: no new calls land on it, its live call finishes, then it exits', async () => {
    const a1 = await agent('a1');
    const first = await liveCall(a1);
    const a2 = await agent('a2'); // signs in once a1 is busy (ring-one would otherwise pick either)
    const onNode = (await detail(first.call.callId)).mediaNodeId!;
    const draining = nodes[onNode === 'm1' ? 0 : 1]!;
    const exited = new Promise<number | null>((r) => draining.proc.once('exit', (c) => r(c)));
    draining.proc.kill('SIGTERM');
    await waitUntil(() => draining.output().includes('draining'), { what: 'drain started' });
    const second = await liveCall(a2);
    expect((await detail(second.call.callId)).mediaNodeId).not.toBe(onNode);
    // The draining node's call is still up.
    expect((await detail(first.call.callId)).state).toBe('live');
    expect(draining.proc.exitCode).toBeNull();
    await a1.client.hangup(first.call.callId);
    expect(await exited).toBe(0);
    expect((await detail(first.call.callId)).reason).toBe('completed');
  });

  it("a broken offer from the agent's browser fails the call cleanly with a reason; the node carries on", async () => {
    const a1 = await agent('a1');
    const { call } = await sim.placeCall({ name: 'Caller' });
    await a1.offered(call.callId);
    expect((await a1.client.accept(call.callId)).ok).toBe(true);
    const broken = META_OFFER.replace(/a=fingerprint:.*\r\n/, '');
    expect((await a1.client.sendOffer(call.callId, broken)).ok).toBe(true); // relayed; the media node judges it
    await waitUntil(async () => (await detail(call.callId)).state === 'ended', { what: 'call to end' });
    const d = await detail(call.callId);
    expect(d.reason).toBe('media-failed');
    // Agents' offers go by leg id (`agent:<id>`), so the reason names the leg.
    expect(d.detail).toMatch(/offer of browser leg agent:a1 is unusable/);
    await call.waitFor('ended', 10_000);
    await waitUntil(() => a1.ended.some((e) => e.callId === call.callId), { what: 'agent told' });
    // Both nodes are alive and the next call works end to end.
    expect(nodes.every((n) => n.proc.exitCode === null)).toBe(true);
    const next = await liveCall(a1);
    expect((await detail(next.call.callId)).state).toBe('live');
  });
});

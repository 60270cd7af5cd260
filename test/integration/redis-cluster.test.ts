/**
 * The whole service unchanged on a 3-master Redis Cluster: every multi-key operation stays inside one hash slot
 * (calls and agents carry `{id}` hash tags, BullMQ queues a `{prefix-bull}` tag). A full call with audio, a
 * duplicate webhook and an accept race run on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type BossStack, type InProcessService, startBossStack } from '../harness.js';
import { fetchCall, testPrefix, waitUntil } from '../helpers.js';
import { startRedisCluster, type TestRedisCluster } from '../redis-cluster.js';

describe('on a 3-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: BossStack;
  const agents: TestAgent[] = [];
  let boss: string;

  const detail = async (id: string) => fetchCall(svc.url, boss, id);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const prefix = testPrefix();
    const env = {
      REDIS_URL: cluster.url,
      REDIS_CLUSTER: '1',
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      WRAP_UP_SECONDS: '0',
    };
    stack = await startBossStack(prefix, env);
    ({ sim, svc, boss } = stack);
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) a.close();
    await stack?.stop('SIGKILL');
    await cluster?.stop();
  });

  it('keys of one call or one agent share a slot, and the cluster really spreads calls over masters', async () => {
    const c = cluster.client();
    try {
      const slots = await Promise.all(
        ['wacc:call:{wacid.A}', 'wacc:call:{wacid.A}:outbox', 'wacc:call:{wacid.A}:timeline'].map((k) =>
          c.cluster('KEYSLOT', k),
        ),
      );
      expect(new Set(slots).size).toBe(1);
      const spread = new Set(
        await Promise.all(['wacid.A', 'wacid.B', 'wacid.C', 'wacid.D'].map((id) => c.cluster('KEYSLOT', `{${id}}`))),
      );
      expect(spread.size).toBeGreaterThan(1);
    } finally {
      c.disconnect();
    }
  });

  it('runs a whole call with audio, first-accept-wins and a duplicate webhook', async () => {
    const [a1, a2, a3] = await Promise.all(
      ['a1', 'a2', 'a3'].map((id) => TestAgent.connect(svc.url, id, { password: 'pw' })),
    );
    agents.push(a1!, a2!, a3!);
    const { call } = await sim.placeCall({ name: 'Cluster Caller' });
    expect((await sim.sendConnect(call.callId)).status).toBe(200); // Meta delivers it twice
    await Promise.all(agents.map((a) => a.offered(call.callId)));
    const acks = await Promise.all(agents.map((a) => a.client.accept(call.callId)));
    expect(acks.filter((a) => a.ok)).toHaveLength(1);
    const winner = agents[acks.findIndex((a) => a.ok)]!;
    const peer = await winner.startMedia(call.callId, { watchHz: [440] });
    await call.waitFor('accepted', 20_000);
    await waitUntil(() => winner.live.includes(call.callId), { what: 'live' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(Math.abs((peer.report().inbound.dominantHz ?? 0) - 440)).toBeLessThan(25);
    expect(Math.abs(((call.caller as CallerPeer).report().inbound.dominantHz ?? 0) - 660)).toBeLessThan(25);
    await winner.client.hangup(call.callId);
    await call.waitFor('ended', 10_000);
    const d = await waitUntil(
      async () => {
        const x = await detail(call.callId);
        return x.state === 'ended' ? x : undefined;
      },
      { what: 'ended' },
    );
    expect(d.reason).toBe('completed');
    expect(d.timeline.filter((t) => t.event === 'WA.CONNECT')).toHaveLength(1);
    expect(sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
      'pre_accept:200',
      'accept:200',
      'terminate:200',
    ]);
  });
});

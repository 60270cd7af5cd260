/**
 * What the supervisor's floor shows. "Waiting now" and "On calls now" both counted a ringing call (the second was
 * every call in progress); and a presence lease that runs out when a socket vanishes without a disconnect (its
 * http process died) had no test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRow, CallDetail, TodayStats } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type BossStack, type InProcessService, spawnRole, startBossStack } from '../harness.js';
import { cleanupPrefix, META_OFFER, testPrefix, waitUntil } from '../helpers.js';

describe('the supervisor floor', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: BossStack;
  let boss: string;
  const agents: TestAgent[] = [];
  const env = { AGENTS_FILE: 'test/fixtures/agents.test.json', WRAP_UP_SECONDS: '0', PRESENCE_LEASE_SECONDS: '5' };

  const get = async <T>(path: string) =>
    (await (await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${boss}` } })).json()) as T;
  const presenceOf = async (id: string) =>
    (await get<{ agents: AgentRow[] }>('/api/agents')).agents.find((a) => a.id === id)!;

  beforeAll(async () => {
    prefix = testPrefix();
    stack = await startBossStack(prefix, env);
    ({ sim, svc, boss } = stack);
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) a.close();
    await stack?.stop('SIGKILL');
    await cleanupPrefix(prefix);
  });

  it('"Waiting now" counts the ringing call and "On calls now" the live one, each once', async () => {
    const a1 = await TestAgent.connect(svc.url, 'a1', { password: 'pw' });
    agents.push(a1);
    const { call: live } = await sim.placeCall({ name: 'Live' });
    await a1.offered(live.callId, 15_000);
    expect((await a1.client.accept(live.callId)).ok).toBe(true);
    await a1.startMedia(live.callId, { watchHz: [440] });
    await waitUntil(() => a1.live.includes(live.callId), { what: 'call:live', timeoutMs: 20_000 });
    // a1 is busy and nobody else is online: the next call rings with nobody to take it.
    const { call: waiting } = await sim.placeCall({ sdp: META_OFFER, name: 'Waiting' });
    const stats = await waitUntil(
      async () => {
        const s = await get<TodayStats>('/api/stats/today');
        return s.activeNow === 2 ? s : undefined;
      },
      { what: 'both calls in progress' },
    );
    expect(stats.waitingNow).toBe(1);
    expect(stats.onCallsNow).toBe(1);
    await a1.client.hangup(live.callId);
    await sim.hangup(waiting.callId);
    const after = await waitUntil(
      async () => {
        const s = await get<TodayStats>('/api/stats/today');
        return s.activeNow === 0 ? s : undefined;
      },
      { what: 'both calls over' },
    );
    expect(after.waitingNow).toBe(0);
    expect(after.onCallsNow).toBe(0);
  });

  it('an agent whose socket vanished without a disconnect (their http process died) goes offline when the lease runs out', async () => {
    const replica = await spawnRole('http', prefix, env);
    try {
      const a5 = await TestAgent.connect(replica.url, 'a5', { password: 'pw' });
      agents.push(a5);
      await waitUntil(async () => (await presenceOf('a5')).presence === 'online', { what: 'a5 online' });
      replica.proc.kill('SIGKILL');
      // No disconnect ran: the lease still says online for now …
      expect((await presenceOf('a5')).presence).toBe('online');
      // … until it runs out (PRESENCE_LEASE_SECONDS=5) and the maintenance sweep takes the agent offline.
      await waitUntil(
        async () =>
          (await presenceOf('a5')).presence === 'offline' &&
          (await svc.redis.zscore(svc.core.keys.agentsOnline, 'a5')) === null,
        { what: 'a5 offline after the lease, and out of the online index', timeoutMs: 20_000, intervalMs: 250 },
      );
      // And calls are no longer offered to them.
      const { call } = await sim.placeCall({ sdp: META_OFFER });
      await new Promise((r) => setTimeout(r, 1500));
      const d = await get<CallDetail>(`/api/calls/${encodeURIComponent(call.callId)}`);
      expect(d.state).not.toBe('ended');
      expect(d.offeredAgents).not.toContain('a5');
      await sim.hangup(call.callId);
    } finally {
      await replica.stop('SIGKILL');
    }
  });
});

/**
 * Supervisor queue figures from a scripted set of business-answered calls, delivered to the real call actors (real
 * Redis, real workers, the real API): service level, abandonment rate, average wait before abandoning and average
 * speed of answer from queue entry are computed by hand below and asserted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusinessFlow, CallInput } from '../../src/machines/call.types.js';
import type { QueuesView } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type InProcessService, newSimulator, startInProcess } from '../harness.js';
import { cleanupPrefix, loginToken, META_OFFER, testPrefix } from '../helpers.js';

const flow: BusinessFlow = {
  greeting: [],
  ivr: undefined,
  queue: {
    teams: ['support'],
    music: 'music',
    announceEveryMs: 600_000,
    maxWaitMs: 60_000,
    overflow: { action: 'hangup' },
    priority: 0,
  },
};

describe('queue figures from scripted calls', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;

  beforeEach(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      QUEUE_SERVICE_LEVEL_SECONDS: '20',
    });
  });
  afterEach(async () => {
    await svc.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  });

  it('service level, abandonment, wait before abandoning and speed of answer match the script', async () => {
    const d = svc.core.deliverer;
    // Long enough ago that every scripted moment is in the past, on today's date.
    const t0 = Math.max(Date.now() - 10 * 60_000, new Date(new Date().toISOString().slice(0, 10)).getTime() + 1000);
    const input = (callId: string, at: number): CallInput => ({
      callId,
      phoneNumberId: '100',
      businessNumber: '15550001111',
      caller: { waId: '919800012345', name: 'Scripted' },
      at,
      answerDeadlineMs: 45_000,
      ringTimeoutMs: 15_000,
      acceptDeadlineMs: 10_000,
      maxCallMs: 3_600_000,
      business: { flow, mediaNodeId: 'scripted-node' },
    });
    const answer = async (callId: string, at: number) => {
      await d.create(input(callId, at), META_OFFER);
      await d.deliver(callId, { type: 'MEDIA.WA_ANSWER', at: at + 50 });
      await d.deliver(callId, { type: 'GRAPH.DONE', action: 'pre_accept', at: at + 60 });
      await d.deliver(callId, { type: 'MEDIA.WA_CONNECTED', at: at + 70 });
      const out = await d.deliver(callId, { type: 'GRAPH.DONE', action: 'accept', at: at + 80 });
      expect(out.status === 'applied' && out.state).toBe('queued');
      return out.status === 'applied' ? out.context.routing.seq : -1;
    };
    const served = async (callId: string, at: number, waitMs: number, agentId: string) => {
      const seq = await answer(callId, at);
      const offerAt = at + waitMs - 500;
      const o = await d.deliver(callId, {
        type: 'ROUTING.OFFER',
        seq,
        agentIds: [agentId],
        policy: 'ring-one',
        tier: 'team',
        at: offerAt,
      });
      expect(o.status).toBe('applied');
      await d.deliver(callId, { type: 'AGENT.ACCEPT', agentId, mediaNodeId: 'scripted-node', at: offerAt + 100 });
      const live = await d.deliver(callId, { type: 'MEDIA.AGENT_CONNECTED', at: at + waitMs });
      expect(live.status === 'applied' && live.state).toBe('live');
      await d.deliver(callId, { type: 'AGENT.HANGUP', agentId, at: at + waitMs + 30_000 });
    };
    const abandoned = async (callId: string, at: number, waitMs: number) => {
      await answer(callId, at);
      const out = await d.deliver(callId, { type: 'WA.TERMINATE', status: 'COMPLETED', at: at + waitMs });
      expect(out.status === 'applied' && out.context.outcome.reason).toBe('abandoned');
    };

    await served('wacid.fig1', t0, 5_000, 'a1');
    await served('wacid.fig2', t0 + 1000, 15_000, 'a2');
    await served('wacid.fig3', t0 + 2000, 40_000, 'a3');
    await abandoned('wacid.fig4', t0 + 3000, 10_000); // a short abandon: not counted against the service level
    await abandoned('wacid.fig5', t0 + 4000, 30_000);
    // Waited maxWaitSeconds (60 s): goodbye, then terminate.
    await answer('wacid.fig6', t0 + 5000);
    const gone = await d.deliver('wacid.fig6', { type: 'TIMER.FIRED', timer: 'max-wait', token: '1', at: t0 + 65_000 });
    expect(gone.status).toBe('applied');
    const ended = await d.deliver('wacid.fig6', { type: 'MEDIA.PLAY_ENDED', playId: 'goodbye', at: t0 + 70_000 });
    expect(ended.status === 'applied' && ended.context.outcome.reason).toBe('queue-timeout');

    const boss = await loginToken(svc.url, 'boss', 'pw');
    const res = await fetch(`${svc.url}/api/queues`, { headers: { authorization: `Bearer ${boss}` } });
    expect(res.status).toBe(200);
    const view = (await res.json()) as QueuesView;
    // Answered within 20 s: fig1, fig2. Judged: the three answered, fig5 (30 s) and fig6 (60 s); fig4 left at 10 s.
    expect(view.figures).toEqual({
      calls: 6,
      answered: 3,
      abandoned: 2,
      serviceLevel: 2 / 5,
      serviceLevelSeconds: 20,
      abandonmentRate: 2 / 6,
      avgAbandonWaitMs: 20_000,
      avgSpeedOfAnswerMs: 20_000,
    });
    // Nobody is left waiting.
    expect(view.teams.find((t) => t.team === 'support')?.waiting).toEqual([]);
    // The call's own view carries its wait.
    const detail = await fetch(`${svc.url}/api/calls/wacid.fig5`, { headers: { authorization: `Bearer ${boss}` } });
    expect(await detail.json()).toMatchObject({ state: 'ended', reason: 'abandoned', waitMs: 30_000 });
  });
});

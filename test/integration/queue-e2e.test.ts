/**
 * Business answer end to end with real parts: simulated WhatsApp callers (wrtc peers that listen), a media node
 * in its own process on the forward engine, the http and worker roles, and Node agents with real media legs.
 * Twenty callers, two agents: every caller is answered by the business at once, waits with audio (never more than
 * a second of silence at the caller), is served in order of entry, reaches an agent (hears their tone), and no agent
 * is ever offered a second call while one rings or is on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import type { CallDetail } from '../../src/shared/protocol.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

const CALLERS = Number(process.env.QUEUE_E2E_CALLERS ?? 20);
const TALK_MS = 1200;
const MAX_WAIT_MS = 120_000;

/** Answers every offer like a quick agent: accept, open the leg, talk a little, hang up. Flags a double offer. */
function autoAnswer(agent: TestAgent, violations: string[], served: string[]): void {
  let busyWith: string | undefined;
  // Free again once the server says the call ended (or stopped ringing for this agent): that comes before any
  // new offer on the same socket.
  const free = (callId: string) => {
    if (busyWith === callId) busyWith = undefined;
  };
  agent.client.on('call:ended', (e) => free(e.callId));
  agent.client.on('call:withdrawn', (w) => free(w.callId));
  agent.client.on('call:offered', (o) => {
    if (busyWith !== undefined) violations.push(`${agent.id} offered ${o.callId} while on ${busyWith}`);
    busyWith = o.callId;
    void (async () => {
      try {
        const acked = await agent.client.accept(o.callId);
        if (!acked.ok) throw new Error(`accept refused: ${acked.error}`);
        await agent.startMedia(o.callId, { markers: false, watchHz: [440] });
        await waitUntil(() => agent.live.includes(o.callId), { what: `${o.callId} live`, timeoutMs: 20_000 });
        served.push(o.callId);
        await new Promise((r) => setTimeout(r, TALK_MS));
        await agent.client.hangup(o.callId);
      } catch (err) {
        violations.push(`${agent.id} on ${o.callId}: ${(err as Error).message}`);
      } finally {
        agent.peer?.close();
      }
    })();
  });
}

describe(`business answer: ${CALLERS} callers, 2 agents, forward engine`, () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let media: ChildService;
  const agents: TestAgent[] = [];
  let boss: string;

  beforeAll(async () => {
    prefix = testPrefix();
    sim = newSimulator({ callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 0 });
    await sim.start();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      ROUTING_FILE: 'test/fixtures/routing.queue.json',
      WRAP_UP_SECONDS: '0',
    };
    svc = await startInProcess(prefix, sim, env);
    media = await spawnRole('media', prefix, { ...env, MEDIA_ENGINE: 'forward', MEDIA_CAPACITY: '40' });
    await waitUntil(async () => (await svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterAll(async () => {
    for (const a of agents) a.close();
    await media?.stop();
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('answers at once, keeps every caller hearing audio, serves them in order of entry, never double-offers', async () => {
    const violations: string[] = [];
    const served: string[] = [];
    for (const id of ['a1', 'a2']) {
      const agent = await TestAgent.connect(svc.url, id, { password: 'pw' });
      autoAnswer(agent, violations, served);
      agents.push(agent);
    }
    const calls: SimCall[] = [];
    for (let i = 0; i < CALLERS; i++) {
      calls.push((await sim.placeCall({ name: `Caller ${i}` })).call);
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const c of calls) await c.waitFor('ended', CALLERS * 15_000);
    await drainAnalysis();
    expect(violations).toEqual([]);

    const details: CallDetail[] = [];
    for (const c of calls) {
      const res = await fetch(`${svc.url}/api/calls/${encodeURIComponent(c.callId)}`, {
        headers: { authorization: `Bearer ${boss}` },
      });
      details.push((await res.json()) as CallDetail);
    }
    for (const [i, c] of calls.entries()) {
      const d = details[i]!;
      // Answered by the business within 2 s of the connect webhook; Meta saw one pre_accept and one accept.
      expect(c.acceptedAt! - c.createdAt, c.callId).toBeLessThanOrEqual(2000);
      expect(sim.actionsFor(c.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
        'pre_accept:200',
        'accept:200',
        'terminate:200',
      ]);
      expect(d.reason, c.callId).toBe('completed');
      expect(d.waitMs!, c.callId).toBeLessThanOrEqual(MAX_WAIT_MS);
      // Waiting, the caller always heard something (greeting, music, announcements): never a second of silence.
      const caller = c.caller as CallerPeer;
      expect(caller.analyzer.longestSilenceMs(c.acceptedAt!, d.liveAt!), c.callId).toBeLessThanOrEqual(1000);
      // Then the agent (their 660 Hz tone), after the switch from the player.
      expect(caller.report().inbound.tones['660']?.firstSeenAt ?? 0, c.callId).toBeGreaterThanOrEqual(d.liveAt! - 100);
    }
    // Served in order of entry: every call was first offered after every call that entered before it.
    const byEntry = [...details].sort((a, b) => a.createdAt - b.createdAt);
    const offered = byEntry.map((d) => d.offeredAt!);
    expect(offered).toEqual([...offered].sort((a, b) => a - b));
    expect(served).toHaveLength(CALLERS);
  });
});

/**
 * Shutdown and drain. Two defects are pinned here:
 * - a media node's SIGTERM drain was cut off by a fixed 30 s hard stop in main.ts, and its live call ended
 *   `media-failed` although MEDIA_DRAIN_TIMEOUT_SECONDS allowed hours;
 * - SIGTERM on the all-in-one process with a live call stopped the workers before the media node ended the call,
 *   so the `terminate` job stayed queued (Meta never heard of the end) and was refused as stale at the next start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { shutdownDeadlineMs } from '../../src/roles/shutdown.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, newSimulator, spawnRole } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, testConfig, testPrefix, waitUntil } from '../helpers.js';

const ENV = {
  AGENTS_FILE: 'test/fixtures/agents.test.json',
  WRAP_UP_SECONDS: '0',
  ACCEPT_DEADLINE_SECONDS: '20',
};

describe('shutdown and drain', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  const procs: ChildService[] = [];
  const agents: TestAgent[] = [];

  const start = async () => {
    prefix = testPrefix();
    sim = newSimulator({ callerFactory: createCallerFactory({ watchHz: [660] }) });
    await sim.start();
  };
  const spawn = async (role: 'http' | 'worker' | 'media' | 'all', env: Record<string, string> = {}) => {
    const p = await spawnRole(role, prefix, { ...ENV, GRAPH_API_BASE_URL: sim.baseUrl, ...env });
    procs.push(p);
    return p;
  };
  const liveCall = async (url: string, agentId: string) => {
    const a = await TestAgent.connect(url, agentId, { password: 'pw' });
    agents.push(a);
    const { call } = await sim.placeCall({ name: 'Caller' });
    await a.offered(call.callId, 15_000);
    expect((await a.client.accept(call.callId)).ok).toBe(true);
    await a.startMedia(call.callId, { watchHz: [440] });
    await call.waitFor('accepted', 30_000);
    await waitUntil(() => a.live.includes(call.callId), { what: 'call:live', timeoutMs: 15_000 });
    return { a, call };
  };

  afterEach(async () => {
    for (const a of agents.splice(0)) a.close();
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
    await sim?.stop();
    if (prefix) await cleanupPrefix(prefix);
  });

  it('a media node gets MEDIA_DRAIN_TIMEOUT_SECONDS (plus a margin) to stop, other roles a short hard stop', () => {
    const cfg = (env: Record<string, string>) => testConfig('x', env);
    expect(shutdownDeadlineMs(cfg({ ROLE: 'media', MEDIA_DRAIN_TIMEOUT_SECONDS: '3600' }))).toBeGreaterThan(3600_000);
    expect(shutdownDeadlineMs(cfg({ ROLE: 'all', MEDIA_DRAIN_TIMEOUT_SECONDS: '3600' }))).toBeLessThanOrEqual(30_000);
    expect(shutdownDeadlineMs(cfg({ ROLE: 'http' }))).toBeLessThanOrEqual(30_000);
    expect(shutdownDeadlineMs(cfg({ ROLE: 'worker', GRAPH_API_BASE_URL: 'http://127.0.0.1:9' }))).toBeLessThanOrEqual(
      30_000,
    );
  });

  it('a draining media node keeps its live call past 30 s; hung up at 35 s it ends completed and the node exits 0', async () => {
    await start();
    const http = await spawn('http');
    sim.setWebhookUrl(`${http.url}/webhooks/whatsapp`);
    await spawn('worker');
    const media = await spawn('media', { MEDIA_NODE_ID: 'drain1', MEDIA_DRAIN_TIMEOUT_SECONDS: '40' });
    const boss = await loginToken(http.url, 'boss', 'pw');
    const { a, call } = await liveCall(http.url, 'a1');
    expect((await fetchCall(http.url, boss, call.callId)).mediaNodeId).toBe('drain1');

    const exited = new Promise<number | null>((r) => media.proc.once('exit', (c) => r(c)));
    media.proc.kill('SIGTERM');
    await waitUntil(() => media.output().includes('draining'), { what: 'drain started' });
    await new Promise((r) => setTimeout(r, 35_000));
    expect(media.proc.exitCode).toBeNull();
    expect((await fetchCall(http.url, boss, call.callId)).state).toBe('live');
    // Audio still flows both ways through the draining node.
    const before = a.peer!.report().inbound.framesReceived;
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.peer!.report().inbound.framesReceived).toBeGreaterThan(before + 25);

    expect((await a.client.hangup(call.callId)).ok).toBe(true);
    expect(await exited).toBe(0);
    const d = await fetchCall(http.url, boss, call.callId);
    expect(d.state).toBe('ended');
    expect(d.reason).toBe('completed');
    expect(media.output()).not.toMatch(/shutdown took too long/);
  }, 150_000);

  it('SIGTERM on the all-in-one process with a live call: Meta gets terminate and the agent call:ended before it exits', async () => {
    await start();
    const all = await spawn('all');
    sim.setWebhookUrl(`${all.url}/webhooks/whatsapp`);
    const { a, call } = await liveCall(all.url, 'a2');

    const code = await all.stop('SIGTERM', 40_000);
    expect(code).toBe(0);
    expect(sim.okActions(call.callId, 'terminate')).toBe(1);
    expect(a.ended.map((e) => e.callId)).toContain(call.callId);
    expect(all.output()).not.toMatch(/shutdown took too long|Graph API jobs still queued/);
  }, 120_000);
});

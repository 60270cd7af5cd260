/**
 * Business-initiated calls end to end: an agent dials with `call:dial`, the service checks the user's call
 * permission at the simulated Meta, a media node in its own process makes the WhatsApp offer, Graph `connect` goes
 * out, the simulated user answers (ICE-lite answer, RINGING, ACCEPTED) and speaks. Audio is checked by frequency
 * both ways; permission requests, limits and bad input are checked by what reached Meta.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { nowMs } from '../../src/rtc/clock.js';
import { DAY_MS } from '../../src/sim/permissions.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

const near = (hz: number | null | undefined, want: number) =>
  hz !== null && hz !== undefined && Math.abs(hz - want) <= 25;

const DO_NOT_CALL = '4915112345678';

describe.each(['forward', 'wrtc'] as const)('business-initiated calls on the %s engine', (engine) => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let media: ChildService;
  let alice: TestAgent;
  let bob: TestAgent;
  let supervisorToken: string;
  let n = 0;
  const user = () => `9198000${String(++n).padStart(5, '0')}`;

  const detail = async (id: string) => {
    const res = await fetch(`${svc.url}/api/calls/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${supervisorToken}` },
    });
    return (await res.json()) as { state: string; reason: string | null; errorCode?: number | null };
  };
  /** What reached the simulated Meta for business-initiated calling since `from`. */
  const metaSaw = (from: number) => sim.actions.slice(from).map((a) => `${a.action}:${a.status}`);

  beforeAll(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, { WRAP_UP_SECONDS: '0', OUTBOUND_DO_NOT_CALL: DO_NOT_CALL });
    media = await spawnRole('media', prefix, { MEDIA_ENGINE: engine });
    alice = await TestAgent.connect(svc.url, 'alice');
    bob = await TestAgent.connect(svc.url, 'bob');
    supervisorToken = await loginToken(svc.url, 'sam', 'demo');
  });
  afterAll(async () => {
    alice?.close();
    bob?.close();
    await media?.stop();
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('an agent calls a user who gave permission: it rings, then audio flows both ways, then the agent hangs up', async () => {
    const to = user();
    sim.business.addUser(to, { permission: 'temporary', toneHz: 880, watchHz: [660], answerAfterMs: 1500 });
    const from = sim.actions.length;
    const res = await alice.client.dial(`+${to.slice(0, 2)} ${to.slice(2, 7)}-${to.slice(7)}`);
    expect(res).toMatchObject({ ok: true });
    const callId = (res as { callId: string }).callId;
    const peer = await alice.startMedia(callId, { toneHz: 660, watchHz: [880] });
    await waitUntil(() => alice.progress.some((p) => p.callId === callId && p.status === 'ringing'), {
      what: 'ringing',
      timeoutMs: 60_000,
    });
    await waitUntil(() => alice.live.includes(callId), { what: 'call:live', timeoutMs: 60_000 });
    const simCall = [...sim.calls.values()].find((c) => c.to === to)!;
    expect(simCall.state).toBe('accepted');
    await new Promise((r) => setTimeout(r, 2500));
    const until = nowMs();
    await drainAnalysis();
    const atUser = simCall.user!.report({ since: simCall.acceptedAt!, until }).inbound;
    const atAgent = peer.report({ since: simCall.acceptedAt!, until }).inbound;
    expect(near(atUser.dominantHz, 660), `agent → user: ${atUser.dominantHz} Hz`).toBe(true);
    expect(near(atAgent.dominantHz, 880), `user → agent: ${atAgent.dominantHz} Hz`).toBe(true);

    expect((await alice.client.hangup(callId)).ok).toBe(true);
    await simCall.waitFor('ended', 10_000);
    expect(simCall.endedBy).toBe('business');
    // Meta saw: the permission look-up, one connect, one terminate for Meta's own call id.
    expect(metaSaw(from)).toEqual(['call_permissions:200', 'connect:200', 'terminate:200']);
    expect(sim.actionsFor(simCall.callId, 'terminate')).toHaveLength(1);
    const d = await waitUntil(async () => ((await detail(callId)).state === 'ended' ? detail(callId) : undefined), {
      what: 'ended',
    });
    expect(d.reason).toBe('completed');
  }, 180_000);

  it('without permission a request goes out, no call is attempted, and the agent hears the reply', async () => {
    const to = user();
    sim.business.addUser(to, { replyToRequest: 'accept', replyAfterMs: 200 });
    const from = sim.actions.length;
    const res = await alice.client.dial(to);
    expect(res).toMatchObject({ ok: false, error: 'no-permission' });
    expect((res as { message: string }).message).toMatch(/permission request/);
    expect(metaSaw(from)).toEqual(['call_permissions:200', 'message:200']);
    expect(sim.business.permissionRequests.filter((r) => r.to === to)).toHaveLength(1);
    await waitUntil(() => alice.permissions.find((p) => p.to === to), { what: 'call:permission', timeoutMs: 10_000 });
    expect(alice.permissions.find((p) => p.to === to)).toMatchObject({ response: 'accept' });
    expect(alice.permissions.find((p) => p.to === to)?.expiresAt).toBeGreaterThan(Date.now() + 6 * DAY_MS);
    expect(sim.actions.slice(from).some((a) => a.action === 'connect')).toBe(false);
  });

  it('a permission request already sent today: no second request, no call, and the agent is told when', async () => {
    const to = user();
    sim.business.addUser(to, {});
    expect(await alice.client.dial(to)).toMatchObject({ ok: false, error: 'no-permission' });
    const from = sim.actions.length;
    const res = await alice.client.dial(to);
    expect(res).toMatchObject({ ok: false, error: 'limit-reached' });
    expect((res as { message: string }).message).toMatch(/may not ask again yet; you can ask after \d{4}-/);
    expect(metaSaw(from)).toEqual(['call_permissions:200']);
  });

  it('the 24-hour call limit reached: no call, and the agent is told why and until when', async () => {
    const to = user();
    const u = sim.business.addUser(to, { permission: 'temporary' });
    u.connected = Array.from({ length: 100 }, (_, i) => Date.now() - DAY_MS + 60_000 + i);
    const from = sim.actions.length;
    const res = await alice.client.dial(to);
    expect(res).toMatchObject({ ok: false, error: 'limit-reached' });
    expect((res as { message: string }).message).toMatch(/limit of calls to this person; you can call after/);
    expect((res as { retryAt?: number }).retryAt).toBeGreaterThan(Date.now());
    expect(metaSaw(from)).toEqual(['call_permissions:200']);
  });

  it('the user declining ends the call `declined` and frees the agent', async () => {
    const to = user();
    sim.business.addUser(to, { permission: 'permanent', answer: 'reject', answerAfterMs: 500 });
    const res = await bob.client.dial(to);
    expect(res.ok).toBe(true);
    const callId = (res as { callId: string }).callId;
    await waitUntil(() => bob.ended.find((e) => e.callId === callId), { what: 'call:ended', timeoutMs: 15_000 });
    expect(bob.ended.find((e) => e.callId === callId)?.reason).toBe('declined');
    expect(bob.progress.filter((p) => p.callId === callId).map((p) => p.status)).toEqual(['dialing', 'ringing']);
    await waitUntil(async () => (await svc.core.presence.claimedBy('bob')) === null, { what: 'bob free again' });
    expect((await detail(callId)).reason).toBe('declined');
  });

  it('bad input gets clear ack errors and nothing reaches Meta', async () => {
    const to = user();
    sim.business.addUser(to, { permission: 'temporary', answerAfterMs: 60_000 });
    const from = sim.actions.length;
    for (const bad of ['', 'abc', '12345', '+1 (555) 12', '9'.repeat(16)]) {
      const r = await alice.client.dial(bad);
      expect(r.ok, bad).toBe(false);
      expect(['bad-number', 'bad-request']).toContain((r as { error: string }).error);
      expect((r as { message: string }).message.length).toBeGreaterThan(10);
    }
    expect(await alice.client.dial(`+${DO_NOT_CALL}`)).toMatchObject({ ok: false, error: 'not-callable' });
    expect(metaSaw(from)).toEqual([]);

    // Twice at once: one call goes out, the other dial is refused.
    const [a, b] = await Promise.all([alice.client.dial(to), alice.client.dial(to)]);
    const oks = [a, b].filter((r) => r.ok);
    expect(oks).toHaveLength(1);
    const refused = [a, b].find((r) => !r.ok) as { error: string; message: string };
    expect(['dial-in-progress', 'busy']).toContain(refused.error);
    const callId = (oks[0] as { callId: string }).callId;
    await waitUntil(() => sim.actions.slice(from).some((x) => x.action === 'connect'), { what: 'connect' });
    expect(sim.actions.slice(from).filter((x) => x.action === 'connect')).toHaveLength(1);
    // And while that call rings, a third dial is refused: the agent is on a call.
    expect(await alice.client.dial(to)).toMatchObject({ ok: false, error: 'busy' });
    expect((await alice.client.hangup(callId)).ok).toBe(true);
    await waitUntil(async () => (await detail(callId)).state === 'ended', { what: 'ended' });
  }, 60_000);
});

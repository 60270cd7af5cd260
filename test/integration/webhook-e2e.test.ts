import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signBody } from '../../src/http/webhook.routes.js';
import { timerJobId } from '../../src/machines/call.effects.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { callsEnvelope, connectCall } from '../../src/sim/webhook-sender.js';
import { BUSINESS, type InProcessService, newSimulator, startInProcess } from '../harness.js';
import { cleanupPrefix, loginToken, META_OFFER, testPrefix, waitUntil } from '../helpers.js';

describe('webhook ingest end to end (real Redis, real workers, the simulator over HTTP)', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let token: string;

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${svc.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const call = (id: string) => api<CallDetail>(`/api/calls/${encodeURIComponent(id)}`);
  const ended = (id: string, timeoutMs = 15_000) =>
    waitUntil(
      async () => {
        const r = await call(id);
        return r.status === 200 && r.body.state === 'ended' ? r.body : undefined;
      },
      { timeoutMs, what: `call ${id} to end` },
    );

  beforeEach(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, { CALL_ANSWER_DEADLINE_SECONDS: '5' });
    token = await loginToken(svc.url, 'sam', 'demo');
  });
  afterEach(async () => {
    await svc.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  });

  it('GET verification answers the challenge with the right token and 403 with a wrong one', async () => {
    const ok = await fetch(
      `${svc.url}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158863600&hub.verify_token=demo-verify-token`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158863600');
    const bad = await fetch(`${svc.url}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`);
    expect(bad.status).toBe(403);
  });

  it('an unanswered call ends missed at its deadline and Meta gets exactly one reject', async () => {
    const { call: c, response } = await sim.placeCall({ sdp: META_OFFER, name: 'Priya' });
    expect(response?.status).toBe(200);
    const detail = await ended(c.callId, 20_000);
    expect(detail.reason).toBe('missed');
    expect(detail.timeline.map((t) => t.to ?? t.event)).toContain('ended');
    await c.waitFor('ended', 10_000);
    expect(c.endedBy).toBe('rejected');
    expect(sim.actionsFor(c.callId)).toEqual([expect.objectContaining({ action: 'reject', ok: true })]);
    // No agent rang, so routing said so in the timeline.

    expect(detail.timeline.some((t) => t.event === 'ROUTING.NO_AGENTS')).toBe(true);
  });

  it('a caller hanging up while ringing ends the call and cancels its timers', async () => {
    const { call: c } = await sim.placeCall({ sdp: META_OFFER });
    await waitUntil(async () => (await call(c.callId)).status === 200, { what: 'call created' });
    const deadlineJob = timerJobId(c.callId, 'answer-deadline', 'a');
    expect(await svc.core.queues.timer.getJobState(deadlineJob)).toBe('delayed');
    expect((await sim.hangup(c.callId)).status).toBe(200);
    const detail = await ended(c.callId);
    expect(detail.reason).toBe('caller-hung-up');
    await waitUntil(async () => (await svc.core.queues.timer.getJobState(deadlineJob)) === 'unknown', {
      what: 'timer removed',
    });
    // Past the deadline nothing more reaches Meta: no reject for a call the caller already ended.
    await new Promise((r) => setTimeout(r, 5500));
    expect(sim.actionsFor(c.callId)).toEqual([]);
    expect((await call(c.callId)).body.version).toBe(detail.version);
  });

  it('the same connect delivered 3 times makes one call', async () => {
    const { call: c } = await sim.placeCall({ sdp: META_OFFER, deliver: false });
    const results = await Promise.all([sim.sendConnect(c.callId, META_OFFER), sim.sendConnect(c.callId, META_OFFER)]);
    results.push(await sim.sendConnect(c.callId, META_OFFER));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    // Each delivery is queued (durable) before its 200; the worker applies the first and ignores the others.
    for (const r of results) expect((r.body as { outcomes: Record<string, number> }).outcomes).toEqual({ queued: 1 });
    await waitUntil(async () => (await call(c.callId)).status === 200, { what: 'the call' });
    await new Promise((r) => setTimeout(r, 300));
    const list = await api<{ calls: { id: string }[] }>('/api/calls');
    expect(list.body.calls.filter((x) => x.id === c.callId)).toHaveLength(1);
    const d = await call(c.callId);
    expect(d.body.timeline.filter((t) => t.event === 'WA.CONNECT')).toHaveLength(1);
  });

  it('a forged signature gets 401 and no call', async () => {
    const { call: c } = await sim.placeCall({ sdp: META_OFFER, deliver: false });
    const body = sim.connectBody(c.callId, META_OFFER);
    const forged = await sim.sender.send(body, { signature: `sha256=${'ab'.repeat(32)}` });
    expect(forged.status).toBe(401);
    const unsigned = await sim.sender.send(body, { signature: null });
    expect(unsigned.status).toBe(401);
    // A valid signature of different bytes (a tampered body) does not pass either.
    const raw = JSON.stringify(body);
    const sigOfOther = signBody(raw.replace('"connect"', '"terminate"'), 'demo-app-secret');
    expect((await sim.sender.send(undefined, { raw, signature: sigOfOther })).status).toBe(401);
    expect((await call(c.callId)).status).toBe(404);
    expect((await call('wacid.never')).status).toBe(404);
  });

  it('a batch with one malformed item processes the others', async () => {
    const a = (await sim.placeCall({ sdp: META_OFFER, deliver: false })).call;
    const b = (await sim.placeCall({ sdp: META_OFFER, deliver: false })).call;
    const body = callsEnvelope(BUSINESS, [
      connectCall(BUSINESS, { callId: a.callId, from: a.from, sdp: META_OFFER }),
      { id: 'wacid.bad', event: 'connect', from: '1' }, // no session
      { id: 'wacid.bad{slot}', event: 'terminate' }, // id not allowed
      connectCall(BUSINESS, { callId: b.callId, from: b.from, sdp: META_OFFER }),
    ]);
    const res = await sim.sender.send(body);
    expect(res.status).toBe(200);
    expect((res.body as { outcomes: Record<string, number> }).outcomes).toEqual({ queued: 2, malformed: 2 });
    await waitUntil(async () => (await call(a.callId)).status === 200 && (await call(b.callId)).status === 200, {
      what: 'both calls',
    });
  });

  it('broken JSON gets 400 and a terminate for an unknown call is remembered for its connect', async () => {
    const broken = await sim.sender.send(undefined, { raw: '{"object": "whatsapp_business_account",' });
    expect(broken.status).toBe(400);
    const { call: c } = await sim.placeCall({ sdp: META_OFFER, deliver: false });
    // Meta does not guarantee order: the terminate overtakes the connect.
    expect((await sim.sender.send(sim.terminateBody(c.callId))).status).toBe(200);
    expect((await sim.sendConnect(c.callId, META_OFFER)).status).toBe(200);
    const detail = await ended(c.callId);
    expect(detail.reason).toBe('caller-hung-up');
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.actionsFor(c.callId)).toEqual([]);
  });

  it('Graph API answering 500 twice then 200 is retried and seen once as success', async () => {
    sim.inject({ action: 'reject', status: 500, times: 2 });
    const { call: c } = await sim.placeCall({ sdp: META_OFFER });
    const detail = await ended(c.callId, 20_000);
    expect(detail.reason).toBe('missed');
    await c.waitFor('ended', 15_000);
    const rejects = sim.actionsFor(c.callId, 'reject');
    expect(rejects.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(sim.okActions(c.callId, 'reject')).toBe(1);
  });

  it('an offer Meta could never connect is rejected cleanly with a reason', async () => {
    const broken = META_OFFER.replace(/a=fingerprint:.*\r\n/, '').replace(/a=ice-ufrag:.*\r\n/, '');
    const { call: c } = await sim.placeCall({ sdp: broken });
    const detail = await ended(c.callId);
    expect(detail.reason).toBe('media-failed');
    expect(detail.detail).toMatch(/unusable offer/);
    await c.waitFor('ended', 10_000);
    expect(sim.okActions(c.callId, 'reject')).toBe(1);
  });
});

/**
 * After-call work and call history, end to end: real calls through the simulator, a media node and Node agents;
 * wrap-ups over the agent protocol; the supervisors' history API and CSV export over HTTP; call events to a
 * receiver. Bad input gets a clear ack error and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRow, WrapUpInfo } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import type { TestAgent } from '../../src/testing/agent-harness.js';
import type { EventsReceiver } from '../../src/testing/events-receiver.js';
import { type AgentsStack, type InProcessService, startAgentsStack } from '../harness.js';
import { fetchCall, loginToken, takeLiveCall, waitUntil } from '../helpers.js';

const SECRET = 'events-secret-for-tests-0123';

describe('wrap-up and call history (real calls, agents over Socket.IO, the history API)', () => {
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: AgentsStack;
  let alice: TestAgent;
  let bob: TestAgent;
  let sam: string;
  let receiver: EventsReceiver;
  /** alice's answered call (wrapped up) and a call the caller abandoned while it rang. */
  let answered: { callId: string; from: string };
  let abandoned: { callId: string; from: string };

  const get = async <T>(path: string, token = sam) => {
    const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
    };
  };
  const history = (q: string) => get<{ total: number; calls: HistoryRow[] }>(`/api/history?${q}`);
  const presenceOf = async (id: string) =>
    (await get<{ agents: { id: string; presence: string }[] }>('/api/agents')).body.agents.find((a) => a.id === id)
      ?.presence;

  beforeAll(async () => {
    // The wrtc engine on purpose: wrap-up and history do not depend on it, and a transfer there is refused.
    stack = await startAgentsStack({
      sim: { callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 20_000 },
      env: { WRAP_UP_SECONDS: '120', EVENTS_WEBHOOK_BACKOFF_MS: '100' },
      mediaEnv: { MEDIA_ENGINE: 'wrtc' },
      eventsSecret: SECRET,
    });
    ({ sim, svc, alice, bob, sam, receiver } = stack);
  });
  afterAll(() => stack?.stop());

  it('an agent stays busy after a call until they submit the wrap-up; bad submissions change nothing', async () => {
    const { call } = await sim.placeCall({ name: 'Priya', from: '447700900123' });
    answered = { callId: call.callId, from: '447700900123' };
    await takeLiveCall(alice, call);

    // This media node runs the wrtc engine (one browser leg per call): a transfer is refused, the call goes on.
    const transfer = await alice.client.transfer(call.callId, { agentId: 'bob' });
    expect(transfer).toMatchObject({ ok: false, error: 'not-supported' });
    expect((transfer as { message: string }).message).toContain('MEDIA_ENGINE=forward');
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'live', agentId: 'alice' });

    // Not before the call has ended.
    const early = await alice.client.wrapUp(call.callId, 'resolved');
    expect(early).toMatchObject({ ok: false, error: 'wrong-state' });

    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await waitUntil(async () => (await fetchCall(svc.url, sam, call.callId)).state === 'ended', { what: 'ended' });
    await waitUntil(async () => (await presenceOf('alice')) === 'busy', { what: 'alice busy in wrap-up' });

    const aliceToken = await loginToken(svc.url, 'alice', 'demo');
    const info = (await get<WrapUpInfo>('/api/wrapup', aliceToken)).body;
    expect(info).toMatchObject({ required: false, pending: { callId: call.callId } });
    expect(info.codes).toContain('resolved');

    // Someone else's call, a code that is not theirs, notes too long, an unknown call: clear errors.
    expect(await bob.client.wrapUp(call.callId, 'resolved')).toMatchObject({ ok: false, error: 'not-your-call' });
    const badCode = await alice.client.wrapUp(call.callId, 'sold-a-yacht');
    expect(badCode).toMatchObject({ ok: false, error: 'unknown-code' });
    expect((badCode as { message: string }).message).toContain('resolved');
    const long = await alice.client.wrapUp(call.callId, 'resolved', 'x'.repeat(2001));
    expect(long).toMatchObject({ ok: false, error: 'bad-request' });
    expect((long as { message: string }).message).toMatch(/notes.*2000/);
    expect(await alice.client.wrapUp('wacid.nope', 'resolved')).toMatchObject({ ok: false, error: 'unknown-call' });
    const unchanged = await fetchCall(svc.url, sam, call.callId);
    expect(unchanged.wrapUp).toBeNull();
    expect(unchanged.timeline.some((t) => t.event === 'AGENT.WRAP_UP')).toBe(false);
    expect(await presenceOf('alice')).toBe('busy');

    const notes = '=refund sent, "priority" customer';
    const ok = await alice.client.wrapUp(call.callId, 'resolved', notes);
    expect(ok).toMatchObject({ ok: true, wrapUp: { agentId: 'alice', code: 'resolved', notes } });
    // Free at once, long before WRAP_UP_SECONDS.
    await waitUntil(async () => (await presenceOf('alice')) === 'online', { what: 'alice online after wrap-up' });
    expect((await get<WrapUpInfo>('/api/wrapup', aliceToken)).body.pending).toBeNull();

    // The same submission again is fine; a different one is refused.
    expect((await alice.client.wrapUp(call.callId, 'resolved', notes)).ok).toBe(true);
    expect(await alice.client.wrapUp(call.callId, 'escalated')).toMatchObject({
      ok: false,
      error: 'already-wrapped-up',
    });

    const d = await fetchCall(svc.url, sam, call.callId);
    expect(d.wrapUp).toMatchObject({ code: 'resolved', notes });
    expect(d.timeline.filter((t) => t.event === 'AGENT.WRAP_UP')).toHaveLength(1);
    // The agent's own history shows it too.
    const mine = await get<{ calls: { id: string; wrapUp: unknown }[] }>('/api/calls', aliceToken);
    expect(mine.body.calls.find((c) => c.id === call.callId)?.wrapUp).toMatchObject({ code: 'resolved' });
    // Outside systems hear of it once.
    await waitUntil(() => receiver.acceptedIds.includes(`${call.callId}.wrapped-up`), { what: 'wrapped-up event' });
    const ev = receiver.received.filter((r) => r.body?.type === 'call.wrapped-up' && r.status === 200);
    expect(ev).toHaveLength(1);
    expect(ev[0]!.body!.call.wrapUp).toMatchObject({ code: 'resolved', notes });
  });

  it('supervisors search the history by agent, team, outcome, code, number and dates, page through it and export CSV', async () => {
    const { call } = await sim.placeCall({ name: 'Ravi', from: '919800011122' });
    abandoned = { callId: call.callId, from: '919800011122' };
    await bob.offered(call.callId);
    await sim.hangup(call.callId);
    await waitUntil(async () => (await history('outcome=caller-hung-up')).body.total === 1, { what: 'indexed' });

    const ids = async (q: string) => (await history(q)).body.calls.map((c) => c.id);
    expect(await ids('')).toEqual([abandoned.callId, answered.callId]);
    expect(await ids('agent=alice')).toEqual([answered.callId]);
    expect(await ids('team=support')).toEqual([answered.callId]);
    expect(await ids('outcome=completed')).toEqual([answered.callId]);
    expect(await ids('code=resolved')).toEqual([answered.callId]);
    expect(await ids('code=escalated')).toEqual([]);
    expect(await ids('number=%2B91%2098000-11122')).toEqual([abandoned.callId]);
    expect(await ids('agent=alice&outcome=caller-hung-up')).toEqual([]);
    expect(await ids(`from=${Date.now() + 60_000}`)).toEqual([]);
    expect(await ids(`to=${new Date(Date.now() - 3_600_000).toISOString()}`)).toEqual([]);
    expect(await ids(`from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${Date.now()}`)).toHaveLength(2);

    const page2 = await history('pageSize=1&page=2');
    expect(page2.body.total).toBe(2);
    expect(page2.body.calls.map((c) => c.id)).toEqual([answered.callId]);
    const row = page2.body.calls[0]!;
    expect(row).toMatchObject({ agentId: 'alice', outcome: 'completed', teams: ['support'] });
    // Masked like everywhere else in the API.
    expect(row.caller.number).not.toBe(answered.from);
    expect(row.caller.number).toMatch(/•/);
    expect(row.talkMs).toBeGreaterThan(0);

    const csv = await get<string>('/api/history.csv?agent=alice');
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^call_id,started_at,answered_at,ended_at,/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(answered.callId);
    // Quotes doubled, a formula-looking note defused.
    expect(lines[1]).toContain(`"'=refund sent, ""priority"" customer"`);
  });

  it('bad history queries get a 400 that says what is wrong; agents get 403', async () => {
    const bad = await history('agent=../x');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/agent/);
    expect((await history('from=yesterday-ish')).status).toBe(400);
    expect((await history(`from=${Date.now()}&to=${Date.now() - 1000}`)).text).toMatch(/from must not be after to/);
    expect((await history('pageSize=100000')).status).toBe(400);
    const aliceToken = await loginToken(svc.url, 'alice', 'demo');
    expect((await get('/api/history', aliceToken)).status).toBe(403);
    expect((await get('/api/history.csv', aliceToken)).status).toBe(403);
  });
});

describe('WRAP_UP_REQUIRED: the agent stays busy until they submit', () => {
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: AgentsStack;
  let alice: TestAgent;
  let sam: string;

  beforeAll(async () => {
    // WRAP_UP_SECONDS is short on purpose: with WRAP_UP_REQUIRED it does not free the agent.
    stack = await startAgentsStack({
      sim: { callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 20_000 },
      env: { WRAP_UP_SECONDS: '1', WRAP_UP_REQUIRED: '1' },
      mediaEnv: {},
      eventsSecret: SECRET,
    });
    ({ sim, svc, alice, sam } = stack);
  });
  afterAll(() => stack?.stop());

  it('past WRAP_UP_SECONDS the agent is still busy, and free right after submitting', async () => {
    const presence = async () => {
      const res = await fetch(`${svc.url}/api/agents`, { headers: { authorization: `Bearer ${sam}` } });
      return ((await res.json()) as { agents: { id: string; presence: string }[] }).agents.find((a) => a.id === 'alice')
        ?.presence;
    };
    const { call } = await sim.placeCall({ name: 'Priya' });
    await takeLiveCall(alice, call);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    const token = await loginToken(svc.url, 'alice', 'demo');
    const info = await fetch(`${svc.url}/api/wrapup`, { headers: { authorization: `Bearer ${token}` } });
    expect(await info.json()).toMatchObject({ required: true, pending: { callId: call.callId } });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await presence()).toBe('busy');
    expect((await alice.client.wrapUp(call.callId, 'resolved')).ok).toBe(true);
    await waitUntil(async () => (await presence()) === 'online', { what: 'alice free after submitting' });
  });
});

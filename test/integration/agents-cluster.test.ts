/**
 * Agents across replicas: two http processes, a worker process and a media process on one Redis; real Socket.IO
 * clients (the typed agent client) connected to either replica.
 */
import { sign } from 'hono/jwt';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, newSimulator, spawnRole } from '../harness.js';
import { cleanupPrefix, loginToken, META_OFFER, TEST_JWT_SECRET, testPrefix, waitUntil } from '../helpers.js';

const AGENTS_FILE = 'test/fixtures/agents.test.json';

describe('agents on a Socket.IO cluster (2 http replicas, a worker, a media node)', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let httpA: ChildService;
  let httpB: ChildService;
  let worker: ChildService;
  let media: ChildService;
  let boss: string;
  const agents: TestAgent[] = [];

  const detail = async (id: string) => {
    const res = await fetch(`${httpB.url}/api/calls/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${boss}` },
    });
    return (await res.json()) as CallDetail;
  };
  const cancel = (id: string) =>
    fetch(`${httpA.url}/api/calls/${encodeURIComponent(id)}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${boss}` },
    });
  const connect = async (id: string, replica: ChildService) => {
    const a = await TestAgent.connect(replica.url, id, { password: 'pw' });
    agents.push(a);
    return a;
  };

  beforeAll(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    const env = {
      AGENTS_FILE,
      GRAPH_API_BASE_URL: sim.baseUrl,
      WRAP_UP_SECONDS: '0',
      CALL_ANSWER_DEADLINE_SECONDS: '30',
    };
    [httpA, httpB, worker, media] = await Promise.all([
      spawnRole('http', prefix, env),
      spawnRole('http', prefix, env),
      spawnRole('worker', prefix, env),
      spawnRole('media', prefix, env),
    ]);
    sim.setWebhookUrl(`${httpA.url}/webhooks/whatsapp`);
    boss = await loginToken(httpA.url, 'boss');
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) a.close();
    await Promise.all([httpA, httpB, worker, media].map((p) => p?.stop()));
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('an agent connected to replica B is offered a call whose webhook hit replica A', async () => {
    const a1 = await connect('a1', httpB);
    const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Cross Replica' });
    const offer = await a1.offered(call.callId);
    expect(offer.from.name).toBe('Cross Replica');
    expect(offer.from.number).toMatch(/•/); // masked
    expect(offer.deadlineAt).toBeGreaterThan(Date.now());
    await cancel(call.callId);
    await waitUntil(() => a1.ended.some((e) => e.callId === call.callId), { what: 'call:ended' });
    a1.close();
  });

  it('ring-all to 5 agents with 5 simultaneous accepts: exactly one winner and 4 call:taken, 50 times in a row', async () => {
    const five = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map((id, i) => connect(id, i % 2 ? httpA : httpB)));
    for (let round = 0; round < 50; round++) {
      const { call } = await sim.placeCall({ sdp: META_OFFER });
      await Promise.all(five.map((a) => a.offered(call.callId)));
      const acks = await Promise.all(five.map((a) => a.client.accept(call.callId)));
      const winners = acks.flatMap((r, i) => (r.ok ? [five[i]!.id] : []));
      expect(winners, `round ${round}: ${JSON.stringify(acks)}`).toHaveLength(1);
      const losers = acks.filter((r) => !r.ok);
      expect(losers.map((r) => (r.ok ? '' : r.error))).toEqual([
        'already-taken',
        'already-taken',
        'already-taken',
        'already-taken',
      ]);
      // Every agent (the winner's other tabs too) hears call:taken naming the winner.
      await waitUntil(() => five.every((a) => a.taken.some((t) => t.callId === call.callId)), {
        what: `call:taken round ${round}`,
      });
      for (const a of five) expect(a.taken.find((t) => t.callId === call.callId)?.agentId).toBe(winners[0]);
      const d = await detail(call.callId);
      expect(d.agentId).toBe(winners[0]);
      expect(['bridging', 'pre-accepted']).toContain(d.state);
      // A late accept after the race gets already-taken too.
      const late = await five.find((a) => a.id !== winners[0])!.client.accept(call.callId);
      expect(late).toMatchObject({ ok: false, error: 'already-taken' });
      expect((await cancel(call.callId)).status).toBe(200);
      await waitUntil(async () => (await detail(call.callId)).state === 'ended', { what: 'ended' });
    }
    for (const a of five) a.close();
  }, 300_000);

  it('an accept from an agent who was never offered the call is refused; a decline silences only that agent', async () => {
    const [a1, a2, a3] = await Promise.all([connect('a1', httpA), connect('a2', httpB), connect('a3', httpA)]);
    expect(await a3.client.setPresence('away')).toMatchObject({ ok: true, presence: 'away' });
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await Promise.all([a1.offered(call.callId), a2.offered(call.callId)]);
    // a3 is away, so the call was never offered to them: their accept is refused and changes nothing.
    expect(await a3.client.accept(call.callId)).toMatchObject({ ok: false, error: 'not-offered' });
    expect(a3.offers.some((o) => o.callId === call.callId)).toBe(false);
    expect((await a1.client.decline(call.callId)).ok).toBe(true);
    await waitUntil(() => a1.withdrawn.some((w) => w.callId === call.callId && w.reason === 'declined'), {
      what: 'withdrawn',
    });
    const d = await detail(call.callId);
    expect(d.state).toBe('agent-offered');
    expect(d.offer?.agentIds).not.toContain('a1');
    expect(d.offer?.agentIds).toContain('a2');
    expect(await a1.client.accept(call.callId)).toMatchObject({ ok: false, error: 'not-offered' });
    await cancel(call.callId);
    for (const a of [a1, a2, a3]) a.close();
  });

  it('a reconnecting agent gets its ringing offer back; one who logs out is skipped at once', async () => {
    // The first tab: a raw Socket.IO client whose connection drops (a reload, a network blip).
    const token = await loginToken(httpA.url, 'a4');
    const tab = ioClient(`${httpA.url}/agents`, { transports: ['websocket'], auth: { token }, reconnection: false });
    const offered = new Promise<string>((r) => tab.on('call:offered', (o: { callId: string }) => r(o.callId)));
    await new Promise<void>((r) => tab.once('connect', () => r()));
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    expect(await offered).toBe(call.callId);
    tab.io.engine.close(); // the transport drops; the server sees "transport close"
    // A new tab on the other replica: the session it receives on connect carries the offer.
    const again = await connect('a4', httpB);
    expect(again.client.session?.offers.map((o) => o.callId)).toContain(call.callId);
    expect((await detail(call.callId)).offer?.agentIds).toContain('a4');
    // Logging out (an explicit disconnect of the last tab) withdraws the offer at once.
    again.close();
    await waitUntil(async () => !(await detail(call.callId)).offer?.agentIds.includes('a4'), {
      what: 'the offer to move on',
      timeoutMs: 2000,
    });
    await cancel(call.callId);
  });

  it('unauthenticated and expired-token sockets are refused with a clear error', async () => {
    const attempt = (auth: Record<string, unknown>) =>
      new Promise<{ message: string; data?: { code?: string } }>((resolve) => {
        const s = ioClient(`${httpA.url}/agents`, { transports: ['websocket'], auth, reconnection: false });
        s.on('connect', () => {
          s.close();
          resolve({ message: 'connected' });
        });
        s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
          s.close();
          resolve({ message: err.message, data: err.data });
        });
      });
    expect((await attempt({})).data?.code).toBe('token-missing');
    expect((await attempt({ token: 'garbage' })).data?.code).toBe('token-invalid');
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(
      { sub: 'a1', name: 'x', role: 'agent', iat: now - 7200, exp: now - 3600 },
      TEST_JWT_SECRET,
      'HS256',
    );
    const refused = await attempt({ token: expired });
    expect(refused.data?.code).toBe('token-expired');
    expect(refused.message).toMatch(/expired/);
    const forged = await sign(
      { sub: 'a1', name: 'x', role: 'agent', iat: now, exp: now + 3600 },
      'not-the-secret-0123456789',
      'HS256',
    );
    expect((await attempt({ token: forged })).data?.code).toBe('token-invalid');
  });

  it('a malformed socket message gets an error ack and changes nothing', async () => {
    const a5 = await connect('a5', httpB);
    const { call } = await sim.placeCall({ sdp: META_OFFER });
    await a5.offered(call.callId);
    const before = await detail(call.callId);
    const login = await fetch(`${httpB.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'a5', password: 'pw' }),
    });
    const s = ioClient(`${httpB.url}/agents`, {
      transports: ['websocket'],
      auth: { token: ((await login.json()) as { token: string }).token },
    });
    await new Promise<void>((r) => s.on('connect', () => r()));
    const ask = (ev: string, payload: unknown) =>
      new Promise<{ ok: boolean; error?: string }>((r) => s.emit(ev, payload, r));
    expect(await ask('call:accept', { nope: 1 })).toMatchObject({ ok: false, error: 'bad-request' });
    expect(await ask('call:accept', 'not an object')).toMatchObject({ ok: false, error: 'bad-request' });
    expect(await ask('presence:set', { status: 'sleeping' })).toMatchObject({ ok: false, error: 'bad-request' });
    expect(await ask('rtc:offer', { callId: call.callId, sdp: 'x' })).toMatchObject({
      ok: false,
      error: 'bad-request',
    });
    expect(await ask('rtc:candidate', { callId: call.callId, candidate: { candidate: 42 } })).toMatchObject({
      ok: false,
      error: 'bad-request',
    });
    // A well-formed rtc:offer for a call this agent is not on is refused with a reason, not accepted.
    expect(await ask('rtc:offer', { callId: call.callId, sdp: META_OFFER })).toMatchObject({
      ok: false,
      error: 'not-your-call',
    });
    s.close();
    const after = await detail(call.callId);
    expect(after.version).toBe(before.version);
    expect(after.state).toBe('agent-offered');
    await cancel(call.callId);
    a5.close();
  });
});

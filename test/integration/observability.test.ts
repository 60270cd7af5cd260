/**
 * What operators and supervisors rely on: Prometheus metrics after a real call, Bull Board for supervisors only,
 * the Stately inspector stream, and the security edges (CORS, size limits, roles, token expiry on every event).
 */
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { sign } from 'hono/jwt';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/cluster/process.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, META_OFFER, TEST_JWT_SECRET, testPrefix, waitUntil } from '../helpers.js';

describe('observability and security edges', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let media: ChildService;
  let boss: string;
  let agentToken: string;
  const inspected: StatelyInspectionEvent[] = [];
  let inspectPort: number;

  const login = async (username: string) => {
    const res = await fetch(`${svc.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'pw' }),
    });
    return ((await res.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    prefix = testPrefix();
    inspectPort = await freePort();
    sim = newSimulator({ callerFactory: createCallerFactory({}) });
    await sim.start();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      WRAP_UP_SECONDS: '0',
      CORS_ORIGIN: 'https://console.example.com',
      XSTATE_INSPECT: '1',
      XSTATE_INSPECT_PORT: String(inspectPort),
    };
    svc = await startInProcess(prefix, sim, env);
    media = await spawnRole('media', prefix, env);
    boss = await login('boss');
    agentToken = await login('a1');
    createWebSocketReceiver({ server: `ws://127.0.0.1:${inspectPort}/?token=${svc.config.inspectToken}` }).subscribe(
      (e) => inspected.push(e),
    );
  }, 120_000);
  afterAll(async () => {
    await media?.stop('SIGKILL');
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('exposes call, webhook, Graph API, routing and media metrics after a real call', async () => {
    const a1 = await TestAgent.connect(svc.url, 'a1', { password: 'pw' });
    try {
      const { call } = await sim.placeCall({ name: 'Metrics' });
      await a1.offered(call.callId);
      await a1.client.accept(call.callId);
      await a1.startMedia(call.callId);
      await call.waitFor('accepted', 20_000);
      await waitUntil(() => a1.live.includes(call.callId), { what: 'live' });
      const live = await (await fetch(`${svc.url}/metrics`)).text();
      expect(live).toMatch(/wacc_calls_active\{state="live"\} 1/);
      expect(live).toMatch(/wacc_media_node_calls\{node="[^"]+"\} [01]/);
      await a1.client.hangup(call.callId);
      await call.waitFor('ended', 10_000);
      await waitUntil(
        async () =>
          /wacc_calls_ended_total\{reason="completed"\} 1/.test(await (await fetch(`${svc.url}/metrics`)).text()),
        {
          what: 'ended metric',
        },
      );
      const m = await (await fetch(`${svc.url}/metrics`)).text();
      expect(m).toMatch(/wacc_webhook_duration_seconds_count [1-9]/);
      expect(m).toMatch(/wacc_graph_requests_total\{action="accept",result="ok",code=""\} 1/);
      expect(m).toMatch(/wacc_graph_duration_seconds_count\{action="pre_accept"\} 1/);
      expect(m).toMatch(/wacc_ring_seconds_count 1/);
      expect(m).toMatch(/wacc_accept_to_live_seconds_count 1/);
      expect(m).toMatch(/wacc_call_transitions_total\{from="pre-accepted",to="live"\} 1/);
      expect(m).toMatch(/wacc_agent_socket_events_total\{event="call:accept",result="ok"\} 1/);
    } finally {
      a1.close();
    }
  });

  it('streams the call actors to the Stately inspector with the machine definition', async () => {
    const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Inspected' });
    await waitUntil(() => inspected.some((e) => e.type === '@xstate.snapshot'), { what: 'inspection events' });
    await sim.hangup(call.callId);
    await waitUntil(
      () =>
        inspected.some(
          (e) =>
            e.type === '@xstate.snapshot' &&
            (e as unknown as { snapshot: { value: string } }).snapshot.value === 'ended',
        ),
      { what: 'the ended snapshot' },
    );
    const actor = inspected.find((e) => e.type === '@xstate.actor') as
      | { definition?: string; sessionId: string }
      | undefined;
    expect(actor?.definition).toContain('"pre-accepted"');
    const values = inspected
      .filter((e) => e.type === '@xstate.snapshot')
      .map((e) => (e as unknown as { snapshot: { value: string } }).snapshot.value);
    expect(values).toEqual(
      expect.arrayContaining(['ringing', 'agent-offered', 'bridging', 'pre-accepted', 'live', 'ended']),
    );
    expect(JSON.stringify(inspected)).not.toMatch(/a=fingerprint|919800012345/);
  });

  it('Bull Board is for supervisors only, reached through a cookie login', async () => {
    expect((await fetch(`${svc.url}/admin/queues`)).status).toBe(401);
    expect(
      (await fetch(`${svc.url}/admin/queues`, { headers: { authorization: `Bearer ${agentToken}` } })).status,
    ).toBe(403);
    const loginRes = await fetch(`${svc.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: boss }).toString(),
    });
    expect(loginRes.status).toBe(303);
    const cookie = loginRes.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await fetch(`${svc.url}/admin/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await fetch(`${svc.url}/admin/queues/api/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['events', 'graph', 'maintenance', 'route', 'timer']);
  });

  it('supervisor-only API routes refuse agents; CORS only for the console origin; bodies are size-limited', async () => {
    const asAgent = await fetch(`${svc.url}/api/agents`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(asAgent.status).toBe(403);
    expect(((await asAgent.json()) as { error: { code: string } }).error.code).toBe('supervisor-only');
    expect((await fetch(`${svc.url}/api/agents`, { headers: { authorization: `Bearer ${boss}` } })).status).toBe(200);
    const pre = (origin: string) =>
      fetch(`${svc.url}/api/calls`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    expect((await pre('https://console.example.com')).headers.get('access-control-allow-origin')).toBe(
      'https://console.example.com',
    );
    expect((await pre('https://evil.example.net')).headers.get('access-control-allow-origin')).toBeNull();
    const big = await fetch(`${svc.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'a1', password: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    // Login is rate-limited per username.
    let last = 0;
    for (let i = 0; i < 12; i++) {
      last = (
        await fetch(`${svc.url}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'a9', password: 'wrong' }),
        })
      ).status;
    }
    expect(last).toBe(429);
  });

  it('a token that expires during a session is refused on the next socket event', async () => {
    const now = Math.floor(Date.now() / 1000);
    const short = await sign(
      { sub: 'a2', name: 'Agent Two', role: 'agent', iat: now, exp: now + 2 },
      TEST_JWT_SECRET,
      'HS256',
    );
    const s = ioClient(`${svc.url}/agents`, { transports: ['websocket'], auth: { token: short }, reconnection: false });
    await new Promise<void>((r) => s.once('connect', () => r()));
    const ask = () => new Promise<{ ok: boolean; error?: string }>((r) => s.emit('agent:heartbeat', {}, r));
    expect((await ask()).ok).toBe(true);
    const expired = new Promise<void>((r) => s.once('auth:expired', () => r()));
    await new Promise((r) => setTimeout(r, 2600));
    expect(await ask()).toMatchObject({ ok: false, error: 'token-expired' });
    await expired;
    await waitUntil(() => !s.connected, { what: 'socket closed' });
  });
});

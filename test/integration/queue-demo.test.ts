/**
 * The demo out of the box on the forward engine (`npm start` with no credentials, MEDIA_ENGINE=forward): a call
 * placed from the supervisor API is answered by the business (greeting, menu), the simulated caller presses 1 from
 * the supervisor API (RFC 4733), and the call waits in the sales queue, visible in the supervisor's queue view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail, QueuesView } from '../../src/shared/rest-types.js';
import { type ChildService, freePort, spawnRole, testPrefix } from '../harness.js';
import { cleanupPrefix, loginToken, waitUntil } from '../helpers.js';

describe('demo mode: greeting → menu → queue', () => {
  let prefix: string;
  let all: ChildService;
  let boss: string;

  const api = async <T>(path: string, init: RequestInit = {}) => {
    const res = await fetch(`${all.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${boss}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    prefix = testPrefix();
    all = await spawnRole('all', prefix, { MEDIA_ENGINE: 'forward', SIM_PORT: String(await freePort()) });
    boss = await loginToken(all.url, 'sam', 'demo');
  }, 120_000);
  afterAll(async () => {
    await all?.stop();
    await cleanupPrefix(prefix);
  });

  it('the demo call is answered by the business, the caller presses 1 and waits for sales', async () => {
    expect(all.output()).toContain('Calls are answered by the business');
    const placed = await api<{ callId: string }>('/api/demo/call', { method: 'POST', body: '{}' });
    expect(placed.status).toBe(200);
    const { callId } = placed.body;
    const detail = async () => (await api<CallDetail>(`/api/calls/${encodeURIComponent(callId)}`)).body;
    await waitUntil(
      async () => (await detail()).timeline.some((t) => t.event === 'GRAPH.DONE' && t.detail === 'action=accept'),
      {
        what: 'the business accept',
        timeoutMs: 20_000,
      },
    );
    expect((await detail()).state).toBe('ivr');
    const bad = await api<{ error: { code: string } }>(`/api/demo/calls/${encodeURIComponent(callId)}/keys`, {
      method: 'POST',
      body: JSON.stringify({ digits: 'x' }),
    });
    expect(bad.status).toBe(400);
    const keys = await api<{ ok: boolean }>(`/api/demo/calls/${encodeURIComponent(callId)}/keys`, {
      method: 'POST',
      body: JSON.stringify({ digits: '1' }),
    });
    expect(keys.body).toEqual({ ok: true });
    const d = await waitUntil(
      async () => {
        const x = await detail();
        return x.state === 'queued' ? x : undefined;
      },
      { what: 'queued for sales', timeoutMs: 15_000 },
    );
    expect(d.ivrChoice).toBe('1');
    expect(d.queueTeams).toEqual(['sales']);
    const queues = (await api<QueuesView>('/api/queues')).body;
    const sales = queues.teams.find((t) => t.team === 'sales');
    expect(sales?.waiting).toMatchObject([{ callId, position: 1, ivrChoice: '1', state: 'queued' }]);
    await api(`/api/calls/${encodeURIComponent(callId)}/cancel`, { method: 'POST', body: '{}' });
  });
});

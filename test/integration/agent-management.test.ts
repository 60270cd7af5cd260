/**
 * Agents and teams live in Redis and supervisors manage them through the API. Before, agents existed only in the
 * static AGENTS_FILE: nobody could be added, disabled or given a new password without a redeploy, and a leaver's
 * open sockets stayed connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.js';
import type { AgentRow } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

describe('agent management', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let other: ChildService | undefined;
  let boss: string;
  const agents: TestAgent[] = [];
  const env = { AGENTS_FILE: 'test/fixtures/agents.test.json' };

  const call = async (method: string, path: string, token: string, body?: unknown, base = svc.url) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
  };
  const login = async (username: string, password: string, base = svc.url) => {
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return { status: res.status, body: (await res.json()) as { token?: string; error?: { code: string } } };
  };

  beforeAll(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, env);
    boss = await loginToken(svc.url, 'boss', 'pw');
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) a.close();
    await other?.stop('SIGKILL');
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('AGENTS_FILE seeds Redis; GET /api/agents keeps the presence rows and adds takesCalls, disabled and teams', async () => {
    const stored = await svc.redis.hkeys(svc.core.keys.agentRecords);
    expect(stored.sort()).toEqual(['a1', 'a10', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'boss']);
    // Plain passwords are hashed on the way in.
    expect(await svc.redis.hget(svc.core.keys.agentRecords, 'a1')).toMatch(/"passwordHash":"scrypt\$/);
    expect(await svc.redis.hget(svc.core.keys.agentRecords, 'a1')).not.toMatch(/"password":/);
    const { status, body } = await call('GET', '/api/agents', boss);
    expect(status).toBe(200);
    const rows = body.agents as AgentRow[];
    const a1 = rows.find((r) => r.id === 'a1')!;
    expect(a1).toMatchObject({
      name: 'Agent One',
      role: 'agent',
      presence: 'offline',
      takesCalls: true,
      disabled: false,
    });
    expect(rows.find((r) => r.id === 'boss')).toMatchObject({ role: 'supervisor', takesCalls: false });
    expect(body.teams).toEqual(['sales', 'support']);
  });

  it('only supervisors manage agents, and bad input names the field', async () => {
    const a1 = await loginToken(svc.url, 'a1', 'pw');
    expect((await call('POST', '/api/agents', a1, { id: 'x', name: 'X', password: 'long-enough' })).status).toBe(403);
    expect((await call('PATCH', '/api/agents/a2', a1, { name: 'Hacked' })).status).toBe(403);
    const short = await call('POST', '/api/agents', boss, { id: 'x1', name: 'X', password: 'short' });
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body)).toMatch(/password/);
    const extra = await call('PATCH', '/api/agents/a2', boss, { isAdmin: true });
    expect(extra.status).toBe(400);
    expect((await call('PATCH', '/api/agents/nobody', boss, { name: 'N' })).status).toBe(404);
    const self = await call('PATCH', '/api/agents/boss', boss, { disabled: true });
    expect(self.body.error?.code).toBe('not-yourself');
  });

  it('a supervisor adds an agent who can log in at once, on every replica; a second add of the id is a 409', async () => {
    const created = await call('POST', '/api/agents', boss, {
      id: 'newbie',
      name: 'New Agent',
      password: 'correct horse',
      teams: ['billing'],
    });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({ id: 'newbie', teams: ['billing'], role: 'agent', takesCalls: true });
    expect((await login('newbie', 'correct horse')).status).toBe(200);
    expect(
      (await call('POST', '/api/agents', boss, { id: 'newbie', name: 'Again', password: 'whatever1' })).status,
    ).toBe(409);
    // A replica started afterwards reads Redis, not the file.
    other = await spawnRole('http', prefix, env);
    expect((await login('newbie', 'correct horse', other.url)).status).toBe(200);
    const teams = (await call('GET', '/api/agents', boss, undefined, other.url)).body.teams;
    expect(teams).toEqual(['billing', 'sales', 'support']);
  });

  it('disabling an agent closes their open sockets at once, and they cannot log in or use an old token', async () => {
    const a2 = await TestAgent.connect(svc.url, 'a2', { password: 'pw' });
    agents.push(a2);
    const token = (await login('a2', 'pw')).body.token!;
    const told = new Promise<string>((r) => a2.client.on('auth:expired', (p) => r(p.message)));
    const res = await call('PATCH', '/api/agents/a2', boss, { disabled: true });
    expect(res.status).toBe(200);
    expect(res.body.agent).toMatchObject({ id: 'a2', disabled: true });
    expect(await told).toMatch(/disabled/);
    await waitUntil(() => !a2.client.connected, { what: 'the socket to close', timeoutMs: 5000 });
    const refused = await login('a2', 'pw');
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('account-disabled');
    expect((await call('GET', '/api/me', token)).body.error?.code).toBe('account-disabled');
    // A socket opened with the old token is refused for good (no reconnect loop).
    const again = new AgentClient({ baseUrl: svc.url, token });
    again.connect();
    try {
      await waitUntil(() => again.status.state === 'auth-failed', { what: 'the socket refused', timeoutMs: 5000 });
    } finally {
      again.close();
    }
    // The other replica agrees.
    expect((await login('a2', 'pw', other!.url)).status).toBe(403);
    // Enabled again, they log in.
    expect((await call('PATCH', '/api/agents/a2', boss, { disabled: false })).status).toBe(200);
    expect((await login('a2', 'pw')).status).toBe(200);
  });

  it("a password change ends the agent's other sessions; the new password works on every replica", async () => {
    const a3 = await TestAgent.connect(svc.url, 'a3', { password: 'pw' });
    agents.push(a3);
    const oldToken = (await login('a3', 'pw')).body.token!;
    const res = await call('PATCH', '/api/agents/a3', boss, { password: 'brand-new-pass', name: 'Agent Three B' });
    expect(res.status).toBe(200);
    expect(res.body.agent).toMatchObject({ name: 'Agent Three B' });
    await waitUntil(() => !a3.client.connected, { what: 'the socket to close', timeoutMs: 5000 });
    expect((await call('GET', '/api/me', oldToken)).body.error?.code).toBe('token-revoked');
    expect((await login('a3', 'pw')).status).toBe(401);
    expect((await login('a3', 'brand-new-pass')).status).toBe(200);
    await waitUntil(async () => (await login('a3', 'brand-new-pass', other!.url)).status === 200, {
      what: 'the other replica to see the new password',
    });
    // Teams, role and takesCalls change too.
    const moved = await call('PATCH', '/api/agents/a4', boss, {
      teams: ['sales'],
      role: 'supervisor',
      takesCalls: true,
    });
    expect(moved.body.agent).toMatchObject({ teams: ['sales'], role: 'supervisor', takesCalls: true });
  });
});

import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.js';
import { ApiError, login } from '../../src/client/api-request.js';
import type { AgentSession, CallOffered } from '../../src/shared/protocol.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, META_OFFER, testPrefix, waitUntil } from '../helpers.js';
import { settleSockets } from './console-helpers.js';

// The agent client (src/client/agent-client.ts) against the real back end: login, the session snapshot, ringing,
// first-accept-wins (with a real media node process, which placement needs), decline, acks, and what a second
// connection of the same agent sees.
describe('agent client against the real service', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  const clients: AgentClient[] = [];

  const connect = async (username: string): Promise<{ client: AgentClient; session: AgentSession }> => {
    const { token } = await login(svc.url, username, 'demo');
    const client = new AgentClient({ baseUrl: svc.url, token, heartbeatMs: 2_000 });
    clients.push(client);
    const session = client.waitFor('session');
    client.connect();
    return { client, session: await session };
  };
  const offered = (c: AgentClient, callId?: string) =>
    c.waitFor('call:offered', (p: CallOffered) => callId === undefined || p.callId === callId, 15_000);

  beforeEach(async () => {
    prefix = testPrefix();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, { CALL_ANSWER_DEADLINE_SECONDS: '30' });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await settleSockets(() => svc.core.presence.online());
    await svc.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
  });

  it('login with a wrong password throws the server message', async () => {
    const err = await login(svc.url, 'alice', 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).message).toBe('Wrong username or password.');
  });

  it('a bad token is refused at connect and reported as auth-failed', async () => {
    const client = new AgentClient({ baseUrl: svc.url, token: 'not-a-token-at-all' });
    clients.push(client);
    const expired = client.waitFor('auth:expired');
    client.connect();
    expect((await expired).message).toMatch(/log in again/);
    expect(client.status.state).toBe('auth-failed');
  });

  it('connect sends the session; presence can be set; acks resolve', async () => {
    const { client, session } = await connect('alice');
    expect(session).toMatchObject({
      agentId: 'alice',
      role: 'agent',
      presence: 'online',
      offers: [],
      activeCall: null,
    });
    expect(await client.heartbeat()).toEqual({ ok: true });
    expect(await client.setPresence('away')).toMatchObject({ ok: true, presence: 'away' });
    expect(client.presence).toBe('away');
    expect(await client.setPresence('online')).toMatchObject({ ok: true, presence: 'online' });
    const sync = await client.sync();
    expect(sync.ok && sync.session.presence).toBe('online');
  });

  it('a call rings both agents; the first accept wins, the other gets call:taken and already-taken', async () => {
    // Accepting places the call on a media node: a real one, in its own process.
    const media = await spawnRole('media', prefix, { MEDIA_DRAIN_TIMEOUT_SECONDS: '0' });
    try {
      await acceptRace();
    } finally {
      await media.stop();
    }
  });

  const acceptRace = async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const ringing = Promise.all([offered(alice.client), offered(bob.client)]);
    const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Priya' });
    const [a, b] = await ringing;
    expect(a.callId).toBe(call.callId);
    expect(b.callId).toBe(call.callId);
    expect(a.from.name).toBe('Priya');
    expect(a.from.number).not.toBe(call.from); // masked
    expect(bob.client.offers.map((o) => o.callId)).toEqual([call.callId]);

    const taken = bob.client.waitFor('call:taken', (p) => p.callId === call.callId);
    const won = await alice.client.accept(call.callId);
    expect(won).toMatchObject({ ok: true });
    expect((await taken).agentId).toBe('alice');
    expect(bob.client.offers).toEqual([]);
    expect(await bob.client.accept(call.callId)).toMatchObject({ ok: false, error: 'already-taken' });

    // A second tab of the winner gets the call back in its session.
    const again = await connect('alice');
    expect(again.session.activeCall).toMatchObject({ callId: call.callId });
    expect(await alice.client.hangup(call.callId)).toMatchObject({ ok: true });
    // Nothing answers at META_OFFER's port, so the call never went live: Meta is told once (reject before
    // pre_accept, terminate after).
    await waitUntil(() => sim.okActions(call.callId, 'reject') + sim.okActions(call.callId, 'terminate') === 1, {
      what: 'the end at Meta',
    });
  };

  it('decline withdraws the offer from the decliner only', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const ringing = Promise.all([offered(alice.client), offered(bob.client)]);
    const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Priya' });
    await ringing;
    const withdrawn = bob.client.waitFor('call:withdrawn', (p) => p.callId === call.callId);
    expect(await bob.client.decline(call.callId)).toMatchObject({ ok: true });
    expect((await withdrawn).reason).toBe('declined');
    const sync = await alice.client.sync();
    expect(sync.ok && sync.session.offers.map((o) => o.callId)).toEqual([call.callId]);
    await waitUntil(async () => {
      const s = await bob.client.sync();
      return s.ok && s.session.offers.length === 0;
    });
  });

  it('after a dropped connection it reconnects by itself and gets the session back, offers included', async () => {
    // Every websocket upgrade on the service, so the test can cut them like a network failure would.
    const sockets: Duplex[] = [];
    const onUpgrade = (_req: unknown, socket: Duplex) => sockets.push(socket);
    svc.http.server.on('upgrade', onUpgrade);
    try {
      const { client } = await connect('alice');
      const ringing = offered(client);
      const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Priya' });
      await ringing;
      const states: string[] = [];
      client.on('connection', (s) => states.push(s.state));
      const withdrawn: string[] = [];
      client.on('call:withdrawn', (p) => withdrawn.push(p.callId));
      // A dropped connection gets 3 s to come back before the agent's ringing calls move on; this one is back
      // at once, so the call is still ringing for alice and comes with the new session.
      const resynced = client.waitFor('session', () => true, 15_000);
      for (const s of sockets.splice(0)) s.destroy();
      const session = await resynced;
      expect(states).toEqual(['reconnecting', 'connected']);
      expect(client.status.connects).toBe(2);
      expect(session.offers.map((o) => o.callId)).toEqual([call.callId]);
      expect(client.offers.map((o) => o.callId)).toEqual([call.callId]);
      expect(await client.heartbeat()).toEqual({ ok: true });
      // Past the grace, the offer stands: alice came back in time.
      await new Promise((r) => setTimeout(r, 3_500));
      expect(withdrawn).toEqual([]);
      const sync = await client.sync();
      expect(sync.ok && sync.session.offers.map((o) => o.callId)).toEqual([call.callId]);
    } finally {
      svc.http.server.off('upgrade', onUpgrade);
    }
  });

  it('acts fail fast with disconnected when the socket is closed', async () => {
    const { client } = await connect('carol');
    client.close();
    expect(await client.accept('wacid.x')).toMatchObject({ ok: false, error: 'disconnected' });
  });
});

/**
 * Blind transfer end to end with real peers: the simulator's caller (440 Hz) ↔ a media node process ↔ Node agents
 * (alice 660 Hz, bob 880 Hz) over the agent protocol. What each end hears is checked by frequency before and after;
 * Meta sees one pre_accept and one accept for the whole call. Bad requests get clear acks and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import type { TestAgent } from '../../src/testing/agent-harness.js';
import type { EventsReceiver } from '../../src/testing/events-receiver.js';
import type { NodeAgentPeer } from '../../src/testing/node-agent-peer.js';
import { type AgentsStack, type InProcessService, startAgentsStack } from '../harness.js';
import { fetchCall, waitUntil } from '../helpers.js';

const CALLER_HZ = 440;
const ALICE_HZ = 660;
const BOB_HZ = 880;
const near = (hz: number | null | undefined, want: number) => hz != null && Math.abs(hz - want) <= 25;

describe('blind transfer (real calls, media node, agents over Socket.IO)', () => {
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: AgentsStack;
  let alice: TestAgent;
  let bob: TestAgent;
  let sam: string;
  let receiver: EventsReceiver;

  const hears = (who: string, peer: { report(): { inbound: { dominantHz: number | null } } }, hz: number) =>
    waitUntil(() => near(peer.report().inbound.dominantHz, hz), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: `${who} to hear ${hz} Hz (hears ${peer.report().inbound.dominantHz})`,
    });
  const presenceOf = async (id: string) => {
    const res = await fetch(`${svc.url}/api/agents`, { headers: { authorization: `Bearer ${sam}` } });
    return ((await res.json()) as { agents: { id: string; presence: string }[] }).agents.find((a) => a.id === id)
      ?.presence;
  };

  /** The caller hears something that is neither agent's tone: the hold music. */
  const hearsMusic = (peer: { report(): { inbound: { dominantHz: number | null } } }) => {
    const hz = peer.report().inbound.dominantHz;
    return hz !== null && !near(hz, ALICE_HZ) && !near(hz, BOB_HZ);
  };
  const offersOf = (agent: TestAgent, callId: string) => agent.offers.filter((o) => o.callId === callId).length;
  /** Waits for an offer of `callId` to `agent` beyond the `seen` ones (the first ring-all offer counts too). */
  const offeredAgain = (agent: TestAgent, callId: string, seen: number) =>
    waitUntil(() => offersOf(agent, callId) > seen, { timeoutMs: 20_000, what: `${agent.id} offered ${callId}` });

  /** alice answers a new call; resolves once audio flows both ways. */
  const aliceOnCall = async (): Promise<{ call: SimCall; caller: CallerPeer; peer: NodeAgentPeer }> => {
    const { call } = await sim.placeCall({ name: 'Priya' });
    await alice.offered(call.callId);
    expect((await alice.client.accept(call.callId)).ok).toBe(true);
    const peer = await alice.startMedia(call.callId, { toneHz: ALICE_HZ, watchHz: [CALLER_HZ] });
    await call.waitFor('accepted', 20_000);
    const caller = call.caller as CallerPeer;
    await hears('the caller', caller, ALICE_HZ);
    await hears('alice', peer, CALLER_HZ);
    return { call, caller, peer };
  };

  beforeAll(async () => {
    // Transfers need browser legs by id and the routing table: the forwarding engine.
    stack = await startAgentsStack({
      sim: {
        callerFactory: createCallerFactory({ toneHz: CALLER_HZ, watchHz: [ALICE_HZ, BOB_HZ] }),
        mediaWatchdogMs: 30_000,
      },
      env: { WRAP_UP_SECONDS: '0', AGENT_RING_TIMEOUT_SECONDS: '4' },
      mediaEnv: { MEDIA_ENGINE: 'forward' },
      eventsSecret: 'events-secret-for-tests-0123',
    });
    ({ sim, svc, alice, bob, sam, receiver } = stack);
  });
  afterAll(() => stack?.stop());

  it('alice transfers to bob: the caller hears alice, then bob; bob hears the caller; Meta hears nothing of it', async () => {
    const { call, caller, peer: alicePeer } = await aliceOnCall();
    const seen = offersOf(bob, call.callId);
    const transferred = await alice.client.transfer(call.callId, { agentId: 'bob' });
    expect(transferred).toMatchObject({ ok: true, state: 'transferring' });
    await offeredAgain(bob, call.callId, seen);
    // While bob rings the caller hears the music, no longer alice.
    await waitUntil(() => hearsMusic(caller), { what: 'the caller to hear music while bob rings' });
    expect((await bob.client.accept(call.callId)).ok).toBe(true);
    // alice is off the call and free at once; bob is on it.
    await waitUntil(() => alice.ended.some((e) => e.callId === call.callId && e.reason === 'transferred'), {
      what: 'call:ended transferred at alice',
    });
    alicePeer.close();
    const bobPeer = await bob.startMedia(call.callId, { toneHz: BOB_HZ, watchHz: [CALLER_HZ, ALICE_HZ] });
    await waitUntil(() => bob.live.includes(call.callId), { what: 'call:live at bob' });
    await hears('the caller', caller, BOB_HZ);
    await hears('bob', bobPeer, CALLER_HZ);
    // alice's tone reaches nobody any more.
    expect(near(caller.report().inbound.dominantHz, ALICE_HZ)).toBe(false);
    expect(await presenceOf('alice')).toBe('online');
    expect(await presenceOf('bob')).toBe('busy');

    const d = await fetchCall(svc.url, sam, call.callId);
    expect(d).toMatchObject({ state: 'live', agentId: 'bob' });
    expect(d.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['AGENT.TRANSFER']));
    expect(sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual(['pre_accept:200', 'accept:200']);
    // Outside systems hear of it, signed.
    const ev = await waitUntil(
      () => receiver.received.find((r) => r.body?.type === 'call.transferred' && r.body.call.id === call.callId),
      { what: 'call.transferred event' },
    );
    expect(ev.signatureOk).toBe(true);
    expect(ev.body!.call).toMatchObject({ agentId: 'bob', transfer: { from: 'alice', to: { agentId: 'bob' } } });

    expect((await bob.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    expect((await fetchCall(svc.url, sam, call.callId)).reason).toBe('completed');
    bobPeer.close();
  });

  it('a transfer nobody answers comes back to alice, who was still on the call and still hears the caller', async () => {
    const { call, caller, peer } = await aliceOnCall();
    const statuses: string[] = [];
    const off = alice.client.on('call:transfer', (p) => {
      if (p.callId === call.callId) statuses.push(p.status);
    });
    const seen = offersOf(bob, call.callId);
    expect((await alice.client.transfer(call.callId, { agentId: 'bob' })).ok).toBe(true);
    await offeredAgain(bob, call.callId, seen);
    await waitUntil(() => statuses.includes('returned'), { timeoutMs: 15_000, what: 'the transfer to come back' });
    off();
    expect(bob.withdrawn.some((w) => w.callId === call.callId && w.reason === 'expired')).toBe(true);
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'live', agentId: 'alice' });
    await hears('the caller', caller, ALICE_HZ);
    await hears('alice', peer, CALLER_HZ);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    peer.close();
  });

  it('a transfer nobody answers after alice left goes to the team: bob is offered it again and takes it', async () => {
    const { call, caller, peer } = await aliceOnCall();
    const seen = offersOf(bob, call.callId);
    expect((await alice.client.transfer(call.callId, { team: 'support' })).ok).toBe(true);
    await offeredAgain(bob, call.callId, seen);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    expect(alice.ended.find((e) => e.callId === call.callId)?.reason).toBe('transferred');
    peer.close();
    // The first round rings out; routing offers the team's available agents again.
    await offeredAgain(bob, call.callId, seen + 1);
    expect((await bob.client.accept(call.callId)).ok).toBe(true);
    const bobPeer = await bob.startMedia(call.callId, { toneHz: BOB_HZ, watchHz: [CALLER_HZ] });
    await hears('the caller', caller, BOB_HZ);
    await hears('bob', bobPeer, CALLER_HZ);
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'live', agentId: 'bob' });
    expect((await bob.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    bobPeer.close();
  });

  it('a consult completed: the caller holds while alice and bob talk, then the caller is with bob', async () => {
    const { call, caller, peer: alicePeer } = await aliceOnCall();
    const seen = offersOf(bob, call.callId);
    expect(await alice.client.consult(call.callId, 'bob')).toMatchObject({ ok: true, state: 'consulting' });
    // On hold: the caller hears the music, neither agent.
    await waitUntil(() => hearsMusic(caller), { what: 'the caller on hold with music' });
    await offeredAgain(bob, call.callId, seen);
    expect((await bob.client.accept(call.callId)).ok).toBe(true);
    const bobPeer = await bob.startMedia(call.callId, { toneHz: BOB_HZ, watchHz: [CALLER_HZ, ALICE_HZ] });
    await hears('alice', alicePeer, BOB_HZ);
    await hears('bob', bobPeer, ALICE_HZ);
    expect(hearsMusic(caller)).toBe(true);
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'consulting', agentId: 'alice' });

    expect(await alice.client.consultComplete(call.callId)).toMatchObject({ ok: true, state: 'live' });
    await waitUntil(() => alice.ended.some((e) => e.callId === call.callId && e.reason === 'transferred'), {
      what: 'alice off the call',
    });
    alicePeer.close();
    await hears('the caller', caller, BOB_HZ);
    await hears('bob', bobPeer, CALLER_HZ);
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'live', agentId: 'bob' });
    expect(sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept']);
    expect((await bob.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    bobPeer.close();
  });

  it('a consult cancelled: bob leaves and the caller is back with alice', async () => {
    const { call, caller, peer: alicePeer } = await aliceOnCall();
    const seen = offersOf(bob, call.callId);
    // Completing before bob answered is refused; the consult goes on.
    expect((await alice.client.consult(call.callId, 'bob')).ok).toBe(true);
    expect(await alice.client.consultComplete(call.callId)).toMatchObject({ ok: false, error: 'wrong-state' });
    expect(await bob.client.consultCancel(call.callId)).toMatchObject({ ok: false, error: 'wrong-state' });
    await offeredAgain(bob, call.callId, seen);
    expect((await bob.client.accept(call.callId)).ok).toBe(true);
    const bobPeer = await bob.startMedia(call.callId, { toneHz: BOB_HZ, watchHz: [ALICE_HZ] });
    await hears('alice', alicePeer, BOB_HZ);

    expect(await alice.client.consultCancel(call.callId)).toMatchObject({ ok: true, state: 'live' });
    await waitUntil(() => bob.ended.some((e) => e.callId === call.callId && e.reason === 'consult-ended'), {
      what: 'bob off the call',
    });
    bobPeer.close();
    await hears('the caller', caller, ALICE_HZ);
    await hears('alice', alicePeer, CALLER_HZ);
    expect(await fetchCall(svc.url, sam, call.callId)).toMatchObject({ state: 'live', agentId: 'alice' });
    await waitUntil(async () => (await presenceOf('bob')) === 'online', { what: 'bob free again' });
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    alicePeer.close();
  });

  it('bad transfers get a clear ack error and change nothing', async () => {
    const { call, peer } = await aliceOnCall();
    const seen = offersOf(bob, call.callId);
    const before = await fetchCall(svc.url, sam, call.callId);
    const cases: [TestAgent, unknown, string][] = [
      [alice, { agentId: 'zed' }, 'unknown-agent'],
      [alice, { agentId: 'carol' }, 'agent-offline'],
      [alice, { agentId: 'alice' }, 'bad-target'],
      [alice, { team: 'nobody-here' }, 'unknown-team'],
      [bob, { agentId: 'bob' }, 'not-your-call'],
      [alice, { agentId: 'bob', extra: 1 }, 'bad-request'],
    ];
    for (const [who, to, error] of cases) {
      const res = await who.client.transfer(call.callId, to as { agentId: string });
      expect(res, JSON.stringify(to)).toMatchObject({ ok: false, error });
      expect((res as { message: string }).message.length).toBeGreaterThan(5);
    }
    expect(await alice.client.transfer('wacid.nope', { agentId: 'bob' })).toMatchObject({
      ok: false,
      error: 'unknown-call',
    });
    const after = await fetchCall(svc.url, sam, call.callId);
    expect(after).toMatchObject({ state: 'live', agentId: 'alice', version: before.version });
    expect(offersOf(bob, call.callId)).toBe(seen);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    peer.close();
  });
});

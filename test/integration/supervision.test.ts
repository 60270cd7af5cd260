/**
 * Supervisor listen and whisper end to end on the forwarding engine: the simulator's caller (440 Hz) ↔ a media node
 * ↔ alice (660 Hz; a second receive track for whispers) and the supervisor's leg (1000 Hz microphone, two receive
 * tracks). Each sound is checked where it must be heard and where it must not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { NodeAgentPeer } from '../../src/testing/node-agent-peer.js';
import { type ChildService, type InProcessService, newSimulator, spawnRole, startInProcess } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, testPrefix, waitUntil } from '../helpers.js';

const CALLER_HZ = 440;
const AGENT_HZ = 660;
const SUP_HZ = 1000;
const near = (hz: number | null | undefined, want: number) => hz != null && Math.abs(hz - want) <= 25;
type Hears = () => number | null;

describe('supervisor listen and whisper (forward engine, real peers)', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let media: ChildService;
  let alice: TestAgent;
  let sam: TestAgent;
  let samToken: string;

  const hears = (who: string, read: Hears, hz: number) =>
    waitUntil(() => near(read(), hz), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: `${who} to hear ${hz} Hz (${read()})`,
    });
  /** Over ~1.5 s, `read` never reports `hz` (sampled every 100 ms). */
  const neverHears = async (who: string, read: Hears, hz: number) => {
    for (let i = 0; i < 15; i++) {
      expect(near(read(), hz), `${who} must not hear ${hz} Hz`).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    prefix = testPrefix();
    sim = newSimulator({
      callerFactory: createCallerFactory({ toneHz: CALLER_HZ, watchHz: [AGENT_HZ, SUP_HZ] }),
      mediaWatchdogMs: 30_000,
    });
    await sim.start();
    svc = await startInProcess(prefix, sim, { WRAP_UP_SECONDS: '0' });
    media = await spawnRole('media', prefix, { MEDIA_ENGINE: 'forward' });
    alice = await TestAgent.connect(svc.url, 'alice');
    sam = await TestAgent.connect(svc.url, 'sam');
    samToken = await loginToken(svc.url, 'sam', 'demo');
  });
  afterAll(async () => {
    alice?.close();
    sam?.close();
    await media?.stop();
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('the supervisor hears both sides; whispering reaches the agent only; stop ends it', async () => {
    const { call } = await sim.placeCall({ name: 'Priya' });
    await alice.offered(call.callId);
    expect((await alice.client.accept(call.callId)).ok).toBe(true);
    const agentPeer = await alice.startMedia(call.callId, {
      toneHz: AGENT_HZ,
      watchHz: [CALLER_HZ],
      secondTrack: { watchHz: [SUP_HZ] },
    });
    await call.waitFor('accepted', 20_000);
    const caller = call.caller as CallerPeer;
    const callerHears = () => caller.report().inbound.dominantHz;
    const agentHears = () => agentPeer.report().inbound.dominantHz;
    const agentHearsWhisper = () => agentPeer.secondReport().inbound.dominantHz;
    await hears('the caller', callerHears, AGENT_HZ);
    await hears('alice', agentHears, CALLER_HZ);

    // Agents cannot monitor; nor can anyone monitor a call that does not exist.
    expect(await alice.client.monitor(call.callId, 'listen')).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await sam.client.monitor('wacid.nope', 'listen')).toMatchObject({ ok: false, error: 'unknown-call' });
    // Audio before listening is refused.
    expect(await sam.client.sendLegOffer(call.callId, 'v=0 not yet')).toMatchObject({
      ok: false,
      error: 'wrong-state',
    });

    // Listen: one leg, two tracks: the caller on the first, the agent on the second.
    expect((await sam.client.monitor(call.callId, 'listen')).ok).toBe(true);
    const supPeer = await NodeAgentPeer.create({
      toneHz: SUP_HZ,
      watchHz: [CALLER_HZ],
      secondTrack: { watchHz: [AGENT_HZ] },
      name: 'sam',
    });
    const offAnswer = sam.client.on('rtc:answer', (p) => {
      if (p.callId === call.callId && p.legId === 'sup:sam') void supPeer.applyAnswer(p.sdp).catch(() => undefined);
    });
    const offCand = sam.client.on('rtc:candidate', (p) => {
      if (p.callId === call.callId && p.legId === 'sup:sam' && p.candidate) {
        void supPeer.addCandidate({
          candidate: p.candidate.candidate,
          sdpMid: p.candidate.sdpMid ?? null,
          sdpMLineIndex: p.candidate.sdpMLineIndex ?? null,
        });
      }
    });
    expect((await sam.client.sendLegOffer(call.callId, supPeer.offerSdp)).ok).toBe(true);
    supPeer.trickle((c) => void sam.client.sendLegCandidate(call.callId, c));
    await supPeer.waitConnected(15_000);
    await hears('the supervisor (first track)', () => supPeer.report().inbound.dominantHz, CALLER_HZ);
    await hears('the supervisor (second track)', () => supPeer.secondReport().inbound.dominantHz, AGENT_HZ);
    // Nobody hears the supervisor while they listen.
    await neverHears('the caller', callerHears, SUP_HZ);
    await neverHears('alice', agentHearsWhisper, SUP_HZ);
    await neverHears('alice', agentHears, SUP_HZ);

    // Whisper: alice hears the supervisor on her second track; the caller still never does.
    expect((await sam.client.monitor(call.callId, 'whisper')).ok).toBe(true);
    await hears('alice (whisper track)', agentHearsWhisper, SUP_HZ);
    await hears('alice (caller track)', agentHears, CALLER_HZ);
    await neverHears('the caller', callerHears, SUP_HZ);
    expect(near(callerHears(), AGENT_HZ)).toBe(true);
    await hears('the supervisor (second track)', () => supPeer.secondReport().inbound.dominantHz, AGENT_HZ);

    // Stop: the supervisor's leg closes; alice's whisper track goes quiet.
    expect((await sam.client.monitor(call.callId, 'stop')).ok).toBe(true);
    await waitUntil(() => agentHearsWhisper() === null, { timeoutMs: 10_000, what: 'the whisper track to go quiet' });
    await hears('alice', agentHears, CALLER_HZ);

    const d = await fetchCall(svc.url, samToken, call.callId);
    const monitoring = d.timeline.filter((t) => t.event === 'SUP.MONITOR').map((t) => t.detail);
    expect(monitoring).toEqual(['by=sam mode=listen', 'by=sam mode=whisper', 'by=sam mode=stop']);
    // Meta heard nothing of it.
    expect(sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept']);

    offAnswer();
    offCand();
    supPeer.close();
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    agentPeer.close();
  });
});

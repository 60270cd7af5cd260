/**
 * A callback from the queue, end to end on the forward engine: a caller waiting in the support queue (nobody free)
 * presses 9 (RFC 4733 from the keypad caller): the call hears the confirmation and ends politely, a callback task
 * takes the caller's place; when an agent comes online it is offered, the agent accepts, and the system dials the
 * caller back (permission from the caller's own call: the business has callback permission on) with audio both ways.
 * Without that permission the accepting agent is told a permission request went out, and the task keeps waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { nowMs } from '../../src/rtc/clock.js';
import type { KeypadCaller } from '../../src/sim/keypad-caller.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type InProcessService, startKeypadStack, type TestStack } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, testPrefix, waitForCallState, waitUntil } from '../helpers.js';

const near = (hz: number | null | undefined, want: number) =>
  hz !== null && hz !== undefined && Math.abs(hz - want) <= 25;

describe('a callback from the queue', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let sam: string;

  beforeAll(async () => {
    prefix = testPrefix();
    stack = await startKeypadStack(prefix, {
      env: { ROUTING_FILE: 'test/fixtures/routing.queue.json', WRAP_UP_SECONDS: '0' },
    });
    ({ sim, svc } = stack);
    sim.business.callbackPermission = true;
    sam = await loginToken(svc.url, 'sam', 'demo');
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  const detail = (id: string) => fetchCall(svc.url, sam, id);

  /** A caller waits in the queue, presses 9 and hears the call end; the call is returned once it has ended. */
  const askForCallback = async (name: string, from: string) => {
    const { call } = await sim.placeCall({ name, from });
    await call.waitFor('accepted', 15_000);
    const caller = call.caller as KeypadCaller;
    await waitUntil(() => caller.connected, { what: 'the caller leg' });
    await waitUntil(async () => (await detail(call.callId)).state === 'queued', { what: 'queued' });
    await caller.sendDtmf('9');
    await call.waitFor('ended', 30_000);
    return call;
  };

  it('the caller presses 9, hangs up politely, keeps their place, and an agent who comes online calls them back', async () => {
    const from = '447700900777';
    // The same person answers the callback on their phone: a 880 Hz voice, listening for the agent's 660 Hz.
    sim.business.addUser(from, { toneHz: 880, watchHz: [660], answerAfterMs: 1000 });
    // The call ends politely: the confirmation plays, then the business ends it.
    const call = await askForCallback('Waiting Caller', from);
    expect(call.endedBy).toBe('business');
    const ended = await waitForCallState(svc.url, sam, call.callId, 'ended');
    expect(ended.reason).toBe('callback-requested');
    expect(ended.timeline.some((t) => t.event === 'MEDIA.PLAY_ENDED' && t.detail?.includes('goodbye'))).toBe(true);

    // The callback task waits in the support queue with the caller's place.
    const cbId = `cb.${call.callId}`;
    await waitUntil(async () => (await detail(cbId)).state === 'callback-queued', { what: 'the callback task' });
    expect(sim.actions.some((a) => a.action === 'connect')).toBe(false);

    // An agent comes online: offered the callback, accepts, the caller is dialled.
    const alice = await TestAgent.connect(svc.url, 'alice');
    try {
      await alice.offered(cbId, 30_000);
      const acked = await alice.client.accept(cbId);
      expect(acked.ok).toBe(true);
      const peer = await alice.startMedia(cbId, { toneHz: 660, watchHz: [880] });
      await waitUntil(() => alice.live.includes(cbId), { what: 'the callback live', timeoutMs: 60_000 });
      const back = [...sim.calls.values()].find((c) => c.direction === 'BUSINESS_INITIATED' && c.to === from)!;
      expect(back.state).toBe('accepted');
      await new Promise((r) => setTimeout(r, 2000));
      const until = nowMs();
      await drainAnalysis();
      const atUser = back.user!.report({ since: back.acceptedAt!, until }).inbound;
      const atAgent = peer.report({ since: back.acceptedAt!, until }).inbound;
      expect(near(atUser.dominantHz, 660), `agent → caller: ${atUser.dominantHz} Hz`).toBe(true);
      expect(near(atAgent.dominantHz, 880), `caller → agent: ${atAgent.dominantHz} Hz`).toBe(true);
      // Permission came from the caller's own call: no request message went out.
      expect(sim.business.permissionRequests.filter((r) => r.to === from)).toEqual([]);
      expect((await alice.client.hangup(cbId)).ok).toBe(true);
      await back.waitFor('ended', 10_000);
    } finally {
      alice.close();
    }
  }, 180_000);

  it("without permission from the caller's call, the accepting agent is told a request went out, nothing is dialled, and the task keeps its place", async () => {
    sim.business.callbackPermission = false;
    const from = '447700900778';
    sim.business.addUser(from, { answerAfterMs: 1000 });
    const call = await askForCallback('Caller Without Permission', from);
    const cbId = `cb.${call.callId}`;
    await waitUntil(async () => (await detail(cbId)).state === 'callback-queued', { what: 'the callback task' });

    const alice = await TestAgent.connect(svc.url, 'alice');
    try {
      await alice.offered(cbId, 30_000);
      expect(await alice.client.accept(cbId)).toMatchObject({ ok: false, error: 'no-permission' });
      // The request went out to the caller's number, no call was attempted, and the task still waits.
      expect(sim.business.permissionRequests.filter((r) => r.to === from)).toHaveLength(1);
      expect([...sim.calls.values()].some((c) => c.direction === 'BUSINESS_INITIATED' && c.to === from)).toBe(false);
      expect((await detail(cbId)).state).toBe('callback-queued');
    } finally {
      alice.close();
      await fetch(`${svc.url}/api/calls/${encodeURIComponent(cbId)}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sam}`, 'content-type': 'application/json' },
        body: '{}',
      });
    }
  }, 120_000);
});

/**
 * Call events for outside systems, end to end: a real call (simulator caller ↔ media node ↔ Node agent) raises
 * received → offered → answered → ended; each is POSTed, signed, to two receivers. One fails (503) and the other
 * hangs (never answers) while the call runs: the call is not held up, and once both recover every event arrives,
 * accepted once per id, with a valid signature on every request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEvent, verifyEventSignature } from '../../src/events/call-events.js';
import { loadConfig } from '../../src/shared/config.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { EventsReceiver } from '../../src/testing/events-receiver.js';
import { type InProcessService, startStack, type TestStack } from '../harness.js';
import { cleanupPrefix, takeLiveCall, testPrefix, waitUntil } from '../helpers.js';

const SECRET = 'events-secret-for-tests-0123';

describe('call events webhook (real call, real BullMQ worker, two receivers)', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let alice: TestAgent;
  let flaky: EventsReceiver;
  let slow: EventsReceiver;

  beforeAll(async () => {
    prefix = testPrefix();
    flaky = await new EventsReceiver(SECRET).start();
    slow = await new EventsReceiver(SECRET).start();
    stack = await startStack(prefix, {
      sim: { callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 20_000 },
      env: {
        WRAP_UP_SECONDS: '0',
        EVENTS_WEBHOOK_URL: `${flaky.url},${slow.url}`,
        EVENTS_WEBHOOK_SECRET: SECRET,
        EVENTS_WEBHOOK_TIMEOUT_MS: '500',
        EVENTS_WEBHOOK_BACKOFF_MS: '100',
        EVENTS_WEBHOOK_ATTEMPTS: '40',
      },
    });
    ({ sim, svc } = stack);
    alice = await TestAgent.connect(svc.url, 'alice');
  });
  afterAll(async () => {
    alice?.close();
    await stack?.stop();
    await flaky?.stop();
    await slow?.stop();
    await cleanupPrefix(prefix);
  });

  it('every event reaches both receivers signed, once per id, though one failed and one hung during the call', async () => {
    flaky.mode = 'fail';
    slow.mode = 'hang';
    const { call } = await sim.placeCall({ name: 'Priya' });
    await takeLiveCall(alice, call);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);

    // The call went live and ended while neither receiver had accepted a single event.
    expect(flaky.acceptedIds).toEqual([]);
    expect(slow.acceptedIds).toEqual([]);
    await waitUntil(() => flaky.received.length >= 4 && slow.received.length >= 2, { what: 'failed attempts' });

    flaky.mode = 'ok';
    slow.mode = 'ok';
    const want = ['call.received', 'call.offered', 'call.answered', 'call.ended'];
    for (const r of [flaky, slow]) {
      await waitUntil(() => r.acceptedIds.length >= want.length, { timeoutMs: 60_000, what: 'every event accepted' });
      const accepted = r.received.filter((x) => x.status === 200).map((x) => x.body!);
      expect(new Set(accepted.map((b) => b.id)).size).toBe(accepted.length);
      expect(accepted.map((b) => b.type).sort()).toEqual([...want].sort());
      for (const b of accepted) expect(b.call.id).toBe(call.callId);
      const ended = accepted.find((b) => b.type === 'call.ended')!;
      expect(ended.call).toMatchObject({ reason: 'completed', endedBy: 'agent', agentId: 'alice' });
      expect(accepted.find((b) => b.type === 'call.offered')!.call.offer).toEqual({ agentIds: ['alice'] });
      // Every request, failed or not, carried a valid signature over its raw body, and retries sent the same bytes.
      expect(r.received.every((x) => x.signatureOk)).toBe(true);
      const bodies = new Map<string, Set<string>>();
      for (const x of r.received) bodies.set(x.body!.id, (bodies.get(x.body!.id) ?? new Set()).add(x.raw));
      for (const raws of bodies.values()) expect(raws.size).toBe(1);
    }
    // Retries really happened, and the deliveries are jobs an operator sees in Bull Board.
    expect(flaky.received.length).toBeGreaterThan(want.length);
    const counts = await svc.core.queues.events.getJobCounts('completed', 'failed');
    expect(counts.completed).toBe(2 * want.length);
    expect(counts.failed).toBe(0);
    // Same ids at both receivers: they name the event, not the delivery.
    expect(new Set(flaky.acceptedIds)).toEqual(new Set(slow.acceptedIds));
  });

  it('replaying an effect adds no second delivery (the job id is the event id and the URL)', async () => {
    const before = await svc.core.queues.events.getJobCounts('completed', 'waiting', 'delayed', 'active');
    const body = flaky.received.find((x) => x.status === 200)!.body!;
    await svc.core.queues.addEventDelivery({ eventId: body.id, type: body.type, url: flaky.url, body: '{}' });
    const after = await svc.core.queues.events.getJobCounts('completed', 'waiting', 'delayed', 'active');
    expect(after).toEqual(before);
  });

  it('a receiver tells a forged or altered event from a real one', () => {
    const raw = JSON.stringify({ id: 'x', type: 'call.ended', at: 1, call: {} });
    expect(verifyEventSignature(raw, signEvent(raw, SECRET), SECRET)).toBe(true);
    expect(verifyEventSignature(raw, signEvent(raw, 'another-secret-0000000'), SECRET)).toBe(false);
    expect(verifyEventSignature(raw.replace('ended', 'offered'), signEvent(raw, SECRET), SECRET)).toBe(false);
    expect(verifyEventSignature(raw, undefined, SECRET)).toBe(false);
  });

  it('configuration: URLs without a secret, or a URL that is not http(s), is refused with the variable named', () => {
    const base = { PATH: process.env.PATH, CONSOLE_BUILD: 'never' };
    expect(() => loadConfig({ ...base, EVENTS_WEBHOOK_URL: 'http://127.0.0.1:1/e' })).toThrow(/EVENTS_WEBHOOK_SECRET/);
    expect(() => loadConfig({ ...base, EVENTS_WEBHOOK_URL: 'ftp://x/e', EVENTS_WEBHOOK_SECRET: SECRET })).toThrow(
      /EVENTS_WEBHOOK_URL/,
    );
    expect(
      loadConfig({
        ...base,
        EVENTS_WEBHOOK_URL: 'http://127.0.0.1:1/a, http://127.0.0.1:2/b',
        EVENTS_WEBHOOK_SECRET: SECRET,
      }).events.urls,
    ).toEqual(['http://127.0.0.1:1/a', 'http://127.0.0.1:2/b']);
  });
});

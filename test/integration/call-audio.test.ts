/**
 * A whole call with real media: the simulator's caller (wrtc, 440 Hz + markers) ↔ a media node in its own process
 * ↔ a Node agent (wrtc, 660 Hz + markers) driven through the agent protocol. Audio is checked by frequency and by
 * markers, in both directions, on each media engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBothWays } from '../../src/audio/audio-peer.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type InProcessService, startStack, type TestStack } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

/** A stall of this process this long or longer (both rig peers live here) makes a call's figures the rig's. */
const RIG_STALL_MS = 300;

const near = (hz: number | null | undefined, want: number) =>
  hz !== null && hz !== undefined && Math.abs(hz - want) <= 25;

describe.each(['forward', 'wrtc'] as const)('a bridged call with audio both ways on the %s engine', (engine) => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  let alice: TestAgent;
  let supervisorToken: string;

  const detail = async (id: string) => {
    const res = await fetch(`${svc.url}/api/calls/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${supervisorToken}` },
    });
    return (await res.json()) as CallDetail;
  };

  /** Places a call, alice accepts and opens her leg; resolves when Meta (the simulator) has accepted. */
  const connectCall = async (opts: { markers?: boolean } = {}) => {
    const { call } = await sim.placeCall({ name: 'Priya' });
    await alice.offered(call.callId);
    const acked = await alice.client.accept(call.callId);
    expect(acked.ok).toBe(true);
    const peer = await alice.startMedia(call.callId, { markers: opts.markers ?? true, watchHz: [440] });
    await call.waitFor('accepted', 20_000);
    return { call, caller: call.caller as CallerPeer, peer };
  };

  beforeAll(async () => {
    prefix = testPrefix();
    stack = await startStack(prefix, {
      sim: {
        callerFactory: createCallerFactory({ markers: true, watchHz: [660] }),
        mediaWatchdogMs: 20_000,
      },
      env: { WRAP_UP_SECONDS: '0', SHOW_DTMF: '1' },
      mediaEnv: { MEDIA_ENGINE: engine },
    });
    ({ sim, svc } = stack);
    alice = await TestAgent.connect(svc.url, 'alice');
    supervisorToken = await loginToken(svc.url, 'sam', 'demo');
  });
  afterAll(async () => {
    alice?.close();
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  it('relays the caller to the agent and the agent to the caller, then the agent hangs up', async () => {
    const { call, caller, peer } = await connectCall();
    await waitUntil(() => alice.live.includes(call.callId), { what: 'call:live' });
    const { atAgent, atCaller } = await measureBothWays(caller, peer, {
      since: call.acceptedAt!,
      firstMs: 2500,
      minExpected: 15,
    });
    expect(near(atAgent.dominantHz, 440)).toBe(true);
    expect(near(atCaller.dominantHz, 660)).toBe(true);
    expect(atAgent.markers?.missing).toEqual([]);
    expect(atAgent.markers?.expected).toBeGreaterThanOrEqual(15);

    // Meta's order was pre_accept then accept, with the same SDP, each once.
    expect(sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual(['pre_accept:200', 'accept:200']);

    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    expect(call.endedBy).toBe('business');
    expect(sim.okActions(call.callId, 'terminate')).toBe(1);
    await waitUntil(() => caller.connectionState === 'closed', { what: 'caller leg closed' });
    const d = await waitUntil(
      async () => {
        const x = await detail(call.callId);
        return x.state === 'ended' && x.timeline.some((t) => t.event === 'MEDIA.STATS_FINAL') ? x : undefined;
      },
      { what: 'ended with stats' },
    );
    expect(d.reason).toBe('completed');
    expect(d.endedBy).toBe('agent');
    const last = d.stats.at(-1)!;
    expect(last.whatsapp?.packetsReceived).toBeGreaterThan(50);
    expect(last.agent?.packetsReceived).toBeGreaterThan(50);
    expect(last.whatsapp?.mos).toBeGreaterThan(3.5);
  });

  it('the caller hanging up closes the agent leg', async () => {
    const { call, peer } = await connectCall({ markers: false });
    await waitUntil(() => alice.live.includes(call.callId), { what: 'call:live' });
    await peer.waitConnected();
    await sim.hangup(call.callId);
    await waitUntil(() => alice.ended.some((e) => e.callId === call.callId), { what: 'call:ended at the agent' });
    expect(alice.ended.find((e) => e.callId === call.callId)?.reason).toBe('completed');
    await waitUntil(() => ['closed', 'failed', 'disconnected'].includes(peer.connectionState), {
      what: 'agent leg closed',
      timeoutMs: 15_000,
    });
    // The caller already hung up: nothing more is sent to Meta.
    expect(sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept']);
  });

  // The simulator's caller (wrtc) can only play keys as tones; the forward engine reads RFC 4733 events instead
  // (test/media/forward-switch.test.ts).
  it.runIf(engine === 'wrtc')(
    "the caller's DTMF keys reach the call as events (detected in the decoded audio)",
    async () => {
      const { call, caller } = await connectCall({ markers: false });
      await waitUntil(() => alice.live.includes(call.callId), { what: 'call:live' });
      await caller.sendDtmf('12#');
      const d = await waitUntil(
        async () => {
          const x = await detail(call.callId);
          return x.dtmf.includes('12#') ? x : undefined;
        },
        { what: 'dtmf on the call', timeoutMs: 10_000 },
      );
      expect(d.timeline.filter((t) => t.event === 'MEDIA.DTMF').map((t) => t.detail)).toEqual([
        'digit=1',
        'digit=2',
        'digit=#',
      ]);
      await alice.client.hangup(call.callId);
      await call.waitFor('ended', 10_000);
    },
  );

  it('zero clipped markers after accept over 20 calls', async () => {
    const rows: string[] = [];
    let expected = 0;
    const lost: string[] = [];
    let judged = 0;
    for (let n = 1; judged < 20; n++) {
      // A call during which this process (both rig peers) stalled for long is not judged: its peers' jitter buffers
      // and analysers resync for a while after such a stall. Another call is placed instead, 10 at most.
      const skipped = n - 1 - judged;
      expect(skipped, `this process stalled for ${RIG_STALL_MS} ms or more in ${skipped} calls`).toBeLessThanOrEqual(
        10,
      );
      const { call, caller, peer } = await connectCall();
      // Markers the rig itself did not send on time (its event loop stalled) are not expected: the window then
      // grows until each direction holds at least 5 that were.
      const both = await measureBothWays(caller, peer, { since: call.acceptedAt!, firstMs: 1200, minExpected: 5 });
      const inCaller = both.atCaller;
      const atAgent = both.atAgent.markers!;
      const atCaller = inCaller.markers!;
      const at = (k: number) => `${Math.round(k * 100 - call.acceptedAt!)} ms after accept`;
      const side = (m: typeof atAgent) =>
        `${m.received}/${m.expected}${m.notSentOnTime ? ` (+${m.notSentOnTime} the sender stalled on)` : ''}` +
        (m.missing.length ? ` missing ${m.missing.map(at).join(', ')}` : '');
      const row = `${n}: caller→agent ${side(atAgent)}, agent→caller ${side(atCaller)}; agent audio at the caller ${Math.round(inCaller.timeToFirstAudioMs ?? -1)} ms after accept`;
      await alice.client.hangup(call.callId);
      await call.waitFor('ended', 10_000);
      if (both.longestStallMs >= RIG_STALL_MS) {
        rows.push(`${row} (not judged: this process stalled for ${Math.round(both.longestStallMs)} ms)`);
        continue;
      }
      judged++;
      // Nothing clipped: in both directions the very first marker after accept arrives.
      expect(atAgent.leadingMissing, `caller→agent clipped after accept: ${row}`).toBe(0);
      expect(atCaller.leadingMissing, `agent→caller clipped after accept: ${row}`).toBe(0);
      for (const k of atAgent.missing) lost.push(`call ${n} caller→agent ${at(k)}`);
      for (const k of atCaller.missing) lost.push(`call ${n} agent→caller ${at(k)}`);
      expect(atAgent.expected, row).toBeGreaterThanOrEqual(5);
      expect(atCaller.expected, row).toBeGreaterThanOrEqual(5);
      expected += atAgent.expected + atCaller.expected;
      rows.push(row);
    }
    console.info(
      `[call-audio] 20 calls judged, ${lost.length} of ${expected} markers lost after accept${lost.length ? ` (${lost.join(', ')})` : ''}:\n${rows.join('\n')}`,
    );
    // Later in the call, a single marker is now and then lost when the whole test suite loads this 2-core machine
    // (about one in 300-600; none when the file runs alone): within the media criterion of < 1 % loss.
    expect(lost.length / expected).toBeLessThan(0.01);
  }, 420_000);
});

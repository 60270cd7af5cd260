/**
 * An agent reloads the tab mid-call: the new tab sends a new offer, which must replace the agent leg (old one
 * closed, new one forwarding both ways). The WhatsApp leg must keep sending throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nowMs } from '../../src/rtc/clock.js';
import type { NodeAgentPeer } from '../../src/testing/node-agent-peer.js';
import { CALLER_HZ, type CallSetup, connectAgent, setupCall, waitUntil } from './helpers.js';

const RELOADED_HZ = 880;

describe.each(['forward', 'wrtc'] as const)('agent reload on the %s engine', (engine) => {
  let call: CallSetup | undefined;
  let second: NodeAgentPeer | undefined;
  afterEach(() => {
    second?.close();
    second = undefined;
    call?.close();
    call = undefined;
  });

  it('a second agent offer replaces the leg and audio resumes both ways', async () => {
    call = await setupCall({ engine, caller: { watchHz: [CALLER_HZ, 660, RELOADED_HZ] } });
    const { caller, bridge, agent } = call;
    bridge.startAgentAudio();
    await waitUntil(() => caller.analyzer.tone(660).frames >= 20, 10_000, 'the first agent at the caller');
    const disconnectedAt: number[] = [];
    bridge.on('agent-disconnected', () => disconnectedAt.push(nowMs()));

    // The old tab is gone (reload), then the new one offers.
    agent.close();
    const packetsBefore = await caller.packetsReceived();
    const swapAt = nowMs();
    second = await connectAgent(bridge, { toneHz: RELOADED_HZ, watchHz: [CALLER_HZ, RELOADED_HZ] });
    const connectedAt = nowMs();
    expect(bridge.agentState).toBe('connected');
    expect(bridge.waSending).toBe('agent');

    await waitUntil(() => caller.analyzer.tone(RELOADED_HZ).frames >= 30, 10_000, 'the reloaded agent at the caller');
    await waitUntil(
      () => second?.analyzer.tone(CALLER_HZ).frames !== undefined && second.analyzer.tone(CALLER_HZ).frames >= 30,
      10_000,
      'the caller at the reloaded agent',
    );
    expect(caller.analyzer.tone(RELOADED_HZ).firstSeenAt).toBeGreaterThanOrEqual(swapAt);
    expect(await caller.packetsReceived()).toBeGreaterThan(packetsBefore);
    // The closed tab may be reported down (at once on forward, whose peer sees the DTLS close; later or never on
    // wrtc), but once the new leg is up nothing reports the agent down.
    expect(disconnectedAt.filter((at) => at > connectedAt)).toEqual([]);
    const dominant = caller.analyzer.dominantHz(500);
    expect(Math.abs((dominant ?? 0) - RELOADED_HZ)).toBeLessThanOrEqual(5);
    const stats = await bridge.getStats();
    expect(stats.agent?.packetsReceived).toBeGreaterThan(0);
  });

  it('a broken reload offer leaves the current agent leg untouched', async () => {
    call = await setupCall({ engine });
    const { bridge, agent } = call;
    await expect(bridge.acceptAgentOffer('v=0\r\nnot an offer\r\n')).rejects.toMatchObject({ code: 'sdp-invalid' });
    expect(bridge.agentState).toBe('connected');
    const frames = agent.analyzer.tone(CALLER_HZ).frames;
    await waitUntil(
      () => agent.analyzer.tone(CALLER_HZ).frames > frames + 20,
      10_000,
      'caller audio still at the agent',
    );
  });

  it('two overlapping offers: the later one wins, the earlier one is superseded', async () => {
    call = await setupCall({ engine });
    const { bridge } = call;
    const { NodeAgentPeer } = await import('../../src/testing/node-agent-peer.js');
    const a = await NodeAgentPeer.create();
    const b = await NodeAgentPeer.create();
    try {
      const first = bridge.acceptAgentOffer(a.offerSdp);
      const secondAnswer = bridge.acceptAgentOffer(b.offerSdp);
      await expect(first).rejects.toMatchObject({ code: 'agent-offer-superseded' });
      await expect(secondAnswer).resolves.toMatch(/^v=0/);
    } finally {
      a.close();
      b.close();
    }
  });
});

/**
 * Caller ↔ bridge ↔ Node agent in one process, real wrtc and real audio: the caller sends 440 Hz, the agent 660 Hz,
 * and each side must receive the other's tone; the agent's tone must reach the caller only after startAgentAudio()
 * (Meta's accept), while silence keeps WhatsApp's media watchdog fed before that.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nowMs } from '../../src/rtc/clock.js';
import { AGENT_HZ, CALLER_HZ, type CallSetup, expectHostLocalPair, setupCall, sleep, waitUntil } from './helpers.js';

describe.each(['forward', 'wrtc'] as const)('bridge audio on the %s engine', (engine) => {
  let call: CallSetup | undefined;
  afterEach(() => {
    call?.close();
    call = undefined;
  });

  it("each side hears the other's tone, and the agent only after startAgentAudio()", async () => {
    call = await setupCall({ engine });
    const { caller, agent, bridge } = call;
    expect(bridge.waState).toBe('connected');
    expect(bridge.agentState).toBe('connected');

    // Caller → agent flows as soon as both legs are up.
    await waitUntil(() => agent.analyzer.tone(CALLER_HZ).frames >= 50, 10_000, 'the caller tone at the agent');
    // Before accept: WhatsApp gets packets (silence), but nothing of the agent.
    await waitUntil(async () => (await caller.packetsReceived()) >= 25, 10_000, 'silence packets at the caller');
    expect(bridge.waSending).toBe('silence');
    await sleep(500);
    expect(caller.analyzer.tone(AGENT_HZ).frames).toBe(0);
    expect(caller.analyzer.firstAudioAt).toBeNull();

    const acceptAt = nowMs();
    bridge.startAgentAudio();
    caller.markAccepted(acceptAt);
    expect(bridge.waSending).toBe('agent');
    await waitUntil(() => caller.analyzer.tone(AGENT_HZ).frames >= 50, 10_000, 'the agent tone at the caller');

    const callerReport = caller.report();
    const agentReport = agent.report();
    expect(callerReport.inbound.tones[String(AGENT_HZ)]?.firstSeenAt).toBeGreaterThanOrEqual(acceptAt);
    expect(callerReport.inbound.tones[String(CALLER_HZ)]?.frames).toBe(0);
    expect(callerReport.inbound.dominantHz).toBeGreaterThanOrEqual(AGENT_HZ - 5);
    expect(callerReport.inbound.dominantHz).toBeLessThanOrEqual(AGENT_HZ + 5);
    expect(callerReport.inbound.timeToFirstAudioMs).not.toBeNull();
    expect(agentReport.inbound.dominantHz).toBeGreaterThanOrEqual(CALLER_HZ - 5);
    expect(agentReport.inbound.dominantHz).toBeLessThanOrEqual(CALLER_HZ + 5);
    expect(agentReport.inbound.tones[String(AGENT_HZ)]?.frames).toBe(0);
    expect(caller.analyzer.error).toBeUndefined();
    expect(agent.analyzer.error).toBeUndefined();

    const stats = await bridge.getStats();
    expectHostLocalPair(stats.whatsapp);
    if (stats.agent) expectHostLocalPair(stats.agent);
    console.info(
      `[media] create→answer ${Math.round(call.times.answered - call.times.start)} ms, answer→wa-connected ${Math.round(call.times.waConnected - call.times.answered)} ms, accept→first agent audio at caller ${Math.round(callerReport.inbound.timeToFirstAudioMs ?? -1)} ms`,
    );
  });

  it('with silenceBeforeAccept false nothing at all reaches WhatsApp before accept', async () => {
    call = await setupCall({ engine, bridge: { silenceBeforeAccept: false } });
    const { caller, agent, bridge } = call;
    await waitUntil(() => agent.analyzer.tone(CALLER_HZ).frames >= 50, 10_000, 'the caller tone at the agent');
    expect(await caller.packetsReceived()).toBe(0);
    expect(bridge.waSending).toBe('nothing');
    bridge.startAgentAudio();
    await waitUntil(() => caller.analyzer.tone(AGENT_HZ).frames >= 20, 10_000, 'the agent tone at the caller');
  });

  it('keeps WhatsApp fed with silence when accept comes before any agent leg', async () => {
    call = await setupCall({ engine });
    const { caller, bridge } = call;
    bridge.startAgentAudio();
    bridge.closeAgentLeg();
    expect(bridge.agentState).toBe('none');
    expect(bridge.waSending).toBe('silence');
    const before = await caller.packetsReceived();
    await waitUntil(
      async () => (await caller.packetsReceived()) >= before + 40,
      10_000,
      'silence packets without an agent',
    );
    expect(caller.receivingAudio()).toBe(true);
  });
});

/** getStats() shape per leg, and the MOS estimate in range on a clean loopback path. */
import { afterEach, describe, expect, it } from 'vitest';
import type { LegStats } from '../../src/rtc/stats.js';
import { type CallSetup, expectHostLocalPair, setupCall, waitUntil } from './helpers.js';

function expectLegShape(s: LegStats | null): asserts s is LegStats {
  expect(s).not.toBeNull();
  expect(s).toEqual({
    rttMs: expect.any(Number),
    jitterMs: expect.any(Number),
    packetsLost: expect.any(Number),
    packetsReceived: expect.any(Number),
    packetsSent: expect.any(Number),
    fractionLost: expect.any(Number),
    bytesSent: expect.any(Number),
    bytesReceived: expect.any(Number),
    mos: expect.any(Number),
    candidatePair: {
      local: expect.any(String),
      remote: expect.any(String),
      localType: expect.any(String),
      remoteType: expect.any(String),
    },
  });
}

describe.each(['forward', 'wrtc'] as const)('bridge stats on the %s engine', (engine) => {
  let call: CallSetup | undefined;
  afterEach(() => {
    call?.close();
    call = undefined;
  });

  it('reports per-leg RTT, jitter, loss, packets, bytes and a MOS in range', async () => {
    call = await setupCall({ engine });
    const { bridge } = call;
    bridge.startAgentAudio();
    await waitUntil(
      async () => {
        const s = await bridge.getStats();
        return (
          (s.whatsapp.packetsReceived ?? 0) > 50 &&
          (s.agent?.packetsReceived ?? 0) > 50 &&
          s.whatsapp.rttMs !== null &&
          s.agent?.rttMs != null
        );
      },
      15_000,
      'packets and an RTT on both legs',
    );
    const stats = await bridge.getStats();
    for (const leg of [stats.whatsapp, stats.agent]) {
      expectLegShape(leg);
      expect(leg.packetsSent).toBeGreaterThan(0);
      expect(leg.bytesSent).toBeGreaterThan(leg.packetsSent);
      expect(leg.fractionLost).toBeGreaterThanOrEqual(0);
      expect(leg.fractionLost).toBeLessThanOrEqual(0.05);
      expect(leg.rttMs).toBeGreaterThanOrEqual(0);
      expect(leg.rttMs).toBeLessThan(100);
      expect(leg.mos).toBeGreaterThanOrEqual(4);
      expect(leg.mos).toBeLessThanOrEqual(4.5);
      expectHostLocalPair(leg);
    }
    console.info(`[media] stats: ${JSON.stringify(stats)}`);
  });

  it('closed bridges report empty stats and close() is idempotent', async () => {
    call = await setupCall({ engine });
    const closed: unknown[] = [];
    call.bridge.on('closed', (e) => closed.push(e));
    call.bridge.close('test');
    call.bridge.close('again');
    expect(closed).toEqual([{ reason: 'test' }]);
    expect(call.bridge.waState).toBe('closed');
    expect(call.bridge.agentState).toBe('none');
    const s = await call.bridge.getStats();
    expect(s.whatsapp.packetsSent).toBe(0);
    expect(s.agent).toBeNull();
    await expect(call.bridge.acceptAgentOffer(call.agent.offerSdp)).rejects.toMatchObject({ code: 'media-closed' });
    expect(await call.bridge.addAgentCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' })).toBe(false);
  });
});

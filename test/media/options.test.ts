/** Bridge options that change what goes on the wire: portRange, allowedNetworks, and option validation. */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { mediaEngine } from '../../src/media/engines/index.js';
import { summarizeSdp } from '../../src/media/sdp/parse.js';
import { LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCaller } from '../../src/sim/simulator.js';
import { META_OFFER_SDP } from '../../src/testing/sdp-fixtures.js';
import { setupCall, waitUntil } from './helpers.js';

describe.each(['forward', 'wrtc'] as const)('bridge options on the %s engine', (engine) => {
  const create = mediaEngine(engine).createCall;
  // wrtc binds every interface and keeps the allowed candidates; forward binds one allowed address.
  const loopbackCandidates = engine === 'wrtc' ? ['127.0.0.1', '::1'] : ['127.0.0.1'];

  it('portRange bounds every local candidate of both legs, and the call still connects', async () => {
    const portRange = { min: 42_000, max: 42_099 };
    const candidates: string[] = [];
    const call = await setupCall({ engine, bridge: { portRange } });
    try {
      for (const c of summarizeSdp(call.bridge.waAnswerSdp).candidates) candidates.push(`${c.address} ${c.port}`);
      const stats = await call.bridge.getStats();
      for (const leg of [stats.whatsapp, stats.agent]) {
        const port = Number(leg?.candidatePair?.local.split(':').pop());
        expect(port).toBeGreaterThanOrEqual(portRange.min);
        expect(port).toBeLessThanOrEqual(portRange.max);
      }
      for (const c of summarizeSdp(call.bridge.waAnswerSdp).candidates) {
        expect(c.port).toBeGreaterThanOrEqual(portRange.min);
        expect(c.port).toBeLessThanOrEqual(portRange.max);
      }
      await waitUntil(() => call.agent.analyzer.tone(440).frames > 10, 10_000, 'audio through a bounded port range');
    } finally {
      call.close();
    }
    expect(candidates.length).toBeGreaterThan(0);
  });

  it('the WhatsApp answer only carries loopback UDP candidates under LOOPBACK_NETWORKS', async () => {
    const bridge = await create({ offerSdp: META_OFFER_SDP, allowedNetworks: LOOPBACK_NETWORKS });
    try {
      const s = summarizeSdp(bridge.waAnswerSdp);
      expect(s.candidates.map((c) => c.address).sort()).toEqual(loopbackCandidates);
      expect(bridge.waAnswerSdp).not.toMatch(/192\.0\.2\.|fd00:|fe80:|tcptype/);
    } finally {
      bridge.close();
    }
  });

  it('answering once host candidates settle (no ICE servers) still carries every allowed host candidate, 20 times', async () => {
    for (let i = 0; i < 20; i++) {
      const bridge = await create({ offerSdp: META_OFFER_SDP, allowedNetworks: LOOPBACK_NETWORKS });
      try {
        const s = summarizeSdp(bridge.waAnswerSdp);
        expect(s.candidates.map((c) => `${c.transport} ${c.type} ${c.address}`).sort(), `answer ${i}`).toEqual(
          loopbackCandidates.map((a) => `udp host ${a}`),
        );
        expect(bridge.waAnswerSdp, `answer ${i}`).toMatch(/\r\na=end-of-candidates\r\n/);
      } finally {
        bridge.close();
      }
    }
  });

  // The answer is inspected only: no peer connection is ever given the announced or the eth0 address.
  const hostIpv4 = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  it.skipIf(!hostIpv4)('announcedIp replaces the private host address in the WhatsApp answer (1:1 NAT)', async () => {
    const bridge = await create({
      offerSdp: META_OFFER_SDP,
      allowedNetworks: [`${hostIpv4}/32`, ...LOOPBACK_NETWORKS],
      announcedIp: '203.0.113.7',
    });
    try {
      const addresses = summarizeSdp(bridge.waAnswerSdp).candidates.map((c) => c.address);
      expect(addresses).toContain('203.0.113.7');
      expect(addresses).not.toContain(hostIpv4);
      if (engine === 'wrtc') expect(addresses).toContain('127.0.0.1');
    } finally {
      bridge.close();
    }
  });

  it.each([
    [{ allowedNetworks: ['not-a-cidr'] }, /invalid network/],
    [{ announcedIp: 'example.com' }, /announcedIp/],
    [{ portRange: { min: 5000, max: 4000 } }, /portRange/],
    [{ gatherTimeoutMs: 0 }, /gatherTimeoutMs/],
  ])('refuses bad options %j before touching wrtc', async (opts, message) => {
    await expect(create({ offerSdp: META_OFFER_SDP, ...opts })).rejects.toThrow(message);
  });

  it.runIf(engine === 'wrtc')('CallerPeer satisfies the simulator SimCaller interface', async () => {
    const caller = await CallerPeer.create();
    try {
      const asSim: SimCaller = caller;
      expect(typeof asSim.applyAnswer).toBe('function');
      expect(asSim.receivingAudio?.()).toBe(false);
    } finally {
      caller.close();
    }
  });
});

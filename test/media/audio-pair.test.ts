/**
 * The audio tooling over a real wrtc pair (no bridge): what the generator sends is what the analyzer finds —
 * frequency, level, markers — after Opus, the jitter buffer and the sink's resampling.
 */
import { describe, expect, it } from 'vitest';
import { AudioAnalyzer } from '../../src/audio/analyzer.js';
import { AudioGenerator } from '../../src/audio/generator.js';
import { filterSdpCandidates } from '../../src/media/sdp/rewrite.js';
import { LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import { nowMs } from '../../src/rtc/clock.js';
import { type WrtcPeerConnection, waitForConnected, waitForGatheringComplete, wrtc } from '../../src/rtc/wrtc.js';
import { sleep, waitUntil } from './helpers.js';

async function connectPair(a: WrtcPeerConnection, b: WrtcPeerConnection): Promise<void> {
  const loop = { allowedNetworks: LOOPBACK_NETWORKS };
  await a.setLocalDescription(await a.createOffer());
  await waitForGatheringComplete(a, 2000);
  await b.setRemoteDescription({ type: 'offer', sdp: filterSdpCandidates(a.localDescription?.sdp ?? '', loop) });
  for (const t of b.getTransceivers()) t.direction = 'sendrecv';
  await b.setLocalDescription(await b.createAnswer());
  await waitForGatheringComplete(b, 2000);
  await a.setRemoteDescription({ type: 'answer', sdp: filterSdpCandidates(b.localDescription?.sdp ?? '', loop) });
  await Promise.all([waitForConnected(a, 10_000, 'a'), waitForConnected(b, 10_000, 'b')]);
}

describe('generator → wrtc → analyzer', () => {
  it('recovers the tone, its level and every marker', async () => {
    const gen = AudioGenerator.create({ toneHz: 523, amplitude: 0.25, markers: true });
    const a = new wrtc.RTCPeerConnection();
    const b = new wrtc.RTCPeerConnection();
    let analyzer: AudioAnalyzer | undefined;
    try {
      a.addTransceiver(gen.track, { direction: 'sendrecv' });
      await connectPair(a, b);
      const track = b.getTransceivers()[0]?.receiver.track;
      if (!track) throw new Error('no receiver track');
      analyzer = AudioAnalyzer.create(track, { watchHz: [523], markers: true });
      const from = nowMs() + 300;
      await waitUntil(() => (analyzer?.tone(523).frames ?? 0) > 50, 10_000, 'the tone');
      await sleep(2000);
      const report = analyzer.report({ since: from, settleMs: 400 });
      expect(report.dominantHz).toBeGreaterThanOrEqual(518);
      expect(report.dominantHz).toBeLessThanOrEqual(528);
      // 0.25 full scale = 8192 peak; half the time base tone, half markers at the same amplitude: rms ≈ 5790.
      expect(report.rms).toBeGreaterThan(4000);
      expect(report.rms).toBeLessThan(7500);
      expect(report.markers?.expected).toBeGreaterThanOrEqual(15);
      expect(report.markers?.missing).toEqual([]);
      expect(report.markers?.latencyMs?.median).toBeLessThan(500);
      expect(analyzer.error).toBeUndefined();
      console.info(`[media] direct wrtc pair: marker latency ${JSON.stringify(report.markers?.latencyMs)}`);
    } finally {
      analyzer?.close();
      gen.close();
      a.close();
      b.close();
    }
  });

  it('a stopped generator makes wrtc send nothing (no RTP without frames)', async () => {
    const gen = AudioGenerator.create({ autoStart: false });
    const a = new wrtc.RTCPeerConnection();
    const b = new wrtc.RTCPeerConnection();
    try {
      a.addTransceiver(gen.track, { direction: 'sendrecv' });
      await connectPair(a, b);
      await sleep(600);
      const sent = [...(await a.getStats()).values()].find((s) => s.type === 'outbound-rtp');
      expect(sent?.packetsSent ?? 0).toBe(0);
      gen.start();
      await waitUntil(
        async () =>
          Number([...(await a.getStats()).values()].find((s) => s.type === 'outbound-rtp')?.packetsSent ?? 0) > 10,
        10_000,
        'RTP once frames flow',
      );
    } finally {
      gen.close();
      a.close();
      b.close();
    }
  });
});

import { AudioAnalyzer, drainAnalysis } from '../../src/audio/analyzer.js';
import { AudioGenerator } from '../../src/audio/generator.js';
import { filterSdpCandidates } from '../../src/media/sdp/rewrite.js';
import { LOOPBACK_NETWORKS, NetworkFilter } from '../../src/rtc/cidr.js';
import { nowMs } from '../../src/rtc/clock.js';
import { waitForConnected, waitForGatheringComplete, wrtc } from '../../src/rtc/wrtc.js';
import { CallerPeer } from '../../src/sim/caller-peer.js';
import { sleep } from './util.js';

/**
 * The latency baseline: the simulator's caller connected straight to a wrtc peer that plays the agent (tone +
 * markers both ways), no bridge in between, in this process. Marker latency = arrival − slot start, one way.
 */
export async function measureDirect(opts: {
  windowMs: number;
  settleMs: number;
  callerHz: number;
  agentHz: number;
}): Promise<{ callerToAgentMs: number | null; agentToCallerMs: number | null }> {
  const caller = await CallerPeer.create({
    toneHz: opts.callerHz,
    markers: true,
    watchHz: [opts.agentHz],
    strict: false,
  });
  const generator = AudioGenerator.create({ toneHz: opts.agentHz, markers: true });
  const pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  let analyzer: AudioAnalyzer | undefined;
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: caller.offerSdp });
    const t = pc.getTransceivers()[0];
    if (!t) throw new Error('no transceiver after the offer');
    t.direction = 'sendrecv';
    await t.sender.replaceTrack(generator.track);
    analyzer = AudioAnalyzer.create(t.receiver.track, { watchHz: [opts.callerHz], markers: true });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGatheringComplete(pc, 2000);
    const answer = filterSdpCandidates(pc.localDescription?.sdp ?? '', {
      allowedNetworks: new NetworkFilter(LOOPBACK_NETWORKS),
    });
    await caller.applyAnswer(answer);
    await Promise.all([caller.waitConnected(10_000), waitForConnected(pc, 10_000, 'direct agent')]);
    await sleep(opts.settleMs);
    const from = nowMs();
    await sleep(opts.windowMs);
    const until = nowMs();
    await drainAnalysis();
    const atAgent = analyzer.report({ since: from, until, settleMs: 400 });
    const atCaller = caller.report({ since: from, until, settleMs: 400 }).inbound;
    return {
      callerToAgentMs: atAgent.markers?.latencyMs?.median ?? null,
      agentToCallerMs: atCaller.markers?.latencyMs?.median ?? null,
    };
  } finally {
    analyzer?.close();
    generator.close();
    pc.close();
    caller.close();
  }
}

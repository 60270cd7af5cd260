/**
 * The load rig that does not decode (src/testing/opus-peer.ts): node-datachannel peers that send numbered,
 * pre-encoded Opus and check what arrives byte for byte. Peer to peer first (what the rig itself does), then as a
 * WhatsApp-shaped caller and a browser-shaped agent through the forward engine: numbered packets both ways,
 * RFC 4733 keys, music from the player frame by frame, and a recording of the call.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaEngine } from '../../src/media/engines/index.js';
import { ClipCache } from '../../src/media/opus/clips.js';
import { readOggOpus } from '../../src/media/opus/ogg.js';
import { RecordingTap } from '../../src/media/opus/recording.js';
import { LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import type { CallMedia } from '../../src/rtc/engine.js';
import { epochMs } from '../../src/testing/numbered-opus.js';
import { encodeToneFrames } from '../../src/testing/opus-fixtures.js';
import { OpusRigPeer } from '../../src/testing/opus-peer.js';
import { nextEvent, sleep, waitUntil } from './helpers.js';

let callerFrames: Buffer[];
let agentFrames: Buffer[];
let dir: string;

beforeAll(async () => {
  [callerFrames, agentFrames] = await Promise.all([encodeToneFrames(440), encodeToneFrames(660)]);
  dir = await mkdtemp(join(tmpdir(), 'opus-rig-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('opus rig peers', () => {
  it('two rig peers exchange numbered Opus packets byte for byte, and RFC 4733 keys once each', async () => {
    const caller = await OpusRigPeer.offer('caller', { frames: callerFrames });
    const { peer: agent, answerSdp } = await OpusRigPeer.answer(caller.offerSdp, { frames: agentFrames });
    try {
      expect(caller.offerSdp).toMatch(/^a=ice-lite$/m);
      expect(caller.offerSdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111 126$/m);
      expect(caller.offerSdp).toMatch(/^a=rtpmap:126 telephone-event\/8000$/m);
      expect(caller.offerSdp).not.toMatch(/a=candidate:.* (?!127\.0\.0\.1)\d+\.\d+\.\d+\.\d+ \d+ typ/);
      agent.expect(caller.sender);
      caller.expect(agent.sender);
      await caller.applyAnswer(answerSdp);
      await Promise.all([caller.waitConnected(), agent.waitConnected()]);
      const since = epochMs();
      await caller.sendDtmf('47#');
      await sleep(1000);
      const until = epochMs();
      await sleep(300);
      for (const r of [agent.report(caller.sender, { since, until }), caller.report(agent.sender, { since, until })]) {
        expect(r.expected).toBeGreaterThan(50);
        expect(r).toMatchObject({ lost: 0, clippedMs: 0, corrupted: 0, duplicates: 0 });
        expect(r.latencyP50Ms).not.toBeNull();
      }
      expect(agent.inbox.digits).toEqual(['4', '7', '#']);
    } finally {
      caller.close();
      agent.close();
    }
  });

  it('through the forward engine: numbered packets both ways, keys as DTMF events never forwarded, music frame by frame, a recording', async () => {
    const caller = await OpusRigPeer.offer('caller', { frames: callerFrames });
    let call: CallMedia | undefined;
    let agent: OpusRigPeer | undefined;
    try {
      call = await mediaEngine('forward').createCall({ offerSdp: caller.offerSdp, allowedNetworks: LOOPBACK_NETWORKS });
      const bridge = call;
      const waConnected = nextEvent(bridge, 'wa-connected', 10_000);
      await caller.applyAnswer(bridge.waAnswerSdp);
      await Promise.all([caller.waitConnected(), waConnected]);

      // Waiting in the queue: music only.
      const music = await ClipCache.shared.load('music');
      const atCaller = caller.inbox.expectClip(music.frames);
      bridge.setRoutes({ caller: ['player'] });
      bridge.play('wait-1', [music], true);
      await waitUntil(() => atCaller.received >= 50, 5000, 'music at the caller');
      expect(atCaller.lost).toBe(0);
      expect(atCaller.received).toBeGreaterThanOrEqual(50);

      // An agent answers (browser-shaped leg, trickle).
      const a = await OpusRigPeer.offer('agent', { frames: agentFrames });
      agent = a;
      bridge.on('agent-candidate', (c) => void a.addCandidate(c));
      const agentUp = nextEvent(bridge, 'agent-connected', 10_000);
      const answer = await bridge.acceptAgentOffer(a.offerSdp);
      a.trickle((c) => void bridge.addAgentCandidate(c));
      await a.applyAnswer(answer);
      await Promise.all([a.waitConnected(), agentUp]);
      bridge.stopPlay();
      bridge.setRoutes({ caller: ['agent'], agent: ['caller'] });
      bridge.startAgentAudio();
      a.expect(caller.sender);
      caller.expect(a.sender);
      const tap = new RecordingTap({ dir, callId: 'rig-call' });
      bridge.record(tap.sinks());
      const digits: string[] = [];
      bridge.on('dtmf', ({ digit }) => digits.push(digit));
      await sleep(300);
      const since = epochMs();
      await caller.sendDtmf('91');
      await sleep(1500);
      const until = epochMs();
      await sleep(300);
      bridge.record(null);
      const atAgent = a.report(caller.sender, { since, until });
      const atCallerNow = caller.report(a.sender, { since, until });
      for (const r of [atAgent, atCallerNow]) {
        expect(r.expected).toBeGreaterThan(60);
        expect(r).toMatchObject({ lost: 0, clippedMs: 0, corrupted: 0, duplicates: 0 });
      }
      expect(digits).toEqual(['9', '1']);
      expect(a.inbox.eventPackets).toBe(0);
      const paths = await tap.close();
      expect(paths).toHaveLength(2);
      for (const p of paths) {
        const rec = readOggOpus(await readFile(p));
        expect(rec.packets.length, p).toBeGreaterThan(60);
      }
    } finally {
      call?.close();
      agent?.close();
      caller.close();
    }
  });
});

/**
 * The forward engine's switch, checked packet by packet at the far side with peers that do not decode: the routing
 * table moves the caller between the agent, the player, silence and a second browser leg without renegotiation and
 * the caller sees one continuous stream; unrouted legs never leak; RFC 4733 keys become DTMF events from the
 * WhatsApp leg's connection on and never reach an agent; malformed packets and a UDP flood neither crash the
 * process nor reach another leg.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForwardCall } from '../../src/media/engines/forward/call.js';
import { parseClip } from '../../src/media/opus/clips.js';
import { readOggOpus } from '../../src/media/opus/ogg.js';
import { OPUS_SILENCE_FRAME } from '../../src/media/opus/prompts.js';
import { RecordingTap } from '../../src/media/opus/recording.js';
import { keyPressPackets } from '../../src/media/opus/telephone-event.js';
import { LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import { CALLER, PLAYER } from '../../src/rtc/engine.js';
import { encodeToneFile, encodeToneFrames } from '../../src/testing/opus-fixtures.js';
import { RawRtpPeer, type ReceivedPacket, tagOf } from '../../src/testing/raw-rtp-peer.js';
import { sleep, waitUntil } from './helpers.js';

const AGENT = 'agent:a1';
const SUP = 'sup:s1';

interface Rig {
  call: ForwardCall;
  caller: RawRtpPeer;
  legs: Map<string, RawRtpPeer>;
  close(): void;
}

async function connectLeg(call: ForwardCall, legId: string): Promise<RawRtpPeer> {
  const peer = await RawRtpPeer.create({ mid: '0', secondTrack: true });
  call.on('leg-candidate', (e) => {
    if (e.legId === legId) peer.addCandidate(e.candidate);
  });
  const answer = await call.acceptLegOffer(legId, peer.offerSdp);
  peer.applyAnswer(answer);
  await peer.waitConnected();
  return peer;
}

async function rig(legIds: string[]): Promise<Rig> {
  const caller = await RawRtpPeer.create({ iceLite: true });
  const call = await ForwardCall.create({
    offerSdp: caller.offerSdp,
    allowedNetworks: LOOPBACK_NETWORKS,
    agentLegId: AGENT,
  });
  const legs = new Map<string, RawRtpPeer>();
  const close = (): void => {
    call.close();
    caller.close();
    for (const l of legs.values()) l.close();
  };
  try {
    caller.applyAnswer(call.waAnswerSdp);
    await caller.waitConnected();
    for (const id of legIds) legs.set(id, await connectLeg(call, id));
    return { call, caller, legs, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Sequence numbers step by exactly one and timestamps only grow, all under one SSRC. */
function expectContinuous(packets: ReceivedPacket[]): void {
  expect(packets.length).toBeGreaterThan(10);
  const ssrcs = new Set(packets.map((p) => p.ssrc));
  expect(ssrcs.size).toBe(1);
  for (let i = 1; i < packets.length; i++) {
    const prev = packets[i - 1]!;
    const cur = packets[i]!;
    expect(((cur.sequence - prev.sequence) & 0xffff) === 1, `sequence ${prev.sequence} → ${cur.sequence} at ${i}`).toBe(
      true,
    );
    const dt = (cur.timestamp - prev.timestamp) >>> 0;
    expect(dt > 0 && dt < 48_000 * 5, `timestamp step ${dt} at ${i}`).toBe(true);
  }
}

describe('forward engine switch', () => {
  let r: Rig | undefined;
  afterEach(() => {
    r?.close();
    r = undefined;
  });

  it('switching the caller between agent, player, silence and a second browser leg keeps one continuous stream', async () => {
    r = await rig([AGENT, SUP]);
    const { call, caller, legs } = r;
    const agent = legs.get(AGENT)!;
    const sup = legs.get(SUP)!;
    agent.startNumbered('AGT');
    sup.startNumbered('SUP');
    caller.startNumbered('CAL');
    const tone = await encodeToneFile(880, { seconds: 2 });
    const clip = parseClip('/tone.opus', tone, 'tone');

    const phase = async (routes: Record<string, string[]>, ms: number): Promise<ReceivedPacket[]> => {
      const from = caller.received.length;
      call.setRoutes(routes);
      await sleep(ms);
      return caller.received.slice(from);
    };
    await sleep(200); // silence before anything is routed
    const toAgent = await phase({ [CALLER]: [AGENT], [AGENT]: [CALLER], [SUP]: [CALLER, AGENT] }, 600);
    call.play('p1', [clip], true);
    const toPlayer = await phase({ [CALLER]: [PLAYER], [AGENT]: [CALLER] }, 600);
    call.stopPlay();
    const toSup = await phase({ [CALLER]: [SUP], [AGENT]: [] }, 600);
    const toNothing = await phase({}, 600);
    const back = await phase({ [CALLER]: [AGENT] }, 600);

    // What each phase carried (allowing the few packets in flight at the switch).
    const share = (ps: ReceivedPacket[], what: (p: ReceivedPacket) => boolean): number =>
      ps.filter(what).length / Math.max(1, ps.length);
    expect(share(toAgent, (p) => tagOf(p) === 'AGT')).toBeGreaterThan(0.8);
    expect(share(toPlayer, (p) => clip.frames.some((f) => f.equals(p.payload)))).toBeGreaterThan(0.8);
    expect(share(toSup, (p) => tagOf(p) === 'SUP')).toBeGreaterThan(0.8);
    expect(share(toNothing, (p) => p.payload.equals(OPUS_SILENCE_FRAME))).toBeGreaterThan(0.8);
    expect(share(back, (p) => tagOf(p) === 'AGT')).toBeGreaterThan(0.8);
    // No packet of any phase came from a source the table did not name.
    expect(caller.received.some((p) => tagOf(p) === 'CAL')).toBe(false);
    expect(toAgent.concat(toPlayer, back).some((p) => tagOf(p) === 'SUP')).toBe(false);

    // One stream at the caller across every switch: one SSRC, +1 sequence numbers, growing timestamps, PT 111, no
    // header extensions.
    expectContinuous(caller.received);
    expect(caller.received.every((p) => p.payloadType === 111 && !p.extension)).toBe(true);

    // The supervisor heard the caller on its first track and the agent on its second while routed so.
    const supHeard = sup.received;
    expect(supHeard.some((p) => p.track === 0 && tagOf(p) === 'CAL')).toBe(true);
    expect(supHeard.some((p) => p.track === 1 && tagOf(p) === 'AGT')).toBe(true);
    expectContinuous(supHeard.filter((p) => p.track === 0));
    // The agent heard only the caller, never the supervisor.
    expect(agent.received.some((p) => tagOf(p) === 'SUP')).toBe(false);
  });

  it('RFC 4733 keys from the caller become one DTMF event each, before any agent, and never reach an agent', async () => {
    r = await rig([]);
    const { call, caller } = r;
    const digits: string[] = [];
    call.on('dtmf', (e) => digits.push(e.digit));
    caller.startNumbered('CAL');
    for (const d of '19#') {
      for (const p of keyPressPackets(d, { timestamp: caller.timestamp })) {
        caller.sendRtp(p.payload, { payloadType: 126, marker: p.marker, timestamp: p.timestamp });
        await sleep(5);
      }
    }
    await waitUntil(() => digits.length >= 3, 5000, 'three DTMF keys');
    expect(digits).toEqual(['1', '9', '#']);

    // With an agent routed to hear the caller, keys still count and nothing but Opus reaches the agent.
    const agent = await connectLeg(call, AGENT);
    r.legs.set(AGENT, agent);
    call.startAgentAudio();
    await waitUntil(() => agent.received.some((p) => tagOf(p) === 'CAL'), 5000, 'caller audio at the agent');
    for (const p of keyPressPackets('5', { timestamp: caller.timestamp })) {
      caller.sendRtp(p.payload, { payloadType: 126, marker: p.marker, timestamp: p.timestamp });
      await sleep(5);
    }
    await waitUntil(() => digits.length >= 4, 5000, 'the fourth key');
    await sleep(200);
    expect(digits).toEqual(['1', '9', '#', '5']);
    expect(agent.received.every((p) => p.payloadType === 111 && tagOf(p) === 'CAL')).toBe(true);
  });

  it('malformed RTP and RTCP from a leg never crash the process and never reach another leg', async () => {
    r = await rig([AGENT]);
    const { call, caller, legs } = r;
    const agent = legs.get(AGENT)!;
    call.startAgentAudio();
    caller.startNumbered('CAL');
    await waitUntil(() => agent.received.some((p) => tagOf(p) === 'CAL'), 5000, 'caller audio at the agent');
    const garbage: Buffer[] = [
      Buffer.from([0x80]),
      Buffer.from([0x00, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), // version 0
      Buffer.concat([Buffer.from([0x8f, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(8)]), // 15 CSRCs, truncated
      Buffer.concat([Buffer.from([0x90, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff])]), // extension overruns
      Buffer.concat([Buffer.from([0xa0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 200])]), // padding > payload
      Buffer.from([0x81, 200, 0xff, 0xff, 0, 0, 0, 1]), // RTCP SR claiming 256 KiB
      Buffer.from([0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0]), // RTCP RR truncated
      Buffer.alloc(1200, 0xff),
    ];
    const agentBefore = agent.received.length;
    for (let round = 0; round < 50; round++) for (const g of garbage) caller.sendRaw(g);
    await sleep(500);
    expect(call.closed).toBe(false);
    const since = agent.received.slice(agentBefore);
    expect(since.length).toBeGreaterThan(10); // audio kept flowing
    expect(since.every((p) => tagOf(p) === 'CAL' && p.payloadType === 111)).toBe(true);
  });

  it('a flood of UDP from an unknown address never crashes the process and never reaches a leg', async () => {
    r = await rig([AGENT]);
    const { call, caller, legs } = r;
    const agent = legs.get(AGENT)!;
    call.startAgentAudio();
    caller.startNumbered('CAL');
    await waitUntil(() => agent.received.some((p) => tagOf(p) === 'CAL'), 5000, 'caller audio at the agent');
    const ports = [...call.waAnswerSdp.matchAll(/a=candidate:\S+ \d \S+ \d+ (\S+) (\d+) typ/g)].map((m) => ({
      host: m[1]!,
      port: Number(m[2]),
    }));
    expect(ports.length).toBeGreaterThan(0);
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
    const agentBefore = agent.received.length;
    try {
      const rtpLike = Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
      for (let i = 0; i < 3000; i++) {
        const buf =
          i % 3 === 0 ? rtpLike : Buffer.from(Array.from({ length: 1 + (i % 200) }, () => (Math.random() * 256) | 0));
        for (const { host, port } of ports) if (host === '127.0.0.1') sock.send(buf, port, host);
        if (i % 200 === 0) await sleep(5);
      }
      await sleep(500);
    } finally {
      sock.close();
    }
    expect(call.closed).toBe(false);
    const since = agent.received.slice(agentBefore);
    expect(since.length).toBeGreaterThan(10);
    expect(since.every((p) => tagOf(p) === 'CAL')).toBe(true);
  });

  it('a played sequence ends with play-ended; a looped one plays until stopped', async () => {
    r = await rig([AGENT]);
    const { call, legs } = r;
    const agent = legs.get(AGENT)!;
    const clip = parseClip('/tone.opus', await encodeToneFile(660, { seconds: 0.3 }), 'short');
    call.setRoutes({ [AGENT]: [PLAYER] });
    const ended: string[] = [];
    call.on('play-ended', (e) => ended.push(e.playId));
    call.play('once', [clip, clip], false);
    await waitUntil(() => ended.includes('once'), 5000, 'play-ended');
    const frames = agent.received.filter((p) => clip.frames.some((f) => f.equals(p.payload))).length;
    expect(frames).toBeGreaterThanOrEqual(clip.frames.length * 2 - 2);
    call.play('loop', [clip], true);
    await sleep(clip.frames.length * 20 * 3);
    expect(ended).toEqual(['once']);
    call.stopPlay();
    const after = agent.received.length;
    await sleep(200);
    expect(agent.received.length - after).toBeLessThanOrEqual(2);
    expectContinuous(agent.received.filter((p) => p.track === 0));
  });

  it('the recording tap writes what the caller said and what the caller heard, one Ogg Opus file each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rec-'));
    try {
      r = await rig([AGENT]);
      const { call, caller, legs } = r;
      const agent = legs.get(AGENT)!;
      const callerFrames = await encodeToneFrames(440, { seconds: 1 });
      const agentFrames = await encodeToneFrames(660, { seconds: 1 });
      caller.startFrames(callerFrames);
      agent.startFrames(agentFrames);
      call.startAgentAudio();
      const tap = new RecordingTap({ dir, callId: 'c1' });
      call.record(tap.sinks());
      await sleep(1000);
      call.record(null);
      const paths = await Promise.all([tap.sinks().caller.close(), tap.sinks().agents.close()]);
      expect(paths).toEqual([join(dir, 'c1.caller.ogg'), join(dir, 'c1.agents.ogg')]);
      const said = readOggOpus(await readFile(paths[0]!)).packets.map((p) => Buffer.from(p.data));
      const heard = readOggOpus(await readFile(paths[1]!)).packets.map((p) => Buffer.from(p.data));
      const of = (list: Buffer[], frames: Buffer[]): number =>
        list.filter((p) => frames.some((f) => f.equals(p))).length;
      expect(of(said, callerFrames)).toBeGreaterThan(30);
      expect(of(said, agentFrames)).toBe(0);
      expect(of(heard, agentFrames)).toBeGreaterThan(30);
      expect(of(heard, callerFrames)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

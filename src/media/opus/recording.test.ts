import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms, toneShare } from '../../audio/goertzel.js';
import { decodeOggOpus, encodeToneFrames } from '../../testing/opus-fixtures.js';
import { readOggOpus } from './ogg.js';
import { OPUS_SILENCE_FRAME } from './prompts.js';
import { combineOggOpus, combineRecordings, DirectionRecorder, RecordingTap } from './recording.js';

let dir: string;
let callerFrames: Buffer[];
let agentFrames: Buffer[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recording-test-'));
  [callerFrames, agentFrames] = await Promise.all([
    encodeToneFrames(440, { seconds: 3.2 }),
    encodeToneFrames(880, { seconds: 3.2 }),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Feeds the tap packets in arrival order on a fake clock. */
interface Send {
  at: number;
  dir: 'caller' | 'agents';
  frame: Buffer;
  ts: number;
}

function windowMs(ch: Int16Array, fromMs: number, toMs: number): Int16Array {
  return ch.subarray(Math.round(fromMs * 48), Math.round(toMs * 48));
}

describe('RecordingTap', () => {
  it('records each direction on one timeline: tones where they were sent, a paused stretch silent, both parties in the combined file', async () => {
    let now = 0;
    const tap = new RecordingTap({ dir, callId: 'call-tones', now: () => now });
    const sends: Send[] = [];
    // Caller: 150 packets from 100 ms, timestamps wrapping past 2^32 after 10 packets, arrival jittered ±6 ms,
    // packet 30 lost. Agents: 125 packets from 500 ms, another timestamp base.
    const callerBase = 0xffff_ffff - 10 * 960;
    for (let i = 0; i < 150; i++) {
      if (i === 30) continue;
      const jitter = ((i * 7919) % 13) - 6;
      sends.push({
        at: 100 + i * 20 + jitter,
        dir: 'caller',
        frame: callerFrames[i] as Buffer,
        ts: (callerBase + i * 960) >>> 0,
      });
    }
    for (let j = 0; j < 125; j++) {
      sends.push({ at: 500 + j * 20, dir: 'agents', frame: agentFrames[j] as Buffer, ts: 123_456 + j * 960 });
    }
    sends.sort((a, b) => a.at - b.at);
    for (const s of sends) {
      if (now < 1100 && s.at >= 1100) tap.pause();
      if (now < 2100 && s.at >= 2100) tap.resume();
      now = s.at;
      tap.record(s.dir, s.frame, s.ts, s.dir === 'caller' ? 1111 : 2222);
    }
    const stats = tap.stats();
    const paths = await tap.close();
    expect(paths).toEqual([join(dir, 'call-tones.caller.ogg'), join(dir, 'call-tones.agents.ogg')]);
    expect(stats.caller.resyncs).toBe(0);
    expect(stats.caller.late).toBe(0);
    const callerSent = sends.filter((s) => s.dir === 'caller');
    const written = callerSent.filter((s) => s.at < 1100 || s.at >= 2100).length;
    expect(stats.caller.packets).toBe(written);
    // Everything not written (100 ms lead-in, the lost packet, the pause) is silence, on the 20 ms grid.
    expect(stats.caller.silenceFrames).toBe(5 + 150 - written);
    expect(stats.caller.endSamples).toBe((100 + 150 * 20) * 48);
    expect(stats.agents.endSamples).toBe((500 + 125 * 20) * 48);

    // Each direction's file plays with the pause kept in time.
    const callerPcm = await decodeOggOpus(await readFile(paths[0] as string));
    const callerCh = callerPcm.channels[0] as Int16Array;
    expect(callerCh.length / 48).toBeCloseTo(3100, -1);
    expect(toneShare(windowMs(callerCh, 2200, 3000), 440, 48000)).toBeGreaterThan(0.8);
    expect(rms(windowMs(callerCh, 1200, 2000))).toBeLessThan(30);

    const out = join(dir, 'call-tones.ogg');
    await combineRecordings(paths[0] as string, paths[1] as string, out);
    const combined = await readFile(out);
    expect(readOggOpus(combined).head).toMatchObject({ channels: 2, mappingFamily: 1, streams: 2, coupled: 0 });
    const pcm = await decodeOggOpus(combined);
    expect(pcm.channels).toHaveLength(2);
    const [left, right] = pcm.channels as [Int16Array, Int16Array];
    expect(left.length / 48).toBeCloseTo(3100, -1);
    const cases: { from: number; to: number; left: number | null; right: number | null }[] = [
      { from: 0, to: 80, left: null, right: null },
      { from: 160, to: 460, left: 440, right: null },
      { from: 560, to: 1060, left: 440, right: 880 },
      { from: 1160, to: 2060, left: null, right: null }, // paused
      { from: 2160, to: 2960, left: 440, right: 880 },
      { from: 3020, to: 3080, left: 440, right: null },
    ];
    for (const c of cases) {
      for (const [name, ch, hz, other] of [
        ['left', left, c.left, 880],
        ['right', right, c.right, 440],
      ] as const) {
        const w = windowMs(ch, c.from, c.to);
        const label = `${name} ${c.from}–${c.to} ms`;
        if (hz === null) expect(rms(w), label).toBeLessThan(30);
        else {
          expect(toneShare(w, hz, 48000), label).toBeGreaterThan(0.8);
          expect(toneShare(w, other, 48000), label).toBeLessThan(0.05);
        }
      }
    }
  });

  it('re-anchors on the wall clock when a sender restarts its timestamps or changes SSRC', () => {
    const chunks: Buffer[] = [];
    const rec = new DirectionRecorder((b) => chunks.push(b));
    for (let i = 0; i < 10; i++) rec.packet(OPUS_SILENCE_FRAME, 5000 + i * 960, i * 20);
    // Timestamps jump by an hour at 200 ms: placed by arrival, not an hour later.
    for (let i = 0; i < 10; i++) rec.packet(OPUS_SILENCE_FRAME, 5000 + 172_800_000 + i * 960, 300 + i * 20);
    // A new SSRC with a timestamp base near the old one: still placed by arrival.
    for (let i = 0; i < 5; i++) rec.packet(OPUS_SILENCE_FRAME, 5000 + i * 960, 600 + i * 20, { ssrc: 9 });
    rec.end();
    expect(rec.stats.resyncs).toBe(1);
    expect(rec.stats.endSamples).toBe(700 * 48);
    const starts = readOggOpus(Buffer.concat(chunks)).packets.map((p) => p.start);
    expect(starts).toEqual(Array.from({ length: 35 }, (_, i) => i * 960));
  });

  it('drops duplicates and packets with no audio, and never throws on garbage', () => {
    const chunks: Buffer[] = [];
    const rec = new DirectionRecorder((b) => chunks.push(b));
    rec.packet(OPUS_SILENCE_FRAME, 0, 0);
    rec.packet(OPUS_SILENCE_FRAME, 0, 1);
    rec.packet(Buffer.alloc(0), 960, 20);
    rec.packet(Buffer.from([0xfb]), 960, 20); // code 3 without a count byte
    rec.packet(OPUS_SILENCE_FRAME, 960, 21);
    rec.end();
    expect(rec.stats).toMatchObject({ packets: 2, late: 1, invalid: 2 });
    expect(readOggOpus(Buffer.concat(chunks)).packets).toHaveLength(2);
  });

  it('as the engine packet sinks: a detached stretch becomes silence and each sink closes its own file', async () => {
    let now = 0;
    const tap = new RecordingTap({ dir, callId: 'call-sinks', now: () => now });
    const { caller, agents } = tap.sinks();
    for (let i = 0; i < 100; i++) {
      now = i * 20;
      // Detached (engine paused the tap) from 500 ms to 1500 ms: the engine delivers nothing then.
      if (now < 500 || now >= 1500) caller.write(callerFrames[i] as Buffer, 7 + i * 960);
    }
    agents.write(agentFrames[0] as Buffer, 1);
    expect(await caller.close()).toBe(join(dir, 'call-sinks.caller.ogg'));
    caller.write(callerFrames[0] as Buffer, 7 + 200 * 960); // after its close: ignored
    expect(tap.stats().caller).toMatchObject({ packets: 50, silenceFrames: 50, endSamples: 2000 * 48 });
    expect(await tap.close()).toEqual([join(dir, 'call-sinks.caller.ogg'), join(dir, 'call-sinks.agents.ogg')]);
    const starts = readOggOpus(await readFile(join(dir, 'call-sinks.caller.ogg'))).packets.map((p) => p.start);
    expect(starts).toEqual(Array.from({ length: 100 }, (_, i) => i * 960));
  });

  it('refuses a call id that is not safe as a file name', () => {
    expect(() => new RecordingTap({ dir, callId: '../x' })).toThrow(/unsafe call id/);
  });

  it('combining two empty directions gives a valid file with no audio', () => {
    const empty = () => {
      const chunks: Buffer[] = [];
      new DirectionRecorder((b) => chunks.push(b)).end();
      return Buffer.concat(chunks);
    };
    const { file } = combineOggOpus(empty(), empty());
    expect(readOggOpus(file).packets).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import {
  frameCount,
  OpusPacketError,
  packetSamples,
  parsePacket,
  parseToc,
  splitFrames,
  toSelfDelimited,
} from './packet.js';
import { OPUS_SILENCE_FRAME } from './prompts.js';

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('Opus packet framing', () => {
  it('reads frame sizes from the TOC configuration (SILK, hybrid, CELT)', () => {
    expect(parseToc(1 << 3).frameSamples).toBe(960); // SILK NB 20 ms
    expect(parseToc(3 << 3).frameSamples).toBe(2880); // SILK NB 60 ms
    expect(parseToc(12 << 3).frameSamples).toBe(480); // hybrid SWB 10 ms
    expect(parseToc(16 << 3).frameSamples).toBe(120); // CELT NB 2.5 ms
    expect(parseToc(31 << 3).frameSamples).toBe(960); // CELT FB 20 ms
    expect(parseToc(0xfc).stereo).toBe(true);
  });

  it('counts the silence frame as one 20 ms frame', () => {
    expect(frameCount(OPUS_SILENCE_FRAME)).toBe(1);
    expect(packetSamples(OPUS_SILENCE_FRAME)).toBe(960);
    expect(packetSamples(Buffer.alloc(0))).toBe(0);
  });

  it('splits code 1, 2 and 3 packets into their frames', () => {
    const c1 = Buffer.concat([Buffer.from([0xf9]), bytes(4, 1), bytes(4, 2)]);
    expect(parsePacket(c1).frames.map((f) => f[0])).toEqual([1, 2]);
    const c2 = Buffer.concat([Buffer.from([0xfa, 3]), bytes(3, 1), bytes(5, 2)]);
    expect(parsePacket(c2).frames.map((f) => f.length)).toEqual([3, 5]);
    const cbr = Buffer.concat([Buffer.from([0xfb, 3]), bytes(2, 1), bytes(2, 2), bytes(2, 3)]);
    expect(parsePacket(cbr).frames.map((f) => f[0])).toEqual([1, 2, 3]);
    // VBR with 2 bytes of padding: count byte 0b1100_0011, padding length 2, sizes 1 and 2, last is the rest.
    const vbr = Buffer.concat([Buffer.from([0xfb, 0xc3, 2, 1, 2]), bytes(1, 1), bytes(2, 2), bytes(3, 3), bytes(2, 0)]);
    expect(parsePacket(vbr).frames.map((f) => f.length)).toEqual([1, 2, 3]);
    expect(packetSamples(vbr)).toBe(3 * 960);
    expect(splitFrames(vbr).map((p) => [...p])).toEqual([
      [0xf8, 1],
      [0xf8, 2, 2],
      [0xf8, 3, 3, 3],
    ]);
  });

  it('refuses malformed packets with a clear error', () => {
    expect(() => parsePacket(Buffer.alloc(0))).toThrow(OpusPacketError);
    expect(() => parsePacket(Buffer.from([0xf9, 1, 2, 3]))).toThrow(/odd/);
    expect(() => parsePacket(Buffer.from([0xfa, 200, 1]))).toThrow(/overruns/);
    expect(() => parsePacket(Buffer.from([0xfb, 0]))).toThrow(/zero frames/);
  });

  it('writes self-delimiting framing with one- and two-byte lengths', () => {
    expect([...toSelfDelimited(OPUS_SILENCE_FRAME)]).toEqual([0xf8, 2, 0xff, 0xfe]);
    const big = Buffer.concat([Buffer.from([0xf8]), bytes(300, 7)]);
    const sd = toSelfDelimited(big);
    // 300 = 252 + (300 − 252) % 4 … first byte 252, second (300 − 252) / 4 = 12.
    expect([...sd.subarray(0, 3)]).toEqual([0xf8, 252, 12]);
    expect(sd.length).toBe(303);
    const c2 = Buffer.concat([Buffer.from([0xfa, 3]), bytes(3, 1), bytes(5, 2)]);
    expect([...toSelfDelimited(c2).subarray(0, 3)]).toEqual([0xfa, 3, 5]);
  });
});

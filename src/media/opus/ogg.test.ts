import { beforeAll, describe, expect, it } from 'vitest';
import { toneShare } from '../../audio/goertzel.js';
import { decodeOggOpus, encodeToneFile } from '../../testing/opus-fixtures.js';
import { OggFormatError, OggOpusWriter, oggCrc, readOggOpus, readOggPages, writeOggOpus } from './ogg.js';
import { OPUS_SILENCE_FRAME } from './prompts.js';

let tone20: Buffer;
let tone60: Buffer;

beforeAll(async () => {
  tone20 = await encodeToneFile(440, { seconds: 1 });
  tone60 = await encodeToneFile(440, { seconds: 1, frameMs: 60 });
});

describe('Ogg Opus reader', () => {
  it('computes the Ogg CRC of a known input', () => {
    // CRC-32/OGG check value of "123456789".
    expect(oggCrc(Buffer.from('123456789'))).toBe(0x89a1897f);
  });

  it('reads an opusenc file into its header, tags and 20 ms packets', () => {
    const f = readOggOpus(tone20);
    expect(f.head).toMatchObject({ channels: 1, preSkip: 312, inputSampleRate: 48000, mappingFamily: 0 });
    expect(f.vendor).toMatch(/libopus/);
    expect(f.comments.some((c) => c.startsWith('ENCODER='))).toBe(true);
    expect(f.packets.length).toBeGreaterThanOrEqual(50);
    expect(f.packets.every((p) => p.samples === 960)).toBe(true);
    expect(f.packets.map((p) => p.start).slice(0, 3)).toEqual([0, 960, 1920]);
    expect(f.endGranule).toBe(48000 + 312);
  });

  it('gives each packet of a 60 ms file its duration from the TOC', () => {
    const f = readOggOpus(tone60);
    expect(f.packets.every((p) => p.samples === 2880)).toBe(true);
  });

  it('refuses a corrupted page with an error that says where', () => {
    const bad = Buffer.from(tone20);
    bad[bad.length - 5] = (bad[bad.length - 5] as number) ^ 0xff;
    expect(() => readOggOpus(bad)).toThrow(OggFormatError);
    expect(() => readOggOpus(bad)).toThrow(/bad page CRC at byte \d+/);
    expect(() => readOggOpus(Buffer.from('not an ogg file at all, no sir'))).toThrow(/capture pattern/);
    expect(() => readOggOpus(tone20.subarray(0, 40))).toThrow(/truncated/);
  });
});

describe('Ogg Opus writer', () => {
  it('round-trips packets, keeping a gap between pages in the granule positions', () => {
    const packets = readOggOpus(tone20).packets.slice(0, 20);
    const placed = packets.map((p, i) => ({ data: p.data, start: i < 10 ? i * 960 : (i + 50) * 960 }));
    const back = readOggOpus(writeOggOpus(placed, { serial: 42 }));
    expect(back.serial).toBe(42);
    expect(back.head.preSkip).toBe(0);
    expect(back.packets.map((p) => p.start)).toEqual(placed.map((p) => p.start));
    expect(back.packets.map((p) => p.data.toString('hex'))).toEqual(placed.map((p) => p.data.toString('hex')));
    expect(back.endGranule).toBe(70 * 960);
  });

  it('marks the first page BOS and the last EOS, and numbers pages in sequence', () => {
    const w = new OggOpusWriter({ maxPacketsPerPage: 3 });
    const parts = [w.headerPages()];
    for (let i = 0; i < 10; i++) parts.push(w.write(OPUS_SILENCE_FRAME, i * 960));
    parts.push(w.end());
    const pages = readOggPages(Buffer.concat(parts));
    expect(pages[0]?.headerType).toBe(0x02);
    expect(pages.at(-1)?.headerType).toBe(0x04);
    expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
    expect(pages.slice(2).map((p) => p.segments.length)).toEqual([3, 3, 3, 1]);
  });

  it('refuses a packet that starts before the previous one ends', () => {
    const w = new OggOpusWriter();
    w.write(OPUS_SILENCE_FRAME, 960);
    expect(() => w.write(OPUS_SILENCE_FRAME, 0)).toThrow(/before the previous one ends/);
  });

  it('writes files opusdec decodes to the tone that was encoded', async () => {
    const packets = readOggOpus(tone20).packets;
    const file = writeOggOpus(packets.map((p, i) => ({ data: p.data, start: i * 960 })));
    const pcm = await decodeOggOpus(file);
    expect(pcm.channels).toHaveLength(1);
    const ch = pcm.channels[0] as Int16Array;
    expect(ch.length).toBeGreaterThan(45_000);
    expect(toneShare(ch, 440, 48000, 9600, 24000)).toBeGreaterThan(0.9);
  });
});

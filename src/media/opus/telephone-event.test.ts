import { describe, expect, it } from 'vitest';
import {
  dtmfEventCode,
  encodeTelephoneEvent,
  keyPressPackets,
  parseTelephoneEvent,
  TelephoneEventDeduper,
} from './telephone-event.js';

describe('RFC 4733 telephone-event', () => {
  it('parses the event, end bit, volume and duration of a payload', () => {
    expect(parseTelephoneEvent(Buffer.from([11, 0x8a, 0x03, 0x20]))).toEqual({
      event: 11,
      digit: '#',
      end: true,
      volume: 10,
      duration: 800,
    });
    expect(parseTelephoneEvent(Buffer.from([1, 0x0a, 0, 160]))).toMatchObject({
      digit: '1',
      end: false,
      duration: 160,
    });
    expect(parseTelephoneEvent(Buffer.from([1, 2, 3]))).toBeNull();
    expect(parseTelephoneEvent(Buffer.from([40, 0, 0, 0]))?.digit).toBeUndefined();
  });

  it('encodes what it parses', () => {
    for (const e of [
      { event: 0, end: false, volume: 0, duration: 0 },
      { event: 15, end: true, volume: 63, duration: 65535 },
    ]) {
      expect(parseTelephoneEvent(encodeTelephoneEvent(e))).toMatchObject(e);
    }
    expect(dtmfEventCode('*')).toBe(10);
    expect(dtmfEventCode('d')).toBe(15);
    expect(dtmfEventCode('x')).toBeUndefined();
  });

  it('a key press is sent as a marker packet, growing durations on one timestamp, and three end packets', () => {
    const packets = keyPressPackets('7', { timestamp: 1234, durationMs: 100 });
    expect(packets.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(new Set(packets.map((p) => p.timestamp))).toEqual(new Set([1234]));
    const parsed = packets.map((p) => parseTelephoneEvent(p.payload));
    expect(parsed.map((e) => e?.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(parsed.map((e) => e?.end)).toEqual([false, false, false, false, true, true, true]);
    expect(parsed.every((e) => e?.digit === '7')).toBe(true);
    expect(() => keyPressPackets('x', { timestamp: 0 })).toThrow(/not a DTMF key/);
  });

  it('three end packets give one digit, and a repeated key with a new timestamp gives another', () => {
    const d = new TelephoneEventDeduper();
    const digits: string[] = [];
    for (const [key, ts] of [
      ['1', 8000],
      ['1', 16000],
      ['#', 24000],
    ] as const) {
      for (const p of keyPressPackets(key, { timestamp: ts }))
        digits.push(...d.push(p.payload, p.timestamp).map((x) => x.digit));
    }
    expect(digits).toEqual(['1', '1', '#']);
  });

  it('reports a key whose end packets were all lost when the next key begins', () => {
    const d = new TelephoneEventDeduper();
    const first = keyPressPackets('4', { timestamp: 100 }).filter((p) => !parseTelephoneEvent(p.payload)?.end);
    const got = [...first, ...keyPressPackets('5', { timestamp: 900 })].flatMap((p) => d.push(p.payload, p.timestamp));
    expect(got.map((x) => [x.digit, x.endLost])).toEqual([
      ['4', true],
      ['5', false],
    ]);
  });

  it('ignores a late packet of a key already reported, and garbage', () => {
    const d = new TelephoneEventDeduper();
    const packets = keyPressPackets('9', { timestamp: 0xffff_fff0 });
    const got = [...packets, packets[0], packets[1]].flatMap((p) => (p ? d.push(p.payload, p.timestamp) : []));
    expect(got.map((x) => x.digit)).toEqual(['9']);
    expect(d.push(Buffer.from([0xff]), 5)).toEqual([]);
    expect(d.push(Buffer.from([200, 0x80, 0, 1]), 6)).toEqual([]);
  });
});

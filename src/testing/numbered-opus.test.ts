import { describe, expect, it } from 'vitest';
import { parsePacket } from '../media/opus/packet.js';
import { OPUS_SILENCE_FRAME } from '../media/opus/prompts.js';
import { ClipReceiver, NumberedReceiver, NumberedSender, numberPacket, readMarker } from './numbered-opus.js';

const frames = [Buffer.from([0xf8, 1, 2, 3]), Buffer.from([0xf8, 4, 5]), Buffer.from([0x08, 9, 9, 9, 9])];

describe('numbered Opus packets', () => {
  it('carry the frame unchanged as a valid code-3 Opus packet with the marker in its padding', () => {
    const p = numberPacket(frames[0] as Buffer, 77, 12345, 1.5e12 + 0.25);
    const parsed = parsePacket(p);
    expect(parsed.frames.map((f) => [...f])).toEqual([[1, 2, 3]]);
    expect(parsed.toc.config).toBe(31);
    expect(readMarker(p)).toEqual({ stream: 77, seq: 12345, sentAt: 1.5e12 + 0.25 });
    expect(readMarker(OPUS_SILENCE_FRAME)).toBeNull();
  });

  it('the receiver counts loss, clipping at the start, reordering and duplicates over a window', () => {
    const sender = new NumberedSender(5, frames);
    const rx = new NumberedReceiver(sender);
    const sent = Array.from({ length: 10 }, (_, i) => sender.next(1000 + i * 20));
    const deliver = (i: number, at: number) => rx.take(sent[i] as Buffer, readMarker(sent[i] as Buffer)!, at);
    // 0 and 1 lost (clipped), 5 lost, 7 and 6 swapped, 8 twice.
    for (const i of [2, 3, 4, 7, 6, 8, 8, 9]) deliver(i, 1000 + i * 20 + 3);
    const r = rx.report({ since: 1000, until: 2000, settleMs: 0 });
    expect(r).toMatchObject({ expected: 10, received: 7, lost: 3, clippedMs: 40, reordered: 1, duplicates: 1 });
    expect(r.latencyP50Ms).toBeCloseTo(3);
  });

  it('a packet whose Opus bytes changed in transit counts as corrupted, not received', () => {
    const sender = new NumberedSender(5, frames);
    const rx = new NumberedReceiver(sender);
    const p = sender.next(1000);
    p[4] = 0xee;
    rx.take(p, readMarker(p)!, 1001);
    const other = new NumberedSender(6, frames).next(1000);
    rx.take(other, readMarker(other)!, 1001);
    expect(rx.corrupted).toBe(2);
    expect(rx.received).toBe(0);
  });

  it('a looped clip is followed frame by frame, across the loop point, and gaps count as lost', () => {
    const clip = [Buffer.from([0xf8, 1]), Buffer.from([0xf8, 2]), Buffer.from([0xf8, 3]), Buffer.from([0xf8, 4])];
    const rx = new ClipReceiver(clip);
    for (const i of [1, 2, 3, 0, 1, 3, 0]) rx.take(clip[i] as Buffer);
    rx.take(OPUS_SILENCE_FRAME);
    expect(rx).toMatchObject({ received: 7, lost: 1, foreign: 1 });
  });
});

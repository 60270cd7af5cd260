/**
 * Opus packet framing (RFC 6716 §3 and appendix B) without decoding: the TOC byte, the frames a packet holds, their
 * duration, and the self-delimiting form a multistream packet needs for every stream but the last.
 */

/** Samples per second of every Opus timestamp (RTP clock, Ogg granule). */
export const OPUS_RATE = 48_000;
/** The frame length players and the recording work in. */
export const OPUS_FRAME_MS = 20;
/** 20 ms at 48 kHz: one frame's RTP timestamp step and granule step. */
export const OPUS_FRAME_SAMPLES = 960;

/** Frame length in 48 kHz samples for each TOC configuration (0–31), RFC 6716 table 2. */
function frameSamplesOf(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4] as number; // SILK 10/20/40/60 ms
  if (config < 16) return [480, 960][config % 2] as number; // hybrid 10/20 ms
  return [120, 240, 480, 960][config % 4] as number; // CELT 2.5/5/10/20 ms
}

export interface OpusToc {
  config: number;
  stereo: boolean;
  /** Frame count code c (0–3). */
  code: number;
  /** One frame's length in 48 kHz samples. */
  frameSamples: number;
}

export function parseToc(toc: number): OpusToc {
  const config = toc >> 3;
  return { config, stereo: (toc & 0x04) !== 0, code: toc & 0x03, frameSamples: frameSamplesOf(config) };
}

export class OpusPacketError extends Error {
  override readonly name = 'OpusPacketError';
}

/** How many frames the packet holds (0 for an empty or truncated code-3 packet). */
export function frameCount(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const code = (packet[0] as number) & 0x03;
  if (code === 0) return 1;
  if (code !== 3) return 2;
  return packet.length < 2 ? 0 : (packet[1] as number) & 0x3f;
}

/** The packet's duration in 48 kHz samples (0 for an empty packet, which a decoder treats as lost). */
export function packetSamples(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  return frameCount(packet) * frameSamplesOf((packet[0] as number) >> 3);
}

/** Reads a frame length (1 or 2 bytes, RFC 6716 §3.2.1) at `at`; returns [length, bytesUsed]. */
function readLength(p: Uint8Array, at: number): [number, number] {
  const b0 = p[at];
  if (b0 === undefined) throw new OpusPacketError('truncated frame length');
  if (b0 < 252) return [b0, 1];
  const b1 = p[at + 1];
  if (b1 === undefined) throw new OpusPacketError('truncated frame length');
  return [b1 * 4 + b0, 2];
}

function writeLength(n: number): number[] {
  if (n < 252) return [n];
  if (n > 1275) throw new OpusPacketError(`an Opus frame is at most 1275 bytes, not ${n}`);
  const b0 = 252 + ((n - 252) & 3);
  return [b0, (n - b0) >> 2];
}

export interface ParsedOpusPacket {
  toc: OpusToc;
  /** The compressed frames, as views into the packet. */
  frames: Uint8Array[];
}

/** Splits a (non-self-delimited) packet into its frames; throws {@link OpusPacketError} if it is malformed. */
export function parsePacket(packet: Uint8Array): ParsedOpusPacket {
  if (packet.length === 0) throw new OpusPacketError('empty packet');
  const toc = parseToc(packet[0] as number);
  const frames: Uint8Array[] = [];
  let at = 1;
  if (toc.code === 0) {
    frames.push(packet.subarray(1));
  } else if (toc.code === 1) {
    if ((packet.length - 1) % 2 !== 0) throw new OpusPacketError('code 1 packet with an odd payload');
    const half = (packet.length - 1) / 2;
    frames.push(packet.subarray(1, 1 + half), packet.subarray(1 + half));
  } else if (toc.code === 2) {
    const [n1, used] = readLength(packet, at);
    at += used;
    if (at + n1 > packet.length) throw new OpusPacketError('code 2 first frame overruns the packet');
    frames.push(packet.subarray(at, at + n1), packet.subarray(at + n1));
  } else {
    const countByte = packet[at++];
    if (countByte === undefined) throw new OpusPacketError('code 3 packet without a frame count');
    const vbr = (countByte & 0x80) !== 0;
    const hasPadding = (countByte & 0x40) !== 0;
    const m = countByte & 0x3f;
    if (m === 0) throw new OpusPacketError('code 3 packet with zero frames');
    if (m * toc.frameSamples > 5760) throw new OpusPacketError('packet longer than 120 ms');
    let padding = 0;
    if (hasPadding) {
      for (;;) {
        const b = packet[at++];
        if (b === undefined) throw new OpusPacketError('truncated padding length');
        padding += b === 255 ? 254 : b;
        if (b !== 255) break;
      }
    }
    const end = packet.length - padding;
    const sizes: number[] = [];
    if (vbr) {
      for (let i = 0; i < m - 1; i++) {
        const [n, used] = readLength(packet, at);
        at += used;
        sizes.push(n);
      }
      const last = end - at - sizes.reduce((a, b) => a + b, 0);
      if (last < 0) throw new OpusPacketError('code 3 frames overrun the packet');
      sizes.push(last);
    } else {
      const total = end - at;
      if (total < 0 || total % m !== 0) throw new OpusPacketError('code 3 CBR payload not a multiple of the count');
      for (let i = 0; i < m; i++) sizes.push(total / m);
    }
    for (const n of sizes) {
      if (at + n > end) throw new OpusPacketError('code 3 frames overrun the packet');
      frames.push(packet.subarray(at, at + n));
      at += n;
    }
  }
  for (const f of frames) {
    if (f.length > 1275) throw new OpusPacketError('frame longer than 1275 bytes');
  }
  return { toc, frames };
}

/** A one-frame (code 0) packet with `tocByte`'s configuration and stereo flag. */
export function singleFramePacket(tocByte: number, frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(frame.length + 1);
  out[0] = tocByte & 0xfc;
  out.set(frame, 1);
  return out;
}

/**
 * The packet's frames as one-frame packets (a 60 ms packet of three 20 ms frames gives three 20 ms packets), so a
 * player can send on a fixed 20 ms clock without decoding. A one-frame packet comes back as is.
 */
export function splitFrames(packet: Uint8Array): Buffer[] {
  const parsed = parsePacket(packet);
  if (parsed.frames.length === 1) return [Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)];
  return parsed.frames.map((f) => singleFramePacket(packet[0] as number, f));
}

/**
 * The packet in self-delimiting framing (RFC 6716 appendix B): the same frames, with the last frame's length
 * written out so that another stream's packet can follow in one multistream packet. Padding is dropped.
 */
export function toSelfDelimited(packet: Uint8Array): Buffer {
  const { frames } = parsePacket(packet);
  const tocBase = (packet[0] as number) & 0xfc;
  const bytes: number[] = [];
  const first = frames[0] as Uint8Array;
  if (frames.length === 1) {
    bytes.push(tocBase, ...writeLength(first.length));
  } else if (frames.length === 2 && first.length === (frames[1] as Uint8Array).length) {
    bytes.push(tocBase | 1, ...writeLength(first.length));
  } else if (frames.length === 2) {
    bytes.push(tocBase | 2, ...writeLength(first.length), ...writeLength((frames[1] as Uint8Array).length));
  } else {
    const cbr = frames.every((f) => f.length === first.length);
    if (cbr) {
      bytes.push(tocBase | 3, frames.length, ...writeLength(first.length));
    } else {
      bytes.push(tocBase | 3, 0x80 | frames.length);
      for (const f of frames) bytes.push(...writeLength(f.length));
    }
  }
  const header = Buffer.from(bytes);
  return Buffer.concat([header, ...frames]);
}

/**
 * Ogg Opus files (RFC 3533 pages, RFC 7845 Opus mapping) in TypeScript: a reader that turns a file into Opus packets
 * with their durations and granule positions, and a writer that turns packets and granule positions into pages.
 */
import { OPUS_RATE, packetSamples } from './packet.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, initial value 0, no final xor). */
export function oggCrc(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (data[i] as number)) & 0xff] as number)) >>> 0;
  }
  return crc;
}

export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;
/** Granule position of a page on which no packet ends. */
export const NO_GRANULE = -1n;

export interface OggPage {
  headerType: number;
  granule: bigint;
  serial: number;
  sequence: number;
  /** Lacing values. */
  segments: number[];
  body: Uint8Array;
}

export class OggFormatError extends Error {
  override readonly name = 'OggFormatError';
}

/** Reads every page of an Ogg physical stream, checking capture patterns and CRCs. */
export function readOggPages(data: Uint8Array): OggPage[] {
  const pages: OggPage[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at < data.length) {
    if (data.length - at < 27) throw new OggFormatError(`truncated page header at byte ${at}`);
    if (view.getUint32(at) !== 0x4f676753) throw new OggFormatError(`no "OggS" capture pattern at byte ${at}`);
    if (data[at + 4] !== 0) throw new OggFormatError(`unknown Ogg version ${data[at + 4]} at byte ${at}`);
    const nSegments = data[at + 26] as number;
    const headerLen = 27 + nSegments;
    if (data.length - at < headerLen) throw new OggFormatError(`truncated segment table at byte ${at}`);
    const segments = Array.from(data.subarray(at + 27, at + headerLen));
    const bodyLen = segments.reduce((a, b) => a + b, 0);
    if (data.length - at < headerLen + bodyLen) throw new OggFormatError(`truncated page body at byte ${at}`);
    // A copy (Buffer#slice would be a view) with the CRC field zeroed, as the CRC was computed.
    const page = new Uint8Array(data.subarray(at, at + headerLen + bodyLen));
    const stored = view.getUint32(at + 22, true);
    page.fill(0, 22, 26);
    if (oggCrc(page) !== stored) throw new OggFormatError(`bad page CRC at byte ${at}`);
    pages.push({
      headerType: data[at + 5] as number,
      granule: view.getBigInt64(at + 6, true),
      serial: view.getUint32(at + 14, true),
      sequence: view.getUint32(at + 18, true),
      segments,
      body: data.subarray(at + headerLen, at + headerLen + bodyLen),
    });
    at += headerLen + bodyLen;
  }
  return pages;
}

/** Serializes one page (computes its CRC). */
export function writeOggPage(page: OggPage): Buffer {
  if (page.segments.length > 255) throw new OggFormatError('a page holds at most 255 segments');
  const headerLen = 27 + page.segments.length;
  const out = Buffer.alloc(headerLen + page.body.length);
  out.write('OggS', 0, 'latin1');
  out[4] = 0;
  out[5] = page.headerType;
  out.writeBigInt64LE(page.granule, 6);
  out.writeUInt32LE(page.serial >>> 0, 14);
  out.writeUInt32LE(page.sequence >>> 0, 18);
  out[26] = page.segments.length;
  out.set(page.segments, 27);
  out.set(page.body, headerLen);
  out.writeUInt32LE(oggCrc(out), 22);
  return out;
}

/** One Opus packet with the time it covers, in 48 kHz samples from the start of the stream (pre-skip included). */
export interface OggOpusPacket {
  data: Buffer;
  /** Duration from the TOC byte. */
  samples: number;
  /** Granule position where the packet starts, derived from the page granules (gaps between pages kept). */
  start: number;
}

/** OpusHead (RFC 7845 §5.1). */
export interface OpusHead {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
  /** Family ≠ 0 only. */
  streams?: number;
  coupled?: number;
  mapping?: number[];
}

export interface OggOpusFile {
  head: OpusHead;
  vendor: string;
  comments: string[];
  serial: number;
  packets: OggOpusPacket[];
  /** Granule position of the last page (end of the audio, pre-skip included). */
  endGranule: number;
}

function parseHead(p: Uint8Array): OpusHead {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.length < 19 || b.toString('latin1', 0, 8) !== 'OpusHead')
    throw new OggFormatError('first packet is not OpusHead');
  if ((b[8] as number) >> 4 !== 0) throw new OggFormatError(`unsupported OpusHead version ${b[8]}`);
  const head: OpusHead = {
    channels: b[9] as number,
    preSkip: b.readUInt16LE(10),
    inputSampleRate: b.readUInt32LE(12),
    outputGain: b.readInt16LE(16),
    mappingFamily: b[18] as number,
  };
  if (head.channels === 0) throw new OggFormatError('OpusHead with zero channels');
  if (head.mappingFamily !== 0) {
    if (b.length < 21 + head.channels) throw new OggFormatError('OpusHead channel mapping table is truncated');
    head.streams = b[19] as number;
    head.coupled = b[20] as number;
    head.mapping = Array.from(b.subarray(21, 21 + head.channels));
  }
  return head;
}

function parseTags(p: Uint8Array): { vendor: string; comments: string[] } {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.length < 16 || b.toString('latin1', 0, 8) !== 'OpusTags')
    throw new OggFormatError('second packet is not OpusTags');
  const vendorLen = b.readUInt32LE(8);
  let at = 12 + vendorLen;
  if (at + 4 > b.length) throw new OggFormatError('OpusTags vendor string is truncated');
  const vendor = b.toString('utf8', 12, at);
  const count = b.readUInt32LE(at);
  at += 4;
  const comments: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > b.length) throw new OggFormatError('OpusTags comment list is truncated');
    const len = b.readUInt32LE(at);
    at += 4;
    if (at + len > b.length) throw new OggFormatError('OpusTags comment is truncated');
    comments.push(b.toString('utf8', at, at + len));
    at += len;
  }
  return { vendor, comments };
}

/**
 * Parses an Ogg Opus file (the first logical stream; chained or multiplexed streams are refused). Each audio
 * packet gets its duration from its TOC byte and its start from the granule position of the page it ends on, so a
 * gap between pages (a paused recording) stays a gap. Throws {@link OggFormatError} on anything malformed.
 */
export function readOggOpus(data: Uint8Array): OggOpusFile {
  const pages = readOggPages(data);
  if (pages.length === 0) throw new OggFormatError('no Ogg pages');
  const first = pages[0] as OggPage;
  if (!(first.headerType & OGG_BOS)) throw new OggFormatError('first page is not a beginning-of-stream page');
  const serial = first.serial;
  const raw: Buffer[] = [];
  /** Per audio page: the index of the first packet that ends on the following page, and the page's granule. */
  const pageEnds: { packetsEnded: number; granule: bigint }[] = [];
  let partial: Uint8Array[] = [];
  for (const page of pages) {
    if (page.serial !== serial) throw new OggFormatError('more than one logical stream (multiplexed or chained)');
    let at = 0;
    for (const lace of page.segments) {
      partial.push(page.body.subarray(at, at + lace));
      at += lace;
      if (lace < 255) {
        raw.push(Buffer.concat(partial));
        partial = [];
      }
    }
    pageEnds.push({ packetsEnded: raw.length, granule: page.granule });
  }
  if (raw.length < 2) throw new OggFormatError('missing OpusHead or OpusTags');
  const head = parseHead(raw[0] as Buffer);
  const { vendor, comments } = parseTags(raw[1] as Buffer);
  const packets: OggOpusPacket[] = [];
  let done = 2;
  let endGranule = 0;
  let cursor = 0;
  for (const { packetsEnded, granule } of pageEnds) {
    if (packetsEnded <= done) continue;
    const onPage = raw.slice(done, packetsEnded).map((d) => ({ data: d, samples: packetSamples(d) }));
    const total = onPage.reduce((a, p) => a + p.samples, 0);
    // A page's granule is where its last packet ends, so its packets start at granule − their durations.
    let start = granule === NO_GRANULE ? cursor : Math.max(cursor, Number(granule) - total);
    if (packets.length === 0 && granule !== NO_GRANULE) start = Number(granule) - total;
    for (const p of onPage) {
      packets.push({ data: p.data, samples: p.samples, start });
      start += p.samples;
    }
    cursor = start;
    endGranule = granule === NO_GRANULE ? cursor : Number(granule);
    done = packetsEnded;
  }
  return { head, vendor, comments, serial, packets, endGranule };
}

export interface OggOpusWriterOptions {
  /** @default 1 */
  channels?: number;
  /** Samples the decoder drops at the start. @default 0 (RTP streams: the encoder's delay is unknown) */
  preSkip?: number;
  /** @default 48000 */
  inputSampleRate?: number;
  /** Mapping family 1 or 255 with this many streams and coupled streams; omitted for family 0 (mono/stereo). */
  multistream?: { family: 1 | 255; streams: number; coupled: number; mapping: number[] };
  /** A page is completed once it holds this many packets (a crash loses at most one page). @default 50 */
  maxPacketsPerPage?: number;
  /** Stream serial number. @default random */
  serial?: number;
  vendor?: string;
  comments?: string[];
}

/**
 * Builds Ogg pages for an Opus stream: headers first, then packets placed by granule position. A page ends when
 * asked to ({@link flush}), when a packet does not start where the previous one ended (so the gap is carried by
 * the granule positions), or when it is full. Returns bytes to append; it does no I/O itself.
 */
export class OggOpusWriter {
  readonly serial: number;
  #sequence = 0;
  #pending: { data: Uint8Array; end: number }[] = [];
  #pendingBytes = 0;
  #lastEnd: number | undefined;
  #ended = false;
  readonly #maxPackets: number;

  constructor(opts: OggOpusWriterOptions = {}) {
    this.serial = opts.serial ?? (Math.random() * 0x1_0000_0000) >>> 0;
    this.#maxPackets = opts.maxPacketsPerPage ?? 50;
    this.#headers = [opusHead(opts), opusTags(opts.vendor ?? 'wa-callcenter', opts.comments ?? [])];
  }

  readonly #headers: Buffer[];

  /** The OpusHead page (BOS) and the OpusTags page: the first bytes of the file. */
  headerPages(): Buffer {
    return Buffer.concat([
      this.#page(OGG_BOS, 0n, [this.#headers[0] as Buffer]),
      this.#page(0, 0n, [this.#headers[1] as Buffer]),
    ]);
  }

  /** End of the last packet written, or undefined before the first one. */
  get lastEnd(): number | undefined {
    return this.#lastEnd;
  }

  /**
   * Adds a packet that starts at granule `start` (48 kHz samples) and lasts `samples` (from its TOC by default).
   * Returns the bytes of any page completed by it (a gap before it completes the previous page).
   */
  write(data: Uint8Array, start: number, samples = packetSamples(data)): Buffer {
    if (this.#ended) throw new OggFormatError('the stream has ended');
    if (this.#lastEnd !== undefined && start < this.#lastEnd) {
      throw new OggFormatError(`packet starts at ${start}, before the previous one ends (${this.#lastEnd})`);
    }
    let out: Buffer = Buffer.alloc(0);
    if (this.#lastEnd !== undefined && start !== this.#lastEnd) out = this.flush();
    const laces = Math.floor(data.length / 255) + 1;
    if (this.#pendingLaces() + laces > 255 || this.#pendingBytes + data.length > 60_000) {
      out = Buffer.concat([out, this.flush()]);
    }
    this.#pending.push({ data, end: start + samples });
    this.#pendingBytes += data.length;
    this.#lastEnd = start + samples;
    if (this.#pending.length >= this.#maxPackets) out = Buffer.concat([out, this.flush()]);
    return out;
  }

  /** Completes a page with what is pending (nothing if nothing is). */
  flush(eos = false): Buffer {
    if (this.#pending.length === 0) return Buffer.alloc(0);
    const last = this.#pending[this.#pending.length - 1] as { end: number };
    const page = this.#page(
      eos ? OGG_EOS : 0,
      BigInt(last.end),
      this.#pending.map((p) => p.data),
    );
    this.#pending = [];
    this.#pendingBytes = 0;
    return page;
  }

  /** The final page, marked end-of-stream (an empty page when nothing is pending). */
  end(): Buffer {
    if (this.#ended) return Buffer.alloc(0);
    this.#ended = true;
    if (this.#pending.length > 0) return this.flush(true);
    return this.#page(OGG_EOS, BigInt(this.#lastEnd ?? 0), []);
  }

  #pendingLaces(): number {
    return this.#pending.reduce((a, p) => a + Math.floor(p.data.length / 255) + 1, 0);
  }

  #page(headerType: number, granule: bigint, packets: Uint8Array[]): Buffer {
    const segments: number[] = [];
    for (const p of packets) {
      let left = p.length;
      while (left >= 255) {
        segments.push(255);
        left -= 255;
      }
      segments.push(left);
    }
    return writeOggPage({
      headerType,
      granule,
      serial: this.serial,
      sequence: this.#sequence++,
      segments,
      body: Buffer.concat(packets),
    });
  }
}

function opusHead(opts: OggOpusWriterOptions): Buffer {
  const ms = opts.multistream;
  const channels = ms ? ms.mapping.length : (opts.channels ?? 1);
  const b = Buffer.alloc(ms ? 21 + channels : 19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(opts.preSkip ?? 0, 10);
  b.writeUInt32LE(opts.inputSampleRate ?? OPUS_RATE, 12);
  b.writeInt16LE(0, 16);
  b[18] = ms ? ms.family : 0;
  if (ms) {
    b[19] = ms.streams;
    b[20] = ms.coupled;
    b.set(ms.mapping, 21);
  }
  return b;
}

function opusTags(vendor: string, comments: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'latin1')];
  const v = Buffer.from(vendor, 'utf8');
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u32(v.length), v, u32(comments.length));
  for (const c of comments) {
    const cb = Buffer.from(c, 'utf8');
    parts.push(u32(cb.length), cb);
  }
  return Buffer.concat(parts);
}

/** A whole Ogg Opus file from packets placed by granule (see {@link OggOpusWriter}). */
export function writeOggOpus(
  packets: readonly { data: Uint8Array; start: number; samples?: number }[],
  opts: OggOpusWriterOptions = {},
): Buffer {
  const w = new OggOpusWriter(opts);
  const parts = [w.headerPages()];
  for (const p of packets) parts.push(w.write(p.data, p.start, p.samples));
  parts.push(w.end());
  return Buffer.concat(parts);
}

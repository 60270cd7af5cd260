/**
 * Numbered Opus packets for a load rig that never decodes: every packet a rig peer sends is a real Opus frame (from
 * a tone pre-encoded with opusenc, so a real decoder hears the tone) re-framed as a code-3 packet whose padding
 * carries a marker: stream id, sequence number and the send time. Decoders ignore padding (RFC 6716 §3.2.5), the
 * bridge forwards it untouched, and the far side checks each packet byte for byte against what was sent, which gives
 * loss, order, duplicates, corruption and one-way latency without any DSP.
 */

const MAGIC = 0x4e524731; // "NRG1"
/** Marker bytes at the end of the padding: magic, stream, sequence, send time (float64 epoch ms). */
const MARKER_BYTES = 20;

/** Epoch ms with sub-ms resolution from the monotonic clock (processes on one host agree to about a ms). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The numbered form of a one-frame (code 0) Opus packet: TOC with code 3, a frame count byte with the padding
 * flag, the padding length, the frame, then the padding that holds the marker.
 */
export function numberPacket(base: Uint8Array, stream: number, seq: number, sentAt: number): Buffer {
  if (base.length < 1 || ((base[0] as number) & 3) !== 0) throw new Error('numberPacket takes a one-frame Opus packet');
  const out = Buffer.allocUnsafe(base.length + 2 + MARKER_BYTES);
  out[0] = (base[0] as number) | 3;
  out[1] = 0x41; // no VBR, padding, one frame
  out[2] = MARKER_BYTES;
  out.set(base.subarray(1), 3);
  const at = base.length + 2;
  out.writeUInt32BE(MAGIC, at);
  out.writeUInt32BE(stream >>> 0, at + 4);
  out.writeUInt32BE(seq >>> 0, at + 8);
  out.writeDoubleBE(sentAt, at + 12);
  return out;
}

export interface NumberedMarker {
  stream: number;
  seq: number;
  sentAt: number;
}

/** The marker of a numbered packet, or null when the payload is not one (a prompt, silence, something else). */
export function readMarker(payload: Uint8Array): NumberedMarker | null {
  const n = payload.length;
  if (
    n < 3 + MARKER_BYTES ||
    ((payload[0] as number) & 3) !== 3 ||
    payload[1] !== 0x41 ||
    payload[2] !== MARKER_BYTES
  ) {
    return null;
  }
  const b = Buffer.from(payload.buffer, payload.byteOffset, n);
  const at = n - MARKER_BYTES;
  if (b.readUInt32BE(at) !== MAGIC) return null;
  return { stream: b.readUInt32BE(at + 4), seq: b.readUInt32BE(at + 8), sentAt: b.readDoubleBE(at + 12) };
}

/** Whether a numbered payload carries exactly `base`'s Opus frame (byte for byte). */
function carriesFrame(payload: Uint8Array, base: Uint8Array): boolean {
  const frameLen = payload.length - 3 - MARKER_BYTES;
  if (frameLen !== base.length - 1 || ((payload[0] as number) & 0xfc) !== (base[0] as number)) return false;
  for (let i = 0; i < frameLen; i++) if (payload[3 + i] !== base[1 + i]) return false;
  return true;
}

/** A growable array of numbers. */
class Series {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = new Float64Array(Math.max(this.data.length * 2, i + 1));
      next.set(this.data);
      this.data = next;
    }
    this.data[i] = v;
    if (i >= this.length) this.length = i + 1;
  }
  get(i: number): number {
    return i < this.length ? (this.data[i] as number) : Number.NaN;
  }
}

/** What one sender sent: the send time of each sequence number. */
export class NumberedSender {
  readonly #frames: readonly Buffer[];
  readonly stream: number;
  readonly #sentAt = new Series();
  #seq = 0;

  /** `frames`: one-frame Opus packets to cycle through (e.g. a pre-encoded tone). */
  constructor(stream: number, frames: readonly Buffer[]) {
    if (frames.length === 0) throw new Error('a numbered sender needs at least one frame');
    this.stream = stream >>> 0;
    this.#frames = frames;
  }

  get sent(): number {
    return this.#seq;
  }

  /** The next numbered payload, stamped now. */
  next(now = epochMs()): Buffer {
    const seq = this.#seq++;
    this.#sentAt.set(seq, now);
    return numberPacket(this.#frames[seq % this.#frames.length] as Buffer, this.stream, seq, now);
  }

  /** The frame that sequence number `seq` carries. */
  frameOf(seq: number): Buffer {
    return this.#frames[seq % this.#frames.length] as Buffer;
  }

  sentAt(seq: number): number {
    return this.#sentAt.get(seq);
  }

  /** Sequence numbers sent in [since, until), as a range [first, end). */
  seqRange(since: number, until: number): [number, number] {
    let first = this.#seq;
    let end = 0;
    for (let s = 0; s < this.#seq; s++) {
      const t = this.#sentAt.get(s);
      if (t >= since && t < until) {
        if (s < first) first = s;
        end = s + 1;
      }
    }
    return first >= end ? [0, 0] : [first, end];
  }
}

/** What one receiver got from one stream. */
export class NumberedReceiver {
  readonly #arrivedAt = new Series();
  #maxSeq = -1;
  received = 0;
  duplicates = 0;
  /** Packets that arrived after a higher sequence number. */
  reordered = 0;
  /** Numbered packets whose Opus frame was not the one sent, or from an unexpected stream. */
  corrupted = 0;

  constructor(readonly sender: NumberedSender) {}

  /** One received payload (already known to carry a marker for this stream). */
  take(payload: Uint8Array, marker: NumberedMarker, now = epochMs()): void {
    if (marker.stream !== this.sender.stream || !carriesFrame(payload, this.sender.frameOf(marker.seq))) {
      this.corrupted++;
      return;
    }
    if (this.#arrivedAt.get(marker.seq) > 0) {
      this.duplicates++;
      return;
    }
    this.#arrivedAt.set(marker.seq, now);
    this.received++;
    if (marker.seq < this.#maxSeq) this.reordered++;
    else this.#maxSeq = marker.seq;
  }

  /**
   * Over the packets sent in [since, until − settleMs): how many arrived, how many are missing, how many went missing
   * at the start (clipping: before the first one that arrived), and the one-way latency.
   */
  report(window: { since: number; until: number; settleMs?: number }): NumberedReport {
    const [first, end] = this.sender.seqRange(window.since, window.until - (window.settleMs ?? 300));
    const latencies: number[] = [];
    let firstArrived = -1;
    for (let s = first; s < end; s++) {
      const at = this.#arrivedAt.get(s);
      if (!(at > 0)) continue;
      if (firstArrived < 0) firstArrived = s;
      latencies.push(at - this.sender.sentAt(s));
    }
    latencies.sort((a, b) => a - b);
    const expected = end - first;
    const pick = (q: number) =>
      latencies.length ? (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number) : null;
    return {
      expected,
      received: latencies.length,
      lost: expected - latencies.length,
      lossPct: expected > 0 ? (100 * (expected - latencies.length)) / expected : 0,
      clippedMs: expected === 0 ? 0 : ((firstArrived < 0 ? end : firstArrived) - first) * 20,
      latencyP50Ms: pick(0.5),
      latencyP99Ms: pick(0.99),
      reordered: this.reordered,
      duplicates: this.duplicates,
      corrupted: this.corrupted,
    };
  }
}

export interface NumberedReport {
  expected: number;
  received: number;
  lost: number;
  lossPct: number;
  /** Packets missing before the first one that arrived in the window, × 20 ms. */
  clippedMs: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  reordered: number;
  duplicates: number;
  corrupted: number;
}

/**
 * Checks that a looped clip (a player's music) arrives in order, frame by frame: each payload must be one of the
 * clip's frames, and the one after the previous (a skipped frame counts as lost).
 */
export class ClipReceiver {
  readonly #index = new Map<string, number[]>();
  readonly #n: number;
  #last = -1;
  received = 0;
  lost = 0;
  /** Payloads that are not a frame of the clip (silence, numbered packets, corruption). */
  foreign = 0;

  constructor(frames: readonly Buffer[]) {
    this.#n = frames.length;
    frames.forEach((f, i) => {
      const key = f.toString('base64');
      const list = this.#index.get(key);
      if (list) list.push(i);
      else this.#index.set(key, [i]);
    });
  }

  take(payload: Uint8Array): void {
    const at = this.#index.get(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('base64'));
    if (!at) {
      this.foreign++;
      return;
    }
    this.received++;
    const expected = (this.#last + 1) % this.#n;
    const idx =
      this.#last < 0 || at.includes(expected) ? (this.#last < 0 ? (at[0] as number) : expected) : (at[0] as number);
    if (this.#last >= 0 && idx !== expected) this.lost += (idx - expected + this.#n) % this.#n;
    this.#last = idx;
  }
}

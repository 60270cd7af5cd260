/**
 * The recording tap: Opus payloads with their RTP timestamps become one Ogg Opus file per direction, on one timeline
 * that starts when recording starts, plus {@link combineOggOpus}, which makes one file in which both parties are
 * heard.
 *
 * Timeline: a direction's first packet is placed at the wall-clock time it arrived (rounded to the 20 ms grid);
 * every later packet at that place plus its RTP timestamp distance (32-bit wrap-around unwrapped), so network
 * jitter does not move audio and the two directions never drift apart. A new SSRC, or a timestamp that strays more
 * than `resyncMs` from the wall clock (a sender that restarted its timestamps), re-anchors on the wall clock.
 *
 * Gaps (loss, a paused recording, a silent sender) stay in time: they are filled with 3-byte Opus silence frames
 * (≈ 200 bytes per second of gap) rather than left as jumps in the granule positions, because common decoders
 * (opusdec, browsers) ignore such jumps and would play the audio after a gap too early. A pause therefore writes no
 * audio, only silence, and the file's length is the recording's wall-clock length.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpusPacketSink } from '../../rtc/engine.js';
import { childLogger, type MediaLogger, silentMediaLogger } from '../../rtc/log.js';
import { OggOpusWriter, readOggOpus } from './ogg.js';
import { OPUS_FRAME_SAMPLES, OPUS_RATE, packetSamples, parseToc, splitFrames, toSelfDelimited } from './packet.js';
import { OPUS_SILENCE_FRAME } from './prompts.js';

export type RecordingDirection = 'caller' | 'agents';

export interface DirectionStats {
  /** Opus packets written. */
  packets: number;
  /** Silence frames written into gaps. */
  silenceFrames: number;
  /** Packets dropped because they started before the previous one ended (duplicates, late reordering). */
  late: number;
  /** Packets dropped as unusable (empty, or no valid TOC). */
  invalid: number;
  /** Times the timeline re-anchored on the wall clock. */
  resyncs: number;
  /** End of the last packet, in 48 kHz samples since the recording started. */
  endSamples: number;
}

export interface DirectionRecorderOptions {
  /** A timestamp further than this from the wall clock re-anchors the timeline. @default 1000 */
  resyncMs?: number;
  /** Stream serial number. @default random */
  serial?: number;
  comments?: string[];
}

/**
 * One direction of a recording: places packets on the timeline and hands Ogg bytes to `sink`. Pure apart from the
 * sink; the caller supplies arrival times (ms since the recording started).
 */
export class DirectionRecorder {
  readonly #writer: OggOpusWriter;
  readonly #sink: (bytes: Buffer) => void;
  readonly #resyncSamples: number;
  #ssrc: number | undefined;
  #prevTs = 0;
  /** Unwrapped timestamp of the last packet. */
  #ext = 0;
  #anchorExt = 0;
  #anchorPos = 0;
  #anchored = false;
  #end = 0;
  #ended = false;
  readonly #stats = { packets: 0, silenceFrames: 0, late: 0, invalid: 0, resyncs: 0 };

  constructor(sink: (bytes: Buffer) => void, opts: DirectionRecorderOptions = {}) {
    this.#sink = sink;
    this.#resyncSamples = ((opts.resyncMs ?? 1000) * OPUS_RATE) / 1000;
    this.#writer = new OggOpusWriter({ serial: opts.serial, comments: opts.comments });
    this.#sink(this.#writer.headerPages());
  }

  /**
   * One received packet. `arrivalMs` is the time since the recording started; with `write` false (paused) the
   * timeline still follows the timestamps but nothing is written, so the pause becomes silence on resume.
   */
  packet(payload: Uint8Array, rtpTimestamp: number, arrivalMs: number, opts: { ssrc?: number; write?: boolean } = {}) {
    if (this.#ended) return;
    const wall = Math.max(0, Math.round((arrivalMs * OPUS_RATE) / 1000));
    const ts = rtpTimestamp >>> 0;
    if (!this.#anchored || (opts.ssrc !== undefined && opts.ssrc !== this.#ssrc)) {
      this.#anchor(ts, wall, opts.ssrc);
    } else {
      this.#ext += (ts - this.#prevTs) | 0; // signed 32-bit distance: unwraps timestamp wrap-around
      this.#prevTs = ts;
      if (Math.abs(this.#position() - wall) > this.#resyncSamples) {
        this.#stats.resyncs++;
        this.#anchor(ts, wall, opts.ssrc);
      }
    }
    if (opts.write === false) return;
    const samples = payload.length > 0 ? packetSamples(payload) : 0;
    if (samples === 0) {
      this.#stats.invalid++;
      return;
    }
    let start = this.#position();
    if (start < this.#end) {
      this.#stats.late++;
      return;
    }
    // Fill the gap with silence on the 20 ms grid; a remainder under a frame moves the packet (and the anchor) to
    // the nearest grid point so the file stays continuous.
    while (start - this.#end >= OPUS_FRAME_SAMPLES) {
      this.#emit(this.#writer.write(OPUS_SILENCE_FRAME, this.#end, OPUS_FRAME_SAMPLES));
      this.#end += OPUS_FRAME_SAMPLES;
      this.#stats.silenceFrames++;
    }
    const rest = start - this.#end;
    if (rest > 0) {
      if (rest >= OPUS_FRAME_SAMPLES / 2) {
        this.#emit(this.#writer.write(OPUS_SILENCE_FRAME, this.#end, OPUS_FRAME_SAMPLES));
        this.#end += OPUS_FRAME_SAMPLES;
        this.#stats.silenceFrames++;
      }
      this.#anchorPos += this.#end - start;
      start = this.#end;
    }
    this.#emit(this.#writer.write(payload, start, samples));
    this.#end = start + samples;
    this.#stats.packets++;
  }

  /** Writes the last page (end of stream). Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#emit(this.#writer.end());
  }

  get stats(): DirectionStats {
    return { ...this.#stats, endSamples: this.#end };
  }

  #position(): number {
    return this.#anchorPos + (this.#ext - this.#anchorExt);
  }

  #anchor(ts: number, wall: number, ssrc: number | undefined): void {
    this.#anchored = true;
    this.#ssrc = ssrc;
    this.#prevTs = ts;
    this.#ext = ts;
    this.#anchorExt = ts;
    this.#anchorPos = Math.max(this.#end, Math.round(wall / OPUS_FRAME_SAMPLES) * OPUS_FRAME_SAMPLES);
  }

  #emit(bytes: Buffer): void {
    if (bytes.length > 0) this.#sink(bytes);
  }
}

export interface RecordingTapOptions {
  /** Directory the files go to (it must exist). */
  dir: string;
  callId: string;
  /** Start paused (the tap exists, nothing is written yet). @default false */
  paused?: boolean;
  /** Monotonic ms. @default performance.now */
  now?: () => number;
  resyncMs?: number;
  logger?: MediaLogger;
}

/**
 * A call's recording: `<callId>.caller.ogg` (what the caller said) and `<callId>.agents.ogg` (what the caller
 * heard), written as packets arrive. Writing is asynchronous and buffered; a disk error stops that file and is
 * logged, never thrown into the packet path. {@link close} ends both files and returns their paths.
 */
export class RecordingTap {
  readonly paths: Readonly<Record<RecordingDirection, string>>;
  readonly #now: () => number;
  readonly #startMs: number;
  readonly #log: MediaLogger;
  readonly #recorders: Record<RecordingDirection, DirectionRecorder>;
  readonly #streams: Record<RecordingDirection, WriteStream>;
  readonly #failed = new Set<RecordingDirection>();
  readonly #ending = new Map<RecordingDirection, Promise<boolean>>();
  #paused: boolean;
  #closing: Promise<string[]> | undefined;

  constructor(opts: RecordingTapOptions) {
    if (!/^[\w.-]+$/.test(opts.callId)) throw new Error(`unsafe call id for a file name: ${opts.callId}`);
    this.#now = opts.now ?? (() => performance.now());
    this.#startMs = this.#now();
    this.#paused = opts.paused ?? false;
    this.#log = childLogger(opts.logger ?? silentMediaLogger, { component: 'recording', callId: opts.callId });
    this.paths = {
      caller: join(opts.dir, `${opts.callId}.caller.ogg`),
      agents: join(opts.dir, `${opts.callId}.agents.ogg`),
    };
    const open = (dir: RecordingDirection): [WriteStream, DirectionRecorder] => {
      const stream = createWriteStream(this.paths[dir]);
      stream.on('error', (err) => {
        if (!this.#failed.has(dir)) this.#log.error({ err: String(err), direction: dir }, 'recording file failed');
        this.#failed.add(dir);
      });
      const recorder = new DirectionRecorder(
        (bytes) => {
          if (!this.#failed.has(dir)) stream.write(bytes);
        },
        { resyncMs: opts.resyncMs, comments: [`DIRECTION=${dir}`] },
      );
      return [stream, recorder];
    };
    const [callerStream, callerRec] = open('caller');
    const [agentsStream, agentsRec] = open('agents');
    this.#streams = { caller: callerStream, agents: agentsStream };
    this.#recorders = { caller: callerRec, agents: agentsRec };
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Stops writing audio; the time paused becomes silence when recording resumes. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  /** One Opus payload (RTP payload, header stripped) going `direction`. Never throws. */
  record(direction: RecordingDirection, payload: Uint8Array, rtpTimestamp: number, ssrc?: number): void {
    if (this.#closing || this.#ending.has(direction)) return;
    try {
      this.#recorders[direction].packet(payload, rtpTimestamp, this.#now() - this.#startMs, {
        ssrc,
        write: !this.#paused,
      });
    } catch (err) {
      this.#log.warn({ err: String(err), direction }, 'recording dropped a packet');
    }
  }

  stats(): Record<RecordingDirection, DirectionStats> {
    return { caller: this.#recorders.caller.stats, agents: this.#recorders.agents.stats };
  }

  /**
   * The two directions as the engine's packet sinks. The engine pauses by detaching them and resumes by attaching
   * them again: the timestamps then place the resumed audio after the pause. A sink's `close()` ends its file.
   */
  sinks(): { caller: OpusPacketSink; agents: OpusPacketSink } {
    const sink = (dir: RecordingDirection): OpusPacketSink => ({
      write: (payload, rtpTimestamp) => this.record(dir, payload, rtpTimestamp),
      close: async () => {
        if (!(await this.#end(dir))) throw new Error(`the ${dir} recording could not be written to ${this.paths[dir]}`);
        return this.paths[dir];
      },
    });
    return { caller: sink('caller'), agents: sink('agents') };
  }

  /** Ends both files and waits until they are on disk; resolves with the paths of the files written whole. */
  close(): Promise<string[]> {
    this.#closing ??= (async () => {
      const ok = await Promise.all([this.#end('caller'), this.#end('agents')]);
      return (['caller', 'agents'] as const).filter((_, i) => ok[i]).map((dir) => this.paths[dir]);
    })();
    return this.#closing;
  }

  /** Ends one direction's file; resolves with whether it was written whole. */
  #end(dir: RecordingDirection): Promise<boolean> {
    let ending = this.#ending.get(dir);
    if (!ending) {
      ending = (async () => {
        this.#recorders[dir].end();
        const stream = this.#streams[dir];
        stream.end();
        if (!stream.closed) await Promise.race([once(stream, 'close'), once(stream, 'error')]).catch(() => {});
        return !this.#failed.has(dir);
      })();
      this.#ending.set(dir, ending);
    }
    return ending;
  }
}

/** Per 20 ms slot of a direction's timeline, the one-frame packet heard then. */
function slotsOf(file: Uint8Array): { slots: Map<number, Buffer>; end: number; skipped: number } {
  const parsed = readOggOpus(file);
  if (parsed.head.channels !== 1)
    throw new Error(`a direction file must be mono, not ${parsed.head.channels} channels`);
  const slots = new Map<number, Buffer>();
  let end = 0;
  let skipped = 0;
  for (const p of parsed.packets) {
    const start = p.start - parsed.head.preSkip;
    end = Math.max(end, Math.ceil((start + p.samples) / OPUS_FRAME_SAMPLES));
    if (p.data.length === 0 || start < 0) continue;
    // Only 20 ms frames can be lined up slot by slot without decoding; other frame sizes become silence.
    if (parseToc(p.data[0] as number).frameSamples !== OPUS_FRAME_SAMPLES) {
      skipped++;
      continue;
    }
    let slot = Math.round(start / OPUS_FRAME_SAMPLES);
    try {
      for (const frame of splitFrames(p.data)) slots.set(slot++, frame);
    } catch {
      skipped++;
    }
  }
  return { slots, end, skipped };
}

/**
 * One Ogg Opus file in which both parties are heard: the caller on the left channel and the agents on the right,
 * without re-encoding. Each 20 ms the two mono packets become one multistream packet (channel mapping family 1,
 * two uncoupled streams; the first in self-delimiting framing, RFC 6716 appendix B), lined up by granule
 * position, with a silence frame where a side has nothing.
 *
 * Why not decode, mix and encode: this costs no CPU beyond copying bytes (a one-hour call combines in well under a
 * second), loses no quality, and keeps the parties apart for whoever listens. The cost: a listener hears one party
 * per ear (players and browsers that downmix to mono hear both), the file is the sum of both directions plus about
 * 3 bytes per 20 ms, and frames other than 20 ms (rare: WhatsApp and browsers send 20 ms) become silence.
 */
export function combineOggOpus(callerFile: Uint8Array, agentsFile: Uint8Array): { file: Buffer; skipped: number } {
  const caller = slotsOf(callerFile);
  const agents = slotsOf(agentsFile);
  const writer = new OggOpusWriter({
    multistream: { family: 1, streams: 2, coupled: 0, mapping: [0, 1] },
    comments: ['CHANNELS=left:caller,right:agents'],
  });
  const parts: Buffer[] = [writer.headerPages()];
  const slots = Math.max(caller.end, agents.end);
  for (let slot = 0; slot < slots; slot++) {
    const left = caller.slots.get(slot) ?? OPUS_SILENCE_FRAME;
    const right = agents.slots.get(slot) ?? OPUS_SILENCE_FRAME;
    const packet = Buffer.concat([toSelfDelimitedSafe(left), right]);
    const page = writer.write(packet, slot * OPUS_FRAME_SAMPLES, OPUS_FRAME_SAMPLES);
    if (page.length > 0) parts.push(page);
  }
  parts.push(writer.end());
  return { file: Buffer.concat(parts), skipped: caller.skipped + agents.skipped };
}

function toSelfDelimitedSafe(packet: Buffer): Buffer {
  try {
    return toSelfDelimited(packet);
  } catch {
    return toSelfDelimited(OPUS_SILENCE_FRAME);
  }
}

/** {@link combineOggOpus} on files: reads the two direction files and writes the combined one. */
export async function combineRecordings(callerPath: string, agentsPath: string, outPath: string): Promise<void> {
  const [caller, agents] = await Promise.all([readFile(callerPath), readFile(agentsPath)]);
  await writeFile(outPath, combineOggOpus(caller, agents).file);
}

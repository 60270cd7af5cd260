import { readFile } from 'node:fs/promises';
import { OggFormatError, readOggOpus } from './ogg.js';
import { OPUS_FRAME_SAMPLES, OpusPacketError, packetSamples, parseToc, splitFrames } from './packet.js';
import { ClipError, resolvePrompt } from './prompts.js';

/**
 * A parsed clip: its packets as 20 ms one-frame Opus packets, ready to send as RTP payloads. It is also the
 * engine's `OpusClip` (src/rtc/engine.ts): `open()` reads it from the start.
 */
export interface LoadedClip {
  /** The prompt name or path it was asked for. */
  name: string;
  path: string;
  frames: readonly Buffer[];
  open(): { next(): Buffer | null };
}

function loadedClip(name: string, path: string, frames: readonly Buffer[]): LoadedClip {
  return {
    name,
    path,
    frames,
    open() {
      let i = 0;
      return { next: () => frames[i++] ?? null };
    },
  };
}

/**
 * Parses an Ogg Opus file into 20 ms frames. Packets of several 20 ms frames are split (no decoding); a file in
 * other frame sizes, multichannel or malformed is refused with a {@link ClipError} naming the file.
 */
export function parseClip(path: string, data: Uint8Array, name = path): LoadedClip {
  let file: ReturnType<typeof readOggOpus>;
  try {
    file = readOggOpus(data);
  } catch (err) {
    if (err instanceof OggFormatError) throw new ClipError(`${path} is not a valid Ogg Opus file: ${err.message}`);
    throw err;
  }
  if (file.head.mappingFamily !== 0 || file.head.channels > 2) {
    throw new ClipError(
      `${path} has ${file.head.channels} channels (mapping family ${file.head.mappingFamily}): a clip must be mono`,
    );
  }
  const frames: Buffer[] = [];
  for (const p of file.packets) {
    if (p.data.length === 0) continue;
    const frameSamples = parseToc(p.data[0] as number).frameSamples;
    if (frameSamples !== OPUS_FRAME_SAMPLES) {
      throw new ClipError(
        `${path} has ${(frameSamples / 48).toFixed(1)} ms Opus frames; players send 20 ms frames (opusenc --framesize 20)`,
      );
    }
    try {
      frames.push(...splitFrames(p.data));
    } catch (err) {
      if (err instanceof OpusPacketError) throw new ClipError(`${path} holds a malformed Opus packet: ${err.message}`);
      throw err;
    }
  }
  if (frames.length === 0) throw new ClipError(`${path} holds no audio`);
  for (const f of frames) if (packetSamples(f) !== OPUS_FRAME_SAMPLES) throw new ClipError(`${path}: bad frame`);
  return loadedClip(name, path, frames);
}

/**
 * Clips parsed once per process and shared by every player (a hundred waiting callers share one music loop).
 * Loading the same path twice at the same time reads it once; a failed load is not cached.
 */
export class ClipCache {
  readonly #clips = new Map<string, Promise<LoadedClip>>();

  /** The clip for a prompt name or absolute path (see resolvePrompt); rejects with {@link ClipError}. */
  load(nameOrPath: string): Promise<LoadedClip> {
    let path: string;
    try {
      path = resolvePrompt(nameOrPath);
    } catch (err) {
      return Promise.reject(err);
    }
    let clip = this.#clips.get(path);
    if (!clip) {
      clip = readFile(path).then(
        (data) => parseClip(path, data, nameOrPath),
        (err: unknown) => {
          throw new ClipError(`clip "${nameOrPath}": cannot read ${path}: ${String(err)}`);
        },
      );
      clip.catch(() => this.#clips.delete(path));
      this.#clips.set(path, clip);
    }
    return clip;
  }

  /** Loads every clip of a sequence; rejects with the first problem. */
  loadAll(clips: readonly string[]): Promise<LoadedClip[]> {
    return Promise.all(clips.map((c) => this.load(c)));
  }

  get size(): number {
    return this.#clips.size;
  }

  /** The process-wide cache. */
  static readonly shared = new ClipCache();
}

/**
 * Real Opus audio for tests and the load rig, made with the Debian tools the prompts script uses (sox, opusenc,
 * opusdec): encode a tone into 20 ms packets, decode an Ogg Opus file back to PCM per channel.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readOggOpus } from '../media/opus/ogg.js';
import { splitFrames } from '../media/opus/packet.js';

const run = promisify(execFile);

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'opus-fixture-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ToneOptions {
  seconds?: number;
  /** @default 24 */
  kbps?: number;
  /** opusenc --framesize. @default 20 */
  frameMs?: number;
  /** Amplitude 0–1. @default 0.5 */
  gain?: number;
}

/** An Ogg Opus file (48 kHz mono) of a sine at `hz`. */
export async function encodeToneFile(hz: number, opts: ToneOptions = {}): Promise<Buffer> {
  return withTmp(async (dir) => {
    const wav = join(dir, 'tone.wav');
    const opus = join(dir, 'tone.opus');
    await run('sox', [
      '-n',
      '-r',
      '48000',
      '-b',
      '16',
      '-c',
      '1',
      wav,
      'synth',
      String(opts.seconds ?? 1),
      'sine',
      String(hz),
      'vol',
      String(opts.gain ?? 0.5),
    ]);
    await run('opusenc', [
      '--quiet',
      '--framesize',
      String(opts.frameMs ?? 20),
      '--bitrate',
      String(opts.kbps ?? 24),
      '--serial',
      '7',
      wav,
      opus,
    ]);
    return readFile(opus);
  });
}

/** The 20 ms Opus packets of a tone (what an RTP sender puts in its payloads). */
export async function encodeToneFrames(hz: number, opts: ToneOptions = {}): Promise<Buffer[]> {
  const file = readOggOpus(await encodeToneFile(hz, opts));
  return file.packets.flatMap((p) => splitFrames(p.data));
}

export interface DecodedAudio {
  sampleRate: number;
  /** One array of samples per channel. */
  channels: Int16Array[];
}

/** Decodes an Ogg Opus file with opusdec (48 kHz, 16-bit) and splits the channels. */
export async function decodeOggOpus(file: Uint8Array): Promise<DecodedAudio> {
  return withTmp(async (dir) => {
    const opus = join(dir, 'in.opus');
    const wav = join(dir, 'out.wav');
    await writeFile(opus, file);
    await run('opusdec', ['--quiet', '--rate', '48000', opus, wav]);
    return parseWav(await readFile(wav));
  });
}

/** A 16-bit PCM WAV file's samples per channel. */
function parseWav(data: Buffer): DecodedAudio {
  if (data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file');
  }
  let at = 12;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (at + 8 <= data.length) {
    const id = data.toString('latin1', at, at + 4);
    const size = data.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      channels = data.readUInt16LE(body + 2);
      sampleRate = data.readUInt32LE(body + 4);
      bits = data.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16 || channels === 0) throw new Error(`unsupported WAV: ${bits} bits, ${channels} channels`);
      const end = Math.min(data.length, body + size);
      const frames = Math.floor((end - body) / (2 * channels));
      const out = Array.from({ length: channels }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < channels; c++) (out[c] as Int16Array)[i] = data.readInt16LE(body + 2 * (i * channels + c));
      }
      return { sampleRate, channels: out };
    }
    at = body + size + (size % 2);
  }
  throw new Error('WAV without a data chunk');
}

import { randomInt } from 'node:crypto';
import type { OpusClip, OpusFrameSource } from '../../../rtc/engine.js';
import type { MediaLogger } from '../../../rtc/log.js';
import { OPUS_FRAME_TICKS } from './rtp.js';

/** A player or silence as a source: its own continuous numbering. */
export class LocalSource {
  sequence = randomInt(0, 0x8000);
  timestamp = randomInt(0, 0x7fffffff);
  header(): { marker: boolean; payloadType: number; sequence: number; timestamp: number } {
    const h = { marker: false, payloadType: 0, sequence: this.sequence, timestamp: this.timestamp };
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + OPUS_FRAME_TICKS) >>> 0;
    return h;
  }
}

interface Playing {
  playId: string;
  clips: OpusClip[];
  loop: boolean;
  /** Looped once `clips` have played (from the next frame on). */
  thenLoop: OpusClip[] | undefined;
  index: number;
  current: OpusFrameSource | undefined;
}

/**
 * A call's player: plays clips in order (again from the first when looped), one Opus frame per {@link next}. A clip
 * that cannot be opened is skipped; `onEnded` is called when a non-looped sequence is over.
 */
export class ClipPlayer {
  readonly source = new LocalSource();
  readonly #log: MediaLogger;
  readonly #onEnded: (playId: string) => void;
  #playing: Playing | undefined;

  constructor(log: MediaLogger, onEnded: (playId: string) => void) {
    this.#log = log;
    this.#onEnded = onEnded;
  }

  get playing(): boolean {
    return this.#playing !== undefined;
  }

  /** Replaces what was playing; `thenLoop` loops from the frame after the clips end (a prompt, then music). */
  play(playId: string, clips: OpusClip[], loop: boolean, thenLoop?: OpusClip[]): void {
    this.stop();
    this.#playing = { playId, clips, loop, thenLoop, index: 0, current: undefined };
    this.#log.info(
      { playId, clips: clips.map((c) => c.name), loop, thenLoop: thenLoop?.map((c) => c.name) },
      'playing',
    );
  }

  stop(): void {
    this.#playing?.current?.close?.();
    this.#playing = undefined;
  }

  /** The next 20 ms frame, or null when nothing is playing. */
  next(): Buffer | null {
    const p = this.#playing;
    if (!p) return null;
    for (let guard = 0; guard <= p.clips.length; guard++) {
      if (!p.current) {
        const clip = p.clips[p.index];
        if (!clip) break;
        try {
          p.current = clip.open();
        } catch (err) {
          this.#log.warn({ clip: clip.name, err: String(err) }, 'a clip could not be opened; skipped');
          p.index++;
          continue;
        }
      }
      const frame = p.current.next();
      if (frame) return frame;
      p.current.close?.();
      p.current = undefined;
      p.index++;
      if (p.index >= p.clips.length && p.loop) p.index = 0;
    }
    // Every clip played (or none could be opened); what follows starts in this same 20 ms slot.
    this.#playing = p.thenLoop
      ? { playId: `${p.playId}.then`, clips: p.thenLoop, loop: true, thenLoop: undefined, index: 0, current: undefined }
      : undefined;
    this.#onEnded(p.playId);
    return this.#playing ? this.next() : null;
  }
}

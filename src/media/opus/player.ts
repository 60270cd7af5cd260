import { ClipCache, type LoadedClip } from './clips.js';
import { ClipError } from './prompts.js';

export interface PlayerOptions {
  /** Start over after the last clip, forever. @default false */
  loop?: boolean;
}

/**
 * Turns a sequence of clips into 20 ms Opus frames, once or looped. It keeps no clock: whoever sends calls
 * {@link next} once per 20 ms tick (see DriftFreeTicker) and stamps the RTP header. Frames are the clips' own
 * buffers, shared by every player: do not modify them.
 */
export class Player {
  readonly loop: boolean;
  readonly #clips: readonly LoadedClip[];
  #clip = 0;
  #frame = 0;
  #sent = 0;
  #ended = false;

  /** Loads (or takes from the cache) every clip, then builds the player. Rejects with {@link ClipError}. */
  static async create(clips: readonly string[], opts: PlayerOptions & { cache?: ClipCache } = {}): Promise<Player> {
    if (clips.length === 0) throw new ClipError('a play needs at least one clip');
    return new Player(await (opts.cache ?? ClipCache.shared).loadAll(clips), opts);
  }

  constructor(clips: readonly LoadedClip[], opts: PlayerOptions = {}) {
    if (clips.length === 0) throw new ClipError('a play needs at least one clip');
    this.#clips = clips;
    this.loop = opts.loop ?? false;
  }

  /** The next 20 ms frame, or null once a sequence that does not loop has played to its end. */
  next(): Buffer | null {
    if (this.#ended) return null;
    let clip = this.#clips[this.#clip] as LoadedClip;
    if (this.#frame >= clip.frames.length) {
      this.#clip++;
      this.#frame = 0;
      if (this.#clip >= this.#clips.length) {
        if (!this.loop) {
          this.#ended = true;
          return null;
        }
        this.#clip = 0;
      }
      clip = this.#clips[this.#clip] as LoadedClip;
    }
    this.#sent++;
    return clip.frames[this.#frame++] as Buffer;
  }

  /** Whether a non-looped sequence has played all its frames (next() returned null). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Frames handed out so far. */
  get framesSent(): number {
    return this.#sent;
  }

  /** Length of one pass through the sequence, in 20 ms frames. */
  get lengthFrames(): number {
    return this.#clips.reduce((a, c) => a + c.frames.length, 0);
  }
}

import { ClockedTrack } from '../../../rtc/clocked-track.js';
import { FrameClock } from '../../../rtc/frame-clock.js';
import type { WrtcTrack } from '../../../rtc/wrtc.js';

const SAMPLE_RATE = 48_000;
const FRAME_SAMPLES = 480;
/** All-zero 10 ms frame; shared, never written (onData copies it). */
const ZEROS = new Int16Array(FRAME_SAMPLES);

/**
 * A live audio track that carries digital silence while started: what the WhatsApp leg sends when there is no agent
 * audio to send, to keep WhatsApp's no-media watchdogs (20 s at call start, 30 s mid-call: error 138021) quiet.
 *
 * Measured with wrtc 0.10.0 (outbound-rtp packetsSent over 3 s, loopback): a sender with no track, a sender with an
 * RTCAudioSource track that gets no onData, and a sender forwarding a remote track whose peer connection is closed
 * all send 0 packets. An RTCAudioSource fed zero frames sends ≈50 packets/s (Opus 20 ms, DTX off). A forwarded
 * remote track whose peer connection is connected keeps producing frames even when its peer sends nothing (the
 * jitter buffer plays out silence), so it also sends ≈50 packets/s. Hence: feed zeros whenever the agent's track
 * is not the one being sent.
 *
 * Runs on a shared 20 ms clock (two 10 ms frames per tick): one timer per process, not per call.
 */
export class SilenceSource {
  readonly #feed: ClockedTrack;
  #framesSent = 0;

  constructor(clock: FrameClock = FrameClock.shared({ frameMs: 10, tickMs: 20 })) {
    this.#feed = new ClockedTrack(clock, () => {
      this.#feed.source.onData({ samples: ZEROS, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1 });
      this.#framesSent++;
    });
  }

  get track(): WrtcTrack {
    return this.#feed.track;
  }

  get running(): boolean {
    return this.#feed.running;
  }

  get framesSent(): number {
    return this.#framesSent;
  }

  start(): void {
    this.#feed.start();
  }

  stop(): void {
    this.#feed.stop();
  }

  close(): void {
    this.#feed.close();
  }
}

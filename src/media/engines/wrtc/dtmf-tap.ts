import { DtmfDetector, type DtmfEvent } from '../../../audio/dtmf.js';
import { nowMs } from '../../../rtc/clock.js';
import type { MediaLogger } from '../../../rtc/log.js';
import { type WrtcAudioSink, type WrtcTrack, wrtc } from '../../../rtc/wrtc.js';

/**
 * Listens to a received track and reports DTMF keys found in the audio. Works on what libwebrtc decodes: in-band
 * keys, and RFC 4733 telephone-events that NetEq renders as tones (see DTMF.md for what is and is not verified).
 * Costs JS per received frame (≈100/s), so the bridge only taps when asked.
 */
export class DtmfTap {
  readonly #sink: WrtcAudioSink;
  readonly #detector: DtmfDetector;
  #mono = new Float32Array(0);
  #closed = false;

  constructor(track: WrtcTrack, onDigit: (e: DtmfEvent) => void, log: MediaLogger) {
    this.#detector = new DtmfDetector(onDigit);
    this.#sink = new wrtc.nonstandard.RTCAudioSink(track);
    let reported = false;
    this.#sink.ondata = (data) => {
      try {
        const channels = data.channelCount ?? 1;
        const frames = data.numberOfFrames ?? Math.floor(data.samples.length / channels);
        if (this.#mono.length !== frames) this.#mono = new Float32Array(frames);
        for (let i = 0; i < frames; i++) this.#mono[i] = data.samples[i * channels] ?? 0;
        this.#detector.push(this.#mono, data.sampleRate, nowMs());
      } catch (err) {
        if (!reported) log.error({ err: String(err) }, 'DTMF detection failed');
        reported = true;
      }
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.ondata = null;
    this.#sink.stop();
  }
}

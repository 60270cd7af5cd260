import type { NetworkFilter } from '../rtc/cidr.js';
import { nowMs } from '../rtc/clock.js';
import type { MediaLogger } from '../rtc/log.js';
import {
  type WrtcConnectionState,
  type WrtcPeerConnection,
  type WrtcTransceiver,
  waitForConnected,
  wrtc,
} from '../rtc/wrtc.js';
import { AudioAnalyzer, drainAnalysis, type InboundAudioReport, type ReportWindow } from './analyzer.js';
import { AudioGenerator } from './generator.js';
import type { MarkerScheme } from './markers.js';

/** What every measuring peer is made of: a connection whose one audio transceiver plays a tone and is analysed. */
export interface AudioPeerParts {
  pc: WrtcPeerConnection;
  transceiver: WrtcTransceiver;
  generator: AudioGenerator;
  analyzer: AudioAnalyzer;
}

export interface AudioPeerSignal {
  toneHz: number;
  markers?: boolean | Partial<MarkerScheme> | undefined;
  watchHz?: readonly number[] | undefined;
  /** Called on the transceiver before the analyzer attaches (e.g. codec preferences). */
  configure?: (transceiver: WrtcTransceiver) => void;
}

/**
 * Opens the parts of a measuring peer (no ICE servers: loopback only) and hands them to `build`; if anything
 * throws on the way, everything opened so far is closed.
 */
export async function openAudioPeer<T>(
  signal: AudioPeerSignal,
  build: (parts: AudioPeerParts) => Promise<T>,
): Promise<T> {
  const generator = AudioGenerator.create({ toneHz: signal.toneHz, markers: signal.markers });
  let pc: WrtcPeerConnection | undefined;
  let analyzer: AudioAnalyzer | undefined;
  try {
    pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const transceiver = pc.addTransceiver(generator.track, { direction: 'sendrecv' });
    signal.configure?.(transceiver);
    analyzer = AudioAnalyzer.create(transceiver.receiver.track, { watchHz: signal.watchHz, markers: signal.markers });
    return await build({ pc, transceiver, generator, analyzer });
  } catch (err) {
    analyzer?.close();
    pc?.close();
    generator.close();
    throw err;
  }
}

/**
 * The shared half of the simulator's caller and the Node agent: a wrtc peer that sends a generator's tone (and
 * markers) and analyses what arrives, restricted to allowed networks, closed once.
 */
export abstract class AudioPeer {
  protected readonly pc: WrtcPeerConnection;
  protected readonly networks: NetworkFilter;
  protected readonly log: MediaLogger;
  readonly #generator: AudioGenerator;
  readonly #analyzer: AudioAnalyzer;
  readonly #label: string;
  #closed = false;

  protected constructor(parts: AudioPeerParts, networks: NetworkFilter, log: MediaLogger, label: string) {
    this.pc = parts.pc;
    this.#generator = parts.generator;
    this.#analyzer = parts.analyzer;
    this.networks = networks;
    this.log = log;
    this.#label = label;
  }

  get connectionState(): WrtcConnectionState {
    return this.#closed ? 'closed' : this.pc.connectionState;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get analyzer(): AudioAnalyzer {
    return this.#analyzer;
  }

  get generator(): AudioGenerator {
    return this.#generator;
  }

  /** What arrived over a window (see AudioAnalyzer.report), with what this peer sent. */
  abstract report(opts?: ReportWindow): { inbound: InboundAudioReport };

  /** Resolves when ICE and DTLS are up; rejects after `timeoutMs` or if the connection fails. */
  /** Sends `hz` instead of this peer's tone for `ms` (see {@link AudioGenerator.playTone}). */
  playTone(hz: number, ms: number): void {
    this.generator.playTone(hz, ms);
  }

  waitConnected(timeoutMs = 10_000): Promise<void> {
    return waitForConnected(this.pc, timeoutMs, this.#label);
  }

  /** Closes the analyzer, the generator and the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    this.#analyzer.close();
    this.#generator.close();
    this.pc.close();
  }

  /** What a subclass stops before the parts close (timers, listeners). */
  protected onClose(): void {}
}

/**
 * What each end of a call received over one window, each leaving out what the other end did not send on time. Take
 * `until` first, let the analysers catch up (`drainAnalysis()`), then call this.
 */
export function reportBothWays(
  caller: AudioPeer,
  agent: AudioPeer,
  window: { since?: number | undefined; until: number; settleMs?: number },
): { atAgent: InboundAudioReport; atCaller: InboundAudioReport } {
  const { since, until } = window;
  const settleMs = window.settleMs ?? 400;
  return {
    atAgent: agent.report({ since, until, settleMs, senderGaps: caller.generator.gaps() }).inbound,
    atCaller: caller.report({ since, until, settleMs, senderGaps: agent.generator.gaps() }).inbound,
  };
}

/**
 * {@link reportBothWays} over a window from `since` that grows until each direction holds at least `minExpected`
 * markers its sender pushed on time. Under load the measuring process's own event loop stalls, and what its
 * generators did not push on time is left out (see SenderGap), so a fixed window can hold too few markers to judge
 * anything; this one is measured again every `stepMs` until it holds enough, `maxMs` after `since` at most. Waits
 * `firstMs` first. What is asserted about the markers that count is unchanged. `longestStallMs` is the longest
 * stretch either generator did not push on time within the window: the measuring process's own stall.
 */
export async function measureBothWays(
  caller: AudioPeer,
  agent: AudioPeer,
  opts: { since: number; minExpected: number; firstMs: number; stepMs?: number; maxMs?: number },
): Promise<{ atAgent: InboundAudioReport; atCaller: InboundAudioReport; until: number; longestStallMs: number }> {
  const maxMs = opts.maxMs ?? 15_000;
  let waitMs = opts.firstMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, waitMs));
    const until = nowMs();
    await drainAnalysis();
    const both = reportBothWays(caller, agent, { since: opts.since, until });
    const counted = Math.min(both.atAgent.markers?.expected ?? 0, both.atCaller.markers?.expected ?? 0);
    if (counted >= opts.minExpected || until - opts.since >= maxMs) {
      const gaps = [...caller.generator.gaps(), ...agent.generator.gaps()];
      const longestStallMs = Math.max(
        0,
        ...gaps.map((g) => Math.min(g.toMs, until) - Math.max(g.fromMs, opts.since)).filter((ms) => ms > 0),
      );
      return { ...both, until, longestStallMs };
    }
    waitMs = opts.stepMs ?? 500;
  }
}

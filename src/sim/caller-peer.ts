import type { InboundAudioReport, ReportWindow } from '../audio/analyzer.js';
import { AudioPeer, type AudioPeerParts, openAudioPeer } from '../audio/audio-peer.js';
import type { MarkerScheme } from '../audio/markers.js';
import { MediaError } from '../media/errors.js';
import { normalizeSdp } from '../media/sdp/lines.js';
import { filterSdpCandidates } from '../media/sdp/rewrite.js';
import { validateWhatsAppAnswer } from '../media/sdp/validate.js';
import { LOOPBACK_NETWORKS, NetworkFilter } from '../rtc/cidr.js';
import { nowMs } from '../rtc/clock.js';
import { childLogger, type MediaLogger, silentMediaLogger } from '../rtc/log.js';
import { legStatsFromReport } from '../rtc/stats.js';
import {
  type WrtcConnectionState,
  type WrtcTransceiver,
  waitForGatheringComplete,
  whatsAppCodecCapabilities,
} from '../rtc/wrtc.js';
import { mungeLocalOfferLikeMeta, shapeOfferLikeMeta } from './sdp-meta.js';

export interface CallerPeerOptions {
  /** The caller's voice: a tone at this frequency. @default 440 */
  toneHz?: number;
  /** Send markers (see src/audio/markers.ts) and decode the ones that arrive. @default false */
  markers?: boolean | Partial<MarkerScheme>;
  /** Tones to look for in what arrives (e.g. the agent's). @default [] */
  watchHz?: readonly number[];
  /** Candidates outside these networks are neither offered nor accepted. @default LOOPBACK_NETWORKS */
  allowedNetworks?: readonly string[];
  /** Advertise `a=ice-lite` like Meta (see sdp-meta.ts for what that does and does not simulate). @default true */
  iceLite?: boolean;
  /** Longest wait for ICE gathering; the peer fails if it is not complete by then. @default 5000 */
  gatherTimeoutMs?: number;
  /**
   * Check answers with {@link validateWhatsAppAnswer} and refuse a second, different answer (Meta requires the
   * accept SDP to equal the pre_accept one). @default true
   */
  strict?: boolean;
  /** Identifies the caller in logs. */
  name?: string;
  logger?: MediaLogger;
}

export interface CallerReport {
  connectionState: WrtcConnectionState;
  /** Epoch ms of markAccepted(), if called. */
  acceptedAt: number | null;
  /** What the business sent to the caller. */
  inbound: InboundAudioReport;
  /** What the caller sends. */
  outbound: { toneHz: number; markers: boolean; framesSent: number; packetsSent: number };
}

/**
 * The simulated WhatsApp caller: a wrtc peer connection that offers like Meta (Opus 111 + telephone-event/8000
 * 126 only, actpass, sha-256, BUNDLE `audio`, complete loopback-only candidates, `a=ice-lite`), sends a tone
 * (and optionally markers) and analyses what comes back. Implements the simulator's `SimCaller`.
 *
 * DTMF: wrtc has no RTCDTMFSender (`sender.dtmf` is undefined), so {@link sendDtmf} plays in-band tones instead of
 * RFC 4733 events; see src/media/engines/wrtc/DTMF.md.
 */
export class CallerPeer extends AudioPeer {
  readonly offerSdp: string;
  readonly #strict: boolean;
  #appliedAnswer: string | undefined;
  #applying: Promise<void> | undefined;
  #acceptedAt: number | null = null;
  #lastPacketAt: number | null = null;
  #packetsReceived = 0;
  #packetsSent = 0;
  #poll: NodeJS.Timeout | undefined;

  /** Creates the peer, gathers, and shapes the offer. Nothing is left open when it throws. */
  static async create(opts: CallerPeerOptions = {}): Promise<CallerPeer> {
    const log = childLogger(opts.logger ?? silentMediaLogger, { component: 'caller-peer', caller: opts.name });
    const networks = new NetworkFilter(opts.allowedNetworks ?? LOOPBACK_NETWORKS);
    const signal = {
      toneHz: opts.toneHz ?? 440,
      markers: opts.markers,
      watchHz: opts.watchHz,
      configure: (t: WrtcTransceiver) => t.setCodecPreferences(whatsAppCodecCapabilities()),
    };
    return openAudioPeer(signal, async (parts) => {
      const { pc } = parts;
      const offer = await pc.createOffer();
      try {
        await pc.setLocalDescription({ type: 'offer', sdp: mungeLocalOfferLikeMeta(offer.sdp) });
      } catch (err) {
        log.warn({ err: String(err) }, 'wrtc refused the Meta-like mid/cname; offering its own');
        await pc.setLocalDescription(offer);
      }
      // Meta's offer is complete, so ours waits for every candidate. Only then is `localDescription` read: reading it
      // while candidates are still being added can crash wrtc (node-webrtc#696).
      const gatherMs = opts.gatherTimeoutMs ?? 5000;
      if (!(await waitForGatheringComplete(pc, gatherMs))) {
        throw new MediaError('webrtc-failed', `the caller peer's ICE gathering did not complete within ${gatherMs} ms`);
      }
      const local = pc.localDescription?.sdp;
      if (!local) throw new MediaError('webrtc-failed', 'the caller peer has no local description after gathering');
      const offerSdp = shapeOfferLikeMeta(local, { allowedNetworks: networks.networks, iceLite: opts.iceLite });
      return new CallerPeer(parts, networks, opts.strict ?? true, log, offerSdp);
    });
  }

  private constructor(
    parts: AudioPeerParts,
    networks: NetworkFilter,
    strict: boolean,
    log: MediaLogger,
    offerSdp: string,
  ) {
    super(parts, networks, log, 'caller');
    this.#strict = strict;
    this.offerSdp = offerSdp;
  }

  get acceptedAt(): number | null {
    return this.#acceptedAt;
  }

  /**
   * Applies the business's answer (pre_accept, or accept without pre_accept). Applying the same SDP again is a
   * no-op; a different one is refused like Meta does. Throws {@link MediaError} `sdp-invalid`.
   */
  async applyAnswer(sdp: string): Promise<void> {
    if (this.closed) throw new MediaError('media-closed', 'the caller peer is closed');
    if (this.#appliedAnswer !== undefined) {
      if (normalizeSdp(sdp) === this.#appliedAnswer || !this.#strict) return this.#applying;
      throw new MediaError(
        'sdp-invalid',
        'the answer differs from the one applied before (accept must match pre_accept)',
      );
    }
    if (this.#strict) {
      const check = validateWhatsAppAnswer(sdp);
      if (!check.ok) {
        throw new MediaError('sdp-invalid', `WhatsApp would refuse this answer: ${check.errors.join('; ')}`, {
          details: check.errors,
        });
      }
    }
    this.#appliedAnswer = normalizeSdp(sdp);
    const remote = filterSdpCandidates(this.#appliedAnswer, { allowedNetworks: this.networks });
    this.#applying = this.pc.setRemoteDescription({ type: 'answer', sdp: remote }).catch((err: unknown) => {
      throw new MediaError('sdp-invalid', `the caller could not apply the answer: ${String(err)}`, { cause: err });
    });
    await this.#applying;
    this.#startPolling();
  }

  /**
   * Presses keys: plays them as in-band DTMF tones in the caller's audio (120 ms each, 80 ms apart). WhatsApp sends
   * RFC 4733 events instead, which wrtc cannot send (no RTCDTMFSender); see src/media/engines/wrtc/DTMF.md. Resolves when the
   * last key has been played.
   */
  async sendDtmf(digits: string, opts: { toneMs?: number; gapMs?: number } = {}): Promise<void> {
    if (this.closed) throw new MediaError('media-closed', 'the caller peer is closed');
    const end = this.generator.playDtmf(digits, opts);
    await new Promise((r) => setTimeout(r, Math.max(0, end - nowMs())));
  }

  /** Meta's accept returned 200: the clock for "audio after accept" starts now (report()'s default `since`). */
  markAccepted(at: number = nowMs()): void {
    this.#acceptedAt ??= at;
  }

  /**
   * Whether media from the business reaches the caller: RTP packets (silence included) arrived in the last 2 s.
   * That is what WhatsApp's no-media watchdog looks at; report() tells silence from audio.
   */
  receivingAudio(): boolean {
    return this.#lastPacketAt !== null && nowMs() - this.#lastPacketAt < 2000;
  }

  /** What arrived and what was sent. `since` defaults to the accept instant. */
  override report(opts: ReportWindow = {}): CallerReport {
    const since = opts.since ?? this.#acceptedAt ?? undefined;
    return {
      connectionState: this.connectionState,
      acceptedAt: this.#acceptedAt,
      inbound: this.analyzer.report({ ...opts, since }),
      outbound: {
        toneHz: this.generator.toneHz,
        markers: this.generator.markerScheme !== undefined,
        framesSent: this.generator.framesSent,
        packetsSent: this.#packetsSent,
      },
    };
  }

  /** Inbound RTP packet count, refreshed from getStats (also updates receivingAudio()). */
  async packetsReceived(): Promise<number> {
    await this.#refreshStats();
    return this.#packetsReceived;
  }

  protected override onClose(): void {
    clearInterval(this.#poll);
    this.log.debug({}, 'caller peer closed');
  }

  #startPolling(): void {
    if (this.#poll || this.closed) return;
    this.#poll = setInterval(() => void this.#refreshStats(), 500);
    this.#poll.unref();
  }

  async #refreshStats(): Promise<void> {
    if (this.closed) return;
    try {
      const stats = legStatsFromReport(await this.pc.getStats());
      if (stats.packetsReceived > this.#packetsReceived) this.#lastPacketAt = nowMs();
      this.#packetsReceived = stats.packetsReceived;
      this.#packetsSent = stats.packetsSent;
    } catch {
      // Closed between the check and the call: nothing to refresh.
    }
  }
}

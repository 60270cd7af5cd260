import { AudioAnalyzer, type InboundAudioReport, type ReportWindow } from '../audio/analyzer.js';
import { AudioPeer, type AudioPeerParts, openAudioPeer } from '../audio/audio-peer.js';
import type { MarkerScheme } from '../audio/markers.js';
import { MediaError } from '../media/errors.js';
import { parseCandidate } from '../media/sdp/parse.js';
import { filterCandidate, filterSdpCandidates } from '../media/sdp/rewrite.js';
import { LOOPBACK_NETWORKS, NetworkFilter } from '../rtc/cidr.js';
import type { IceCandidateMessage } from '../rtc/engine.js';
import { childLogger, type MediaLogger, silentMediaLogger } from '../rtc/log.js';
import { legStatsFromReport } from '../rtc/stats.js';
import type { WrtcConnectionState, WrtcIceCandidateEvent } from '../rtc/wrtc.js';

export interface NodeAgentPeerOptions {
  /** The agent's voice: a tone at this frequency. @default 660 */
  toneHz?: number;
  /** Send markers and decode the ones that arrive. @default false */
  markers?: boolean | Partial<MarkerScheme>;
  /** Tones to look for in what arrives (e.g. the caller's). @default [] */
  watchHz?: readonly number[];
  /** Candidates outside these networks are neither sent nor accepted. @default LOOPBACK_NETWORKS */
  allowedNetworks?: readonly string[];
  name?: string;
  logger?: MediaLogger;
  /**
   * Offer a second audio m-line (recvonly) and analyse it on its own, like a console that receives two tracks
   * (a supervisor listening to both sides; an agent hearing the caller and a whisper). @default none
   */
  secondTrack?: { watchHz?: readonly number[] };
}

export interface AgentReport {
  connectionState: WrtcConnectionState;
  inbound: InboundAudioReport;
  outbound: { toneHz: number; markers: boolean; framesSent: number };
}

/**
 * A Node stand-in for an agent's browser, for tests and load tools: offers first with trickle ICE (like the
 * console), sends a tone, analyses what arrives. Local candidates are held until {@link trickle} is given a
 * sink, the way a browser sends its offer before its candidates.
 */
export class NodeAgentPeer extends AudioPeer {
  #offerSdp = '';
  #second: AudioAnalyzer | undefined;
  #sink: ((c: IceCandidateMessage) => void) | undefined;
  #held: IceCandidateMessage[] = [];
  #remoteSet = false;
  #queued: IceCandidateMessage[] = [];
  readonly #onCandidate = (e: WrtcIceCandidateEvent): void => {
    try {
      this.#localCandidate(e);
    } catch (err) {
      this.log.error({ err: String(err) }, 'agent peer candidate handler threw');
    }
  };

  static async create(opts: NodeAgentPeerOptions = {}): Promise<NodeAgentPeer> {
    const log = childLogger(opts.logger ?? silentMediaLogger, { component: 'node-agent-peer', agent: opts.name });
    const networks = new NetworkFilter(opts.allowedNetworks ?? LOOPBACK_NETWORKS);
    return openAudioPeer(
      { toneHz: opts.toneHz ?? 660, markers: opts.markers, watchHz: opts.watchHz },
      async (parts) => {
        const peer = new NodeAgentPeer(parts, networks, log);
        if (opts.secondTrack) {
          const t = parts.pc.addTransceiver('audio', { direction: 'recvonly' });
          peer.#second = AudioAnalyzer.create(t.receiver.track, { watchHz: opts.secondTrack.watchHz });
        }
        await peer.#offer();
        return peer;
      },
    );
  }

  private constructor(parts: AudioPeerParts, networks: NetworkFilter, log: MediaLogger) {
    super(parts, networks, log, 'agent');
    this.pc.addEventListener('icecandidate', this.#onCandidate);
  }

  async #offer(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    // The offer as set, not `localDescription`: reading that while candidates are being gathered can crash wrtc
    // (node-webrtc#696); the candidates trickle as events anyway.
    const sdp = filterSdpCandidates(offer.sdp, { allowedNetworks: this.networks });
    this.#offerSdp = sdp;
  }

  /** The agent's offer (trickle: usually without candidates). */
  get offerSdp(): string {
    return this.#offerSdp;
  }

  /** Sends local candidates (held ones first) to `sink` from now on. */
  trickle(sink: (c: IceCandidateMessage) => void): void {
    this.#sink = sink;
    for (const c of this.#held.splice(0)) sink(c);
  }

  async applyAnswer(sdp: string): Promise<void> {
    if (this.closed) throw new MediaError('media-closed', 'the agent peer is closed');
    const remote = filterSdpCandidates(sdp, { allowedNetworks: this.networks });
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: remote });
    } catch (err) {
      throw new MediaError('sdp-invalid', `the agent could not apply the answer: ${String(err)}`, { cause: err });
    }
    this.#remoteSet = true;
    for (const c of this.#queued.splice(0)) await this.addCandidate(c);
  }

  /** Adds a candidate from the bridge; candidates outside the allowed networks and garbage are dropped. */
  async addCandidate(c: IceCandidateMessage): Promise<boolean> {
    if (this.closed) return false;
    const parsed = parseCandidate(c.candidate);
    if (!parsed || !this.networks.allows(parsed.address)) return false;
    if (!this.#remoteSet) {
      this.#queued.push(c);
      return true;
    }
    try {
      await this.pc.addIceCandidate(c);
      return true;
    } catch (err) {
      this.log.debug({ err: String(err) }, 'agent peer refused a candidate');
      return false;
    }
  }

  override report(opts: ReportWindow = {}): AgentReport {
    return {
      connectionState: this.connectionState,
      inbound: this.analyzer.report(opts),
      outbound: {
        toneHz: this.generator.toneHz,
        markers: this.generator.markerScheme !== undefined,
        framesSent: this.generator.framesSent,
      },
    };
  }

  /** What arrived on the second m-line (see {@link NodeAgentPeerOptions.secondTrack}). */
  secondReport(opts: ReportWindow = {}): { inbound: InboundAudioReport } {
    if (!this.#second) throw new Error('this peer has no second track');
    return { inbound: this.#second.report(opts) };
  }

  async packetsReceived(): Promise<number> {
    if (this.closed) return 0;
    return legStatsFromReport(await this.pc.getStats()).packetsReceived;
  }

  protected override onClose(): void {
    this.pc.removeEventListener('icecandidate', this.#onCandidate);
    this.#second?.close();
  }

  #localCandidate(e: WrtcIceCandidateEvent): void {
    if (this.closed || !e.candidate?.candidate) return;
    const kept = filterCandidate(e.candidate.candidate, { allowedNetworks: this.networks });
    if (kept === undefined) return;
    const msg: IceCandidateMessage = {
      candidate: kept,
      sdpMid: e.candidate.sdpMid,
      sdpMLineIndex: e.candidate.sdpMLineIndex,
    };
    if (this.#sink) this.#sink(msg);
    else this.#held.push(msg);
  }
}

import type { InboundAudioReport, ReportWindow } from '../audio/analyzer.js';
import { AudioAnalyzer } from '../audio/analyzer.js';
import { AudioPeer, type AudioPeerParts } from '../audio/audio-peer.js';
import { AudioGenerator } from '../audio/generator.js';
import { MediaError } from '../media/errors.js';
import { normalizeSdp, sdpLines } from '../media/sdp/lines.js';
import { filterSdpCandidates } from '../media/sdp/rewrite.js';
import { LOOPBACK_NETWORKS, NetworkFilter } from '../rtc/cidr.js';
import { childLogger, type MediaLogger, silentMediaLogger } from '../rtc/log.js';
import { type WrtcPeerConnection, waitForGatheringComplete, whatsAppCodecCapabilities, wrtc } from '../rtc/wrtc.js';

export interface UserPeerOptions {
  /** The user's voice. @default 880 */
  toneHz?: number;
  /** Tones to look for in what arrives (the agent's). @default [] */
  watchHz?: readonly number[];
  /** @default LOOPBACK_NETWORKS */
  allowedNetworks?: readonly string[];
  /** @default 5000 */
  gatherTimeoutMs?: number;
  name?: string;
  logger?: MediaLogger;
}

/**
 * The WhatsApp user a business calls: answers the business's offer the way Meta's side does (complete answer,
 * `a=setup:active`, `a=ice-lite`, UDP loopback host candidates, Opus 111 and telephone-event 126 only) and speaks
 * a tone once they pick up ({@link pickUp}); until then nothing is sent, like a phone that is still ringing.
 * Like the caller peer, it is a full ICE agent underneath (libwebrtc has no lite mode): see sdp-meta.ts.
 */
export class UserPeer extends AudioPeer {
  readonly answerSdp: string;

  /** Applies the business's offer and builds the answer. Nothing is left open when it throws. */
  static async answer(offerSdp: string, opts: UserPeerOptions = {}): Promise<UserPeer> {
    const log = childLogger(opts.logger ?? silentMediaLogger, { component: 'user-peer', user: opts.name });
    const networks = new NetworkFilter(opts.allowedNetworks ?? LOOPBACK_NETWORKS);
    const generator = AudioGenerator.create({ toneHz: opts.toneHz ?? 880, autoStart: false });
    let pc: WrtcPeerConnection | undefined;
    let analyzer: AudioAnalyzer | undefined;
    try {
      pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      // ICE-lite, like Meta's side: the business's candidates are left out, so this (full) agent never checks first
      // and only answers the business's checks, which start once the business has this answer. A full agent that
      // checks and starts DTLS before the business has the answer is not what WhatsApp does, and a libdatachannel
      // offerer can lose that race ("DTLS alert: unknown CA", see offer-gate.ts).
      const offer = sdpLines(offerSdp).filter((l) => !l.startsWith('a=candidate:'));
      await pc.setRemoteDescription({ type: 'offer', sdp: normalizeSdp(offer.join('\r\n')) });
      const transceiver = pc.getTransceivers()[0];
      if (!transceiver) throw new MediaError('sdp-invalid', 'the business offer has no audio section');
      transceiver.direction = 'sendrecv';
      transceiver.setCodecPreferences(whatsAppCodecCapabilities());
      await transceiver.sender.replaceTrack(generator.track);
      analyzer = AudioAnalyzer.create(transceiver.receiver.track, { watchHz: opts.watchHz });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const gatherMs = opts.gatherTimeoutMs ?? 5000;
      if (!(await waitForGatheringComplete(pc, gatherMs)))
        throw new MediaError('webrtc-failed', `the user peer's ICE gathering did not complete within ${gatherMs} ms`);
      const local = pc.localDescription?.sdp;
      if (!local) throw new MediaError('webrtc-failed', 'the user peer has no local description after gathering');
      const peer = new UserPeer(
        { pc, transceiver, generator, analyzer },
        networks,
        log,
        shapeAnswerLikeMeta(local, networks),
      );
      return peer;
    } catch (err) {
      analyzer?.close();
      pc?.close();
      generator.close();
      throw err;
    }
  }

  private constructor(parts: AudioPeerParts, networks: NetworkFilter, log: MediaLogger, answerSdp: string) {
    super(parts, networks, log, 'user');
    this.answerSdp = answerSdp;
  }

  /** The user picked up: their voice starts. */
  pickUp(): void {
    this.generator.start();
  }

  override report(opts: ReportWindow = {}): { inbound: InboundAudioReport } {
    return { inbound: this.analyzer.report(opts) };
  }
}

/** Meta's answer to a business offer: ICE-lite, `setup:active`, UDP host candidates only, no trickle. */
function shapeAnswerLikeMeta(sdp: string, networks: NetworkFilter): string {
  const filtered = filterSdpCandidates(sdp, { allowedNetworks: networks, udpOnly: true });
  const out: string[] = [];
  for (const line of sdpLines(filtered)) {
    if (line === 'a=ice-options:trickle' || line === 'a=extmap-allow-mixed' || line.startsWith('a=extmap:')) continue;
    if (line.startsWith('a=setup:')) {
      out.push('a=setup:active');
      continue;
    }
    if (line.startsWith('m=') && !out.includes('a=ice-lite')) out.push('a=ice-lite');
    out.push(line);
  }
  return normalizeSdp(out.join('\r\n'));
}

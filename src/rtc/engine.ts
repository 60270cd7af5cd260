/**
 * The media engine port: what the media node (and tests) ask of one call's media, whichever engine carries it.
 * Two engines implement it (`src/media/engines/wrtc`, `src/media/engines/forward`), chosen by `MEDIA_ENGINE`.
 *
 * A call's media is a small switch: the WhatsApp leg (sink/source id `caller`), browser legs (`agent:<id>`,
 * `sup:<id>`), a player (`player`) and taps (DTMF, recording, stats). A routing table says which sources each sink
 * hears; changing it never renegotiates the WhatsApp leg.
 */
import type { TypedEmitter } from './emitter.js';
import type { MediaLogger } from './log.js';
import type { LegStats } from './stats.js';
import type { WrtcIceServer } from './wrtc.js';

export type MediaEngineName = 'forward' | 'wrtc';

/** What an engine may lack; a command that needs a missing feature is refused with a clear reason. */
export type MediaFeature = 'browser-legs' | 'routing' | 'player' | 'recording' | 'rfc4733-dtmf';

/** The WhatsApp leg's id as a sink or source. */
export const CALLER = 'caller';
/** The call's player as a source. */
export const PLAYER = 'player';

/** Sink id → the sources it hears (the caller sink takes the first only). */
export type RouteTable = Record<string, string[]>;

/** One Opus packet (20 ms at 48 kHz) per call to `next()`; null when the clip is over. */
export interface OpusFrameSource {
  next(): Buffer | null;
  close?(): void;
}

/** A clip that can be played (again, when looped): each `open()` reads it from the start. */
export interface OpusClip {
  readonly name: string;
  open(): OpusFrameSource;
}

/** Receives the Opus payloads of one direction with their RTP timestamps (48 kHz), for a recording. */
export interface OpusPacketSink {
  write(payload: Buffer, rtpTimestamp: number): void;
  /** Finishes the file; resolves with its path. */
  close(): Promise<string>;
}

/** A local ICE candidate to trickle to a browser. */
export interface IceCandidateMessage {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** A leg's connection state (W3C `RTCPeerConnectionState`): `connected` means ICE and DTLS are up. */
export type LegState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface CallMediaOptions {
  /** Meta's SDP offer from the `connect` webhook (user-initiated call). */
  offerSdp: string;
  /** Included in every log line. */
  callId?: string;
  /** The browser leg that {@link CallMedia.acceptAgentOffer} answers. @default 'agent' */
  agentLegId?: string;
  /** STUN/TURN servers for every leg. @default [] (host candidates only) */
  iceServers?: WrtcIceServer[];
  /** UDP port range for local candidates. @default any port */
  portRange?: { min: number; max: number };
  /** CIDR networks media may use (local and remote candidates). @default allow all */
  allowedNetworks?: readonly string[];
  /** Public IP to put in host candidates instead of the private one (1:1 NAT). @default none */
  announcedIp?: string;
  /** Longest wait for ICE gathering before the WhatsApp answer goes out. @default 2000 */
  gatherTimeoutMs?: number;
  /** Send Opus/digital silence to WhatsApp from its connection until something is routed to it. @default true */
  silenceBeforeAccept?: boolean;
  /** Emit 'dtmf' for keys the caller presses. @default false on wrtc (in-band, costs CPU), always on forward */
  detectDtmf?: boolean;
  /** pino-compatible logger. SDP bodies are never logged. @default silent */
  logger?: MediaLogger;
}

export type CallMediaEvents = {
  /** The WhatsApp leg's ICE and DTLS are up; emitted on each (re)connection. */
  'wa-connected': [];
  /** The WhatsApp leg lost connectivity (it may recover). */
  'wa-disconnected': [];
  /** The agent leg (agentLegId) is up. */
  'agent-connected': [];
  /** The agent leg lost connectivity, failed or was closed. */
  'agent-disconnected': [{ reason: 'disconnected' | 'failed' | 'closed' }];
  /** A local candidate of the agent leg, to trickle to the browser. */
  'agent-candidate': [IceCandidateMessage];
  /** Any browser leg is up. */
  'leg-connected': [{ legId: string }];
  /** Any browser leg went down (failed, disconnected, closed). */
  'leg-down': [{ legId: string; reason: string }];
  /** A local candidate of any browser leg. */
  'leg-candidate': [{ legId: string; candidate: IceCandidateMessage }];
  /** A DTMF key pressed by the caller. */
  dtmf: [{ digit: string; at: number }];
  /** A non-looped play sequence ended. */
  'play-ended': [{ playId: string }];
  /** A leg's connection failed; the media stays open, the owner decides. */
  failed: [{ leg: 'whatsapp' | 'agent'; reason: string }];
  /** Closed; emitted once, then all listeners are removed. */
  closed: [{ reason: string }];
};

export interface CallMediaStats {
  whatsapp: LegStats;
  agent: LegStats | null;
}

/** One call's media on one engine. `close()` is idempotent and releases every socket, timer and peer. */
export interface CallMedia extends TypedEmitter<CallMediaEvents> {
  /** Our answer for Meta's `pre_accept` and `accept` (the same SDP for both); empty on a business-initiated call. */
  readonly waAnswerSdp: string;
  /** Business-initiated: our complete offer for Graph `connect` (actpass, Opus 111, telephone-event 126). */
  readonly waOfferSdp: string | undefined;
  /** Business-initiated: applies Meta's answer (connect webhook) to the WhatsApp leg. */
  applyWaAnswer(sdp: string): Promise<void>;
  readonly closed: boolean;
  readonly waState: LegState;
  readonly agentState: LegState | 'none';
  /** What the WhatsApp leg sends now. */
  readonly waSending: 'agent' | 'silence' | 'player' | 'leg' | 'nothing';
  /** Answers the agent browser's offer (a later one replaces the leg: reload, take-over). */
  acceptAgentOffer(offerSdp: string): Promise<string>;
  addAgentCandidate(candidate: unknown): Promise<boolean>;
  /** Meta's accept returned: the default route now lets the caller hear the agent. Idempotent. */
  startAgentAudio(): void;
  closeAgentLeg(): void;
  /** Answers any browser leg's offer (a later offer for the same leg id replaces it). */
  acceptLegOffer(legId: string, offerSdp: string): Promise<string>;
  addLegCandidate(legId: string, candidate: unknown): Promise<boolean>;
  closeLeg(legId: string): void;
  /** Replaces the whole routing table. */
  setRoutes(routes: RouteTable): void;
  /**
   * Plays the clips in order on the player (replacing what it played); 'play-ended' when done unless looped. Then
   * `thenLoop`, if given, loops from the very next frame (no gap between a prompt and the music after it).
   */
  play(playId: string, clips: OpusClip[], loop: boolean, thenLoop?: OpusClip[]): void;
  stopPlay(): void;
  /** Starts (with sinks) or pauses (null) the recording tap. */
  record(sinks: { caller: OpusPacketSink; agents: OpusPacketSink } | null): void;
  getStats(): Promise<CallMediaStats>;
  close(reason?: string): void;
}

export interface MediaEngine {
  readonly name: MediaEngineName;
  /** Features this engine cannot provide. */
  readonly lacks: readonly MediaFeature[];
  createCall(opts: CallMediaOptions): Promise<CallMedia>;
  /** Business-initiated call: the WhatsApp leg makes the offer; Meta's answer follows (applyWaAnswer). */
  createOutboundCall(opts: Omit<CallMediaOptions, 'offerSdp'>): Promise<CallMedia>;
}

/**
 * A typed view of `@roamhq/wrtc` (node-webrtc), limited to what the media layer uses.
 *
 * The package's own `.d.ts` re-exports the DOM lib's WebRTC types, which do not describe wrtc: `nonstandard` has no
 * usable event types, `portRange` is missing from the configuration, and DOM-only members (DTMF, `ondatachannel`
 * details…) appear to exist when they do not. These interfaces describe the runtime surface of wrtc 0.10.0 as probed
 * on Node 20 (see `src/media/engines/wrtc/DTMF.md` for what is absent).
 *
 * Facts that shape every user of this module:
 * - Events are dispatched on `process.nextTick`; an exception in a listener is an uncaught exception. Every listener
 *   in the media layer catches its own errors.
 * - A peer connection keeps the process alive until `close()`; an `RTCAudioSource` track until `stop()`.
 * - Setting a garbage description, candidate or configuration throws or rejects catchably; it never crashes.
 */
import wrtcModule from '@roamhq/wrtc';

export type WrtcConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type WrtcIceConnectionState =
  | 'new'
  | 'checking'
  | 'connected'
  | 'completed'
  | 'disconnected'
  | 'failed'
  | 'closed';
export type WrtcIceGatheringState = 'new' | 'gathering' | 'complete';
export type WrtcDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | 'stopped';

export interface WrtcSessionDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface WrtcIceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** What wrtc hands to `icecandidate` listeners (null marks the end of gathering). */
export interface WrtcIceCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

export interface WrtcTrack {
  readonly id: string;
  readonly kind: string;
  readonly readyState: 'live' | 'ended';
  enabled: boolean;
  stop(): void;
}

export interface WrtcRtpSender {
  readonly track: WrtcTrack | null;
  replaceTrack(track: WrtcTrack | null): Promise<void>;
}

export interface WrtcRtpReceiver {
  readonly track: WrtcTrack;
}

export interface WrtcRtpCodecCapability {
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}

export interface WrtcTransceiver {
  readonly mid: string | null;
  direction: WrtcDirection;
  readonly currentDirection: WrtcDirection | null;
  readonly sender: WrtcRtpSender;
  readonly receiver: WrtcRtpReceiver;
  readonly stopped: boolean;
  setCodecPreferences(codecs: WrtcRtpCodecCapability[]): void;
  stop(): void;
}

/** One entry of a stats report; fields vary by `type` (see the W3C webrtc-stats spec). */
export interface WrtcStats {
  readonly id: string;
  readonly type: string;
  readonly timestamp: number;
  readonly [field: string]: unknown;
}

export interface WrtcStatsReport {
  values(): IterableIterator<WrtcStats>;
  get(id: string): WrtcStats | undefined;
}

export interface WrtcIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** `RTCConfiguration` as wrtc reads it; `portRange` is a node-webrtc extension (BasicPortAllocator::SetPortRange). */
export interface WrtcConfiguration {
  iceServers?: WrtcIceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  bundlePolicy?: 'balanced' | 'max-compat' | 'max-bundle';
  rtcpMuxPolicy?: 'require' | 'negotiate';
  portRange?: { min?: number; max?: number };
}

export interface WrtcTrackEvent {
  readonly track: WrtcTrack;
  readonly receiver: WrtcRtpReceiver;
  readonly transceiver: WrtcTransceiver;
}

export interface WrtcIceCandidateEvent {
  readonly candidate: WrtcIceCandidate | null;
}

type StateEventName =
  | 'connectionstatechange'
  | 'iceconnectionstatechange'
  | 'icegatheringstatechange'
  | 'signalingstatechange';

export interface WrtcPeerConnection {
  readonly connectionState: WrtcConnectionState;
  readonly iceConnectionState: WrtcIceConnectionState;
  readonly iceGatheringState: WrtcIceGatheringState;
  readonly signalingState: string;
  readonly localDescription: WrtcSessionDescription | null;
  readonly remoteDescription: WrtcSessionDescription | null;
  addTransceiver(trackOrKind: WrtcTrack | 'audio', init?: { direction?: WrtcDirection }): WrtcTransceiver;
  getTransceivers(): WrtcTransceiver[];
  createOffer(): Promise<WrtcSessionDescription>;
  createAnswer(): Promise<WrtcSessionDescription>;
  setLocalDescription(description: WrtcSessionDescription): Promise<void>;
  setRemoteDescription(description: WrtcSessionDescription): Promise<void>;
  addIceCandidate(candidate: WrtcIceCandidateInit | undefined): Promise<void>;
  getStats(): Promise<WrtcStatsReport>;
  getConfiguration(): WrtcConfiguration;
  close(): void;
  addEventListener(type: 'icecandidate', listener: (event: WrtcIceCandidateEvent) => void): void;
  addEventListener(type: 'track', listener: (event: WrtcTrackEvent) => void): void;
  addEventListener(type: StateEventName, listener: () => void): void;
  removeEventListener(type: 'icecandidate', listener: (event: WrtcIceCandidateEvent) => void): void;
  removeEventListener(type: 'track', listener: (event: WrtcTrackEvent) => void): void;
  removeEventListener(type: StateEventName, listener: () => void): void;
}

/** PCM as `RTCAudioSource.onData` takes it and `RTCAudioSink` delivers it (interleaved s16). */
export interface WrtcAudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample?: number;
  channelCount?: number;
  numberOfFrames?: number;
}

export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: WrtcAudioData): void;
}

export interface WrtcAudioSink {
  readonly stopped: boolean;
  ondata: ((data: WrtcAudioData) => void) | null;
  stop(): void;
}

export interface WrtcModule {
  RTCPeerConnection: new (configuration?: WrtcConfiguration) => WrtcPeerConnection;
  RTCRtpSender: { getCapabilities(kind: 'audio'): { codecs: WrtcRtpCodecCapability[] } | null };
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
  };
}

function loadWrtc(mod: unknown): WrtcModule {
  const m = mod as Partial<Record<string, unknown>> | null;
  const ns = (m?.nonstandard ?? null) as Partial<Record<string, unknown>> | null;
  const missing = [
    ['RTCPeerConnection', m?.RTCPeerConnection],
    ['RTCRtpSender', m?.RTCRtpSender],
    ['nonstandard.RTCAudioSource', ns?.RTCAudioSource],
    ['nonstandard.RTCAudioSink', ns?.RTCAudioSink],
  ].filter(([, v]) => typeof v !== 'function');
  if (missing.length > 0) {
    throw new Error(
      `@roamhq/wrtc does not export ${missing.map(([k]) => k).join(', ')}; reinstall @roamhq/wrtc 0.10.x for this platform`,
    );
  }
  return m as unknown as WrtcModule;
}

/** The wrtc module, checked once at load. */
export const wrtc: WrtcModule = loadWrtc(wrtcModule);

/** Resolves when gathering completes or after `timeoutMs`, whichever is first; `true` when it completed. */
export async function waitForGatheringComplete(pc: WrtcPeerConnection, timeoutMs: number): Promise<boolean> {
  return (await waitForGathering(pc, timeoutMs)) === 'complete';
}

/**
 * When only host candidates can come, an answer need not wait for libwebrtc's last gathering phase: `quiet()` says
 * whether usable candidates are in and for how long no new one has arrived (ms).
 */
export interface GatherSettle {
  settleMs: number;
  quiet: () => { haveCandidates: boolean; quietForMs: number };
}

/**
 * Resolves `complete` when ICE gathering completes, `settled` (with `settle`) once candidates are in and none has
 * come for `settle.settleMs`, `timeout` after `timeoutMs` or when the connection closes. Every timer and listener
 * is gone once it resolves.
 */
export function waitForGathering(
  pc: WrtcPeerConnection,
  timeoutMs: number,
  settle?: GatherSettle,
): Promise<'complete' | 'settled' | 'timeout'> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve('complete');
  return new Promise((resolve) => {
    let settleTimer: NodeJS.Timeout | undefined;
    const done = (how: 'complete' | 'settled' | 'timeout'): void => {
      clearTimeout(deadline);
      clearTimeout(settleTimer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve(how);
    };
    const onChange = (): void => {
      if (pc.iceGatheringState === 'complete') done('complete');
      else if (pc.connectionState === 'closed') done('timeout');
    };
    const checkSettled = (s: GatherSettle): void => {
      const { haveCandidates, quietForMs } = s.quiet();
      if (pc.connectionState === 'closed') done('timeout');
      else if (haveCandidates && quietForMs >= s.settleMs) done('settled');
      else settleTimer = setTimeout(() => checkSettled(s), Math.max(1, s.settleMs - quietForMs));
    };
    const deadline = setTimeout(() => done('timeout'), timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
    if (settle) checkSettled(settle);
  });
}

/** The opus + telephone-event/8000 capabilities, in that order (what WhatsApp offers as PT 111 and 126). */
export function whatsAppCodecCapabilities(): WrtcRtpCodecCapability[] {
  const codecs = wrtc.RTCRtpSender.getCapabilities('audio')?.codecs ?? [];
  const opus = codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
  const dtmf = codecs.find((c) => c.mimeType.toLowerCase() === 'audio/telephone-event' && c.clockRate === 8000);
  return [opus, dtmf].filter((c): c is WrtcRtpCodecCapability => c !== undefined);
}

/** Resolves when `pc` is connected; rejects on failed/closed or after `timeoutMs`. */
export function waitForConnected(pc: WrtcPeerConnection, timeoutMs: number, who: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const s = pc.connectionState;
      if (s === 'connected') done();
      else if (s === 'failed' || s === 'closed') done(new Error(`${who} peer connection ${s}`));
    };
    const timer = setTimeout(
      () => done(new Error(`${who} not connected after ${timeoutMs} ms (state ${pc.connectionState})`)),
      timeoutMs,
    );
    function done(err?: Error): void {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      if (err) reject(err);
      else resolve();
    }
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

/** The simulator's shared shapes: a simulated call, its caller, recorded requests, injected failures. */
import type { CaptureKind } from '../shared/meta-capture.js';
import type { UserPeer } from './user-peer.js';

/** The caller's side of a simulated call: a real WebRTC peer (see caller-peer.ts) or anything shaped like one. */
export interface SimCaller {
  readonly offerSdp: string;
  /** Called with our answer when pre_accept (or accept without pre_accept) arrives. */
  applyAnswer(sdp: string): Promise<void>;
  /** Meta's accept returned 200 on this call (the caller's clock for "audio after accept" starts). */
  markAccepted?(): void;
  /** Whether audio from the business has reached the caller (media watchdog). */
  receivingAudio?(): boolean;
  /** Sends `hz` instead of the caller's voice for `ms` (Meta's recording announcement, as the business hears it). */
  playTone?(hz: number, ms: number): void;
  /** Presses keys (RFC 4733 telephone-events for the keypad caller; in-band tones for the wrtc caller). */
  sendDtmf?(digits: string): Promise<void>;
  close(): void | Promise<void>;
}

export type CallerFactory = (callId: string) => Promise<SimCaller>;

export type SimCallState = 'ringing' | 'pre-accepted' | 'accepted' | 'ended';

export interface SimAction {
  at: number;
  callId: string;
  action: string;
  status: number;
  ok: boolean;
  error?: string;
}

/** What a call was opted into at the simulated Meta (the opt-in objects of accept or connect). */
export interface SimCapture {
  kinds: CaptureKind[];
  purpose: string;
}

export interface SimCall {
  callId: string;
  direction: 'USER_INITIATED' | 'BUSINESS_INITIATED';
  /** The user's number: the caller (user-initiated) or the one the business calls (business-initiated). */
  from: string;
  /** Business-initiated: the user called. */
  to?: string | undefined;
  name: string | undefined;
  state: SimCallState;
  caller: SimCaller | undefined;
  /** Business-initiated: the user's peer (answers our offer, speaks once they pick up). */
  user?: UserPeer | undefined;
  /** The answer: ours (user-initiated) or the user's (business-initiated). */
  answerSdp: string | undefined;
  createdAt: number;
  acceptedAt: number | undefined;
  endedAt: number | undefined;
  /** Meta-side recording / transcription the business opted into (accept or connect). */
  capture?: SimCapture | undefined;
  /** How the call ended, from Meta's point of view. */
  endedBy: 'caller' | 'business' | 'rejected' | 'not-answered' | 'media-timeout' | undefined;
  /** Resolves when the call reaches a state. */
  waitFor(state: SimCallState, timeoutMs?: number): Promise<void>;
}

export interface Injection {
  action?: string | undefined;
  /** HTTP status to answer with (500, 400, …). */
  status?: number;
  /** Meta error code in the body. */
  code?: number;
  /** Answer only after this delay (or never, if longer than the client's timeout). */
  delayMs?: number;
  /** How many matching requests this applies to. @default 1 */
  times?: number;
}

import type { CallEventCall, CallEventType } from '../shared/call-event.js';
import type { RtcCandidateInit } from '../shared/protocol.js';
import type { WithdrawReason } from './call.effects.js';
import type { OutboxItem } from './call.store.js';
import type { CallContext } from './call.types.js';

/*
 * The ports a call's effects leave through. The deliverer hands every committed effect to an EffectDispatcher; the
 * dispatcher (src/workers/dispatcher.ts) sends each to its sink. The sinks are declared here so that the rooms
 * implementing them (agents, media, routing) depend on the call actor's layer, not on the workers that use them.
 */

/** Sends effects to where they belong (queues, sockets, media nodes). Must be idempotent per effect id. */
export interface EffectDispatcher {
  dispatch(callId: string, item: OutboxItem, context: CallContext): Promise<void>;
}

/** Everything agents hear about calls. Implemented over Socket.IO (adapter or emitter) plus presence in Redis. */
export interface AgentNotifier {
  offer(callId: string, agentIds: string[], deadlineAt: number, ctx: CallContext): Promise<void>;
  withdraw(callId: string, agentIds: string[], reason: WithdrawReason, takenBy: string | undefined): Promise<void>;
  ended(callId: string, agentIds: string[], reason: string): Promise<void>;
  live(callId: string, agentId: string): Promise<void>;
  release(callId: string, agentId: string): Promise<void>;
  /** The agent leaves a call that goes on without them (a transfer): `call:ended` reason `transferred`, no wrap-up. */
  leave(callId: string, agentId: string, reason?: string): Promise<void>;
  /** How the agent's transfer goes (`call:transfer`). */
  transferStatus(callId: string, agentId: string, status: string, targets: string[]): Promise<void>;
  /** The caller has been on hold longer than the limit (`call:hold-alert`). */
  holdAlert(callId: string, agentId: string, heldMs: number): Promise<void>;
  /** Business-initiated: how the call is going, for the agent who dialled (`call:progress`). */
  progress(callId: string, agentId: string, status: string, message: string | undefined): Promise<void>;
}

/** Commands to the media node that holds (or will hold) a call's bridge. */
export interface MediaCommander {
  /** Without an agent (business-answered call) nothing is routed to a browser until `route`. */
  createBridge(nodeId: string, callId: string, agentId?: string): Promise<void>;
  startAgentAudio(nodeId: string, callId: string): Promise<void>;
  close(nodeId: string, callId: string, reason: string): Promise<void>;
  /** Plays prompt names or absolute Ogg Opus paths in order (replacing what played). */
  play(
    nodeId: string,
    callId: string,
    playId: string,
    clips: string[],
    loop?: boolean,
    thenLoop?: string[],
  ): Promise<void>;
  stopPlay(nodeId: string, callId: string): Promise<void>;
  /** Replaces the call's routing table: sink (`caller`, `agent:<id>`, `sup:<id>`) → sources (those or `player`). */
  route(nodeId: string, callId: string, routes: Record<string, string[]>): Promise<void>;
  legOffer(
    nodeId: string,
    callId: string,
    leg: { legId: string; agentId: string; socketId: string; sdp: string },
  ): Promise<void>;
  legCandidate(
    nodeId: string,
    callId: string,
    leg: { legId: string; socketId: string; candidate: RtcCandidateInit | null },
  ): Promise<void>;
  closeLeg(nodeId: string, callId: string, legId: string): Promise<void>;
  /** Recording tap on or off (pause = off). */
  record(nodeId: string, callId: string, on: boolean): Promise<void>;
  /** Business-initiated: the WhatsApp leg makes the offer. */
  createOutbound(nodeId: string, callId: string, agentId: string): Promise<void>;
  /** Business-initiated: Meta's stored answer goes to the WhatsApp leg. */
  applyAnswer(nodeId: string, callId: string): Promise<void>;
}

/** Call events for outside systems (a no-op when none are configured). `eventId` is stable across replays. */
export interface CallEventSink {
  raise(eventId: string, type: CallEventType, call: CallEventCall, at: number): Promise<void>;
}

/** Supervisors' searchable call history, written when a call ends. */
export interface CallHistoryPort {
  record(callId: string, ctx: CallContext): Promise<void>;
}

/** The per-team queues of business-answered calls (see `src/routing/queue.store.ts`). */
export interface CallQueuePort {
  enter(callId: string, teams: string[], priority: number, enteredAt: number): Promise<void>;
  exit(callId: string, teams: string[]): Promise<void>;
  /** Plays the caller's position and expected wait. */
  announce(callId: string, nodeId: string, playId: string, teams: string[], thenLoop?: string[]): Promise<void>;
  /** Records the outcome of a call that waited in a queue (supervisor figures). */
  ended(callId: string, ctx: CallContext): Promise<void>;
}

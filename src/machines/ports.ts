import type { WithdrawReason } from './call.effects.js';
import type { OutboxItem } from './call.store.js';
import type { CallContext } from './call.types.js';

/*
 * The ports a call's effects leave through. The deliverer hands every committed effect to an EffectDispatcher; the
 * dispatcher (src/workers/dispatcher.ts) sends each to its sink, two of which are declared here so that the rooms
 * implementing them (agents, media) depend on the call actor's layer and not on the workers that use them.
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
}

/** Commands to the media node that holds (or will hold) a call's bridge. */
export interface MediaCommander {
  createBridge(nodeId: string, callId: string, agentId: string): Promise<void>;
  startAgentAudio(nodeId: string, callId: string): Promise<void>;
  close(nodeId: string, callId: string, reason: string): Promise<void>;
}

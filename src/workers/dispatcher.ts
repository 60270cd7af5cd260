import type { WithdrawReason } from '../machines/call.effects.js';
import type { CallIndex } from '../machines/call.index.js';
import type { OutboxItem } from '../machines/call.store.js';
import type { CallContext } from '../machines/call.types.js';
import type { EffectDispatcher } from '../machines/deliver.js';
import type { Metrics } from '../shared/metrics.js';
import type { RtcCandidateInit } from '../shared/protocol.js';
import type { Queues } from './queues.js';

/** Everything agents hear about calls. Implemented over Socket.IO (adapter or emitter) plus presence in Redis. */
export interface AgentNotifier {
  offer(callId: string, agentIds: string[], deadlineAt: number, ctx: CallContext): Promise<void>;
  withdraw(callId: string, agentIds: string[], reason: WithdrawReason, takenBy: string | undefined): Promise<void>;
  ended(callId: string, agentIds: string[], reason: string): Promise<void>;
  live(callId: string, agentId: string): Promise<void>;
  release(callId: string, agentId: string): Promise<void>;
  /** Business-initiated: how the call is going, for the agent who dialled (`call:progress`). */
  progress(callId: string, agentId: string, status: string, message: string | undefined): Promise<void>;
  /** The caller has been on hold longer than the limit (`call:hold-alert`). */
  holdAlert(callId: string, agentId: string, heldMs: number): Promise<void>;
}

/** Commands to the media node that holds (or will hold) a call's bridge. */
export interface MediaCommander {
  /** Without an agent (business-answered call) nothing is routed to a browser until `route`. */
  createBridge(nodeId: string, callId: string, agentId?: string): Promise<void>;
  startAgentAudio(nodeId: string, callId: string): Promise<void>;
  close(nodeId: string, callId: string, reason: string): Promise<void>;
  /** Business-initiated: the WhatsApp leg makes the offer. */
  createOutbound(nodeId: string, callId: string, agentId: string): Promise<void>;
  /** Business-initiated: Meta's stored answer goes to the WhatsApp leg. */
  applyAnswer(nodeId: string, callId: string): Promise<void>;
  /** Plays prompt names or absolute Ogg Opus paths in order (replacing what played). */
  play(nodeId: string, callId: string, playId: string, clips: string[], loop?: boolean): Promise<void>;
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
}

/** The per-team queues of business-answered calls (see `src/routing/queue.store.ts`). */
export interface CallQueuePort {
  enter(callId: string, teams: string[], priority: number, enteredAt: number): Promise<void>;
  exit(callId: string, teams: string[]): Promise<void>;
  /** Plays the caller's position and expected wait. */
  announce(callId: string, nodeId: string, playId: string, teams: string[]): Promise<void>;
  /** Records the outcome of a call that waited in a queue (supervisor figures). */
  ended(callId: string, ctx: CallContext): Promise<void>;
}

/** Routes each effect to its sink. Every sink is idempotent for a replayed effect. */
export class Dispatcher implements EffectDispatcher {
  constructor(
    readonly deps: {
      queues: Queues;
      index: CallIndex;
      agents: AgentNotifier;
      media: MediaCommander;
      callQueue: CallQueuePort;
      metrics?: Metrics | undefined;
      /** Creates the callback task a caller asked for from the queue. */
      callbacks?: { create(callId: string, ctx: CallContext): Promise<void> } | undefined;
    },
  ) {}

  async dispatch(callId: string, { effect }: OutboxItem, ctx: CallContext): Promise<void> {
    const { queues, index, agents, media, metrics, callQueue } = this.deps;
    switch (effect.type) {
      case 'timer.schedule':
        await queues.addTimer(callId, effect.timer, effect.token, effect.delayMs);
        return;
      case 'timer.cancel':
        await queues.cancelTimer(callId, effect.timer, effect.token);
        return;
      case 'routing.request':
        await queues.addRoute(callId, effect.seq);
        return;
      case 'queue.join':
        await index.joinQueue(callId, ctx);
        return;
      case 'queue.leave':
        await index.leaveQueue(callId);
        return;
      case 'agents.offer':
        await agents.offer(callId, effect.agentIds, effect.deadlineAt, ctx);
        return;
      case 'agents.withdraw':
        await agents.withdraw(callId, effect.agentIds, effect.reason, effect.takenBy);
        if (effect.reason === 'taken' && ctx.acceptedAt !== undefined) {
          metrics?.ringTime.observe((ctx.acceptedAt - ctx.createdAt) / 1000);
        }
        return;
      case 'agents.ended':
        await agents.ended(callId, effect.agentIds, effect.reason);
        return;
      case 'agents.live':
        await agents.live(callId, effect.agentId);
        if (ctx.acceptedAt !== undefined && ctx.liveAt !== undefined) {
          metrics?.acceptToLive.observe((ctx.liveAt - ctx.acceptedAt) / 1000);
        }
        return;
      case 'agents.release':
        await agents.release(callId, effect.agentId);
        return;
      case 'media.createBridge':
        await media.createBridge(effect.nodeId, callId, effect.agentId);
        return;
      case 'media.play':
        await media.play(effect.nodeId, callId, effect.playId, effect.clips, effect.loop);
        return;
      case 'media.stopPlay':
        await media.stopPlay(effect.nodeId, callId);
        return;
      case 'media.route':
        await media.route(effect.nodeId, callId, effect.routes);
        return;
      case 'media.closeLeg':
        await media.closeLeg(effect.nodeId, callId, effect.legId);
        return;
      case 'queue.enter':
        await callQueue.enter(callId, effect.teams, effect.priority, effect.enteredAt);
        return;
      case 'queue.exit':
        await callQueue.exit(callId, effect.teams);
        return;
      case 'queue.pump':
        await queues.addPump(callId);
        return;
      case 'queue.announce':
        await callQueue.announce(callId, effect.nodeId, effect.playId, effect.teams);
        return;
      case 'agents.holdAlert':
        await agents.holdAlert(callId, effect.agentId, effect.heldMs);
        return;
      case 'media.startAgentAudio':
        await media.startAgentAudio(effect.nodeId, callId);
        return;
      case 'media.close':
        await media.close(effect.nodeId, callId, effect.reason);
        return;
      case 'graph.preAccept':
        await queues.addGraph(callId, 'pre_accept');
        return;
      case 'graph.accept':
        await queues.addGraph(callId, 'accept');
        return;
      case 'graph.reject':
        await queues.addGraph(callId, 'reject');
        return;
      case 'graph.terminate':
        await queues.addGraph(callId, 'terminate');
        return;
      case 'graph.connect':
        await queues.addGraph(callId, 'connect');
        return;
      case 'callback.create':
        await this.deps.callbacks?.create(callId, ctx);
        return;
      case 'media.record':
        await media.record(effect.nodeId, callId, effect.on);
        return;
      case 'media.createOutbound':
        await media.createOutbound(effect.nodeId, callId, effect.agentId);
        return;
      case 'media.applyAnswer':
        await media.applyAnswer(effect.nodeId, callId);
        return;
      case 'agents.progress':
        await agents.progress(callId, effect.agentId, effect.status, effect.message);
        return;
      case 'call.created':
        await index.created(callId, ctx);
        return;
      case 'call.ended':
        if (await index.ended(callId, ctx)) metrics?.callsEnded.inc({ reason: effect.reason });
        if (ctx.queue) await callQueue.ended(callId, ctx);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }
}

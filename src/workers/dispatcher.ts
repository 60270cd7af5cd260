import { callOf } from '../events/call-events.js';
import type { CallIndex } from '../machines/call.index.js';
import type { OutboxItem } from '../machines/call.store.js';
import type { CallContext } from '../machines/call.types.js';
import type {
  AgentNotifier,
  CallEventSink,
  CallHistoryPort,
  CallQueuePort,
  EffectDispatcher,
  MediaCommander,
} from '../machines/ports.js';
import type { Metrics } from '../shared/metrics.js';
import type { Queues } from './queues.js';

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
      events?: CallEventSink | undefined;
      /** Supervisors' searchable call history, written when a call ends. */
      history?: CallHistoryPort | undefined;
    },
  ) {}

  async dispatch(callId: string, item: OutboxItem, ctx: CallContext): Promise<void> {
    await this.#dispatch(callId, item, ctx);
    await this.#raiseEvent(callId, item, ctx);
  }

  /** The effects outside systems hear about; the event id is the call's and the outbox item's, so replays match. */
  async #raiseEvent(callId: string, { id, effect }: OutboxItem, ctx: CallContext): Promise<void> {
    const events = this.deps.events;
    if (!events) return;
    const eventId = `${callId}.${id}`;
    const now = Date.now();
    switch (effect.type) {
      case 'call.created':
        return events.raise(eventId, 'call.received', callOf(callId, ctx), ctx.times.createdAt);
      case 'agents.offer':
        return events.raise(
          eventId,
          'call.offered',
          callOf(callId, ctx, { offer: { agentIds: effect.agentIds } }),
          now,
        );
      case 'agents.live':
        return events.raise(eventId, 'call.answered', callOf(callId, ctx), ctx.times.liveAt ?? now);
      case 'call.ended':
        return events.raise(eventId, 'call.ended', callOf(callId, ctx), ctx.times.endedAt ?? now);
      case 'agents.handover':
        return events.raise(
          eventId,
          'call.transferred',
          callOf(callId, ctx, { transfer: { from: effect.from, to: effect.target } }),
          now,
        );
    }
  }

  async #dispatch(callId: string, { effect }: OutboxItem, ctx: CallContext): Promise<void> {
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
        if (effect.reason === 'taken' && ctx.times.acceptedAt !== undefined) {
          metrics?.ringTime.observe((ctx.times.acceptedAt - ctx.times.createdAt) / 1000);
        }
        return;
      case 'agents.ended':
        await agents.ended(callId, effect.agentIds, effect.reason);
        return;
      case 'agents.live':
        await agents.live(callId, effect.agentId);
        if (ctx.times.acceptedAt !== undefined && ctx.times.liveAt !== undefined) {
          metrics?.acceptToLive.observe((ctx.times.liveAt - ctx.times.acceptedAt) / 1000);
        }
        return;
      case 'agents.release':
        await agents.release(callId, effect.agentId);
        return;
      case 'agents.handover':
        await agents.leave(callId, effect.from);
        return;
      case 'agents.leave':
        await agents.leave(callId, effect.agentId, effect.reason);
        return;
      case 'agents.transferStatus':
        await agents.transferStatus(callId, effect.agentId, effect.status, effect.targets);
        return;
      case 'media.createBridge':
        await media.createBridge(effect.nodeId, callId, effect.agentId);
        return;
      case 'media.play':
        await media.play(effect.nodeId, callId, effect.playId, effect.clips, effect.loop, effect.thenLoop);
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
        await callQueue.announce(callId, effect.nodeId, effect.playId, effect.teams, effect.thenLoop);
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
        await queues.addGraph(callId, 'accept', effect.startAgentAudioOn);
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
        await this.deps.history?.record(callId, ctx);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }
}

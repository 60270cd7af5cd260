import type { WithdrawReason } from '../machines/call.effects.js';
import type { CallContext } from '../machines/call.types.js';
import type { AgentNotifier } from '../machines/ports.js';
import type { Keys } from '../shared/keys.js';
import { type Logger, maskNumber } from '../shared/log.js';
import type { CallOffered, CallProgress, CallTransferStatus, ServerToAgent } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { PresenceService } from './presence.js';

type EventName = keyof ServerToAgent;
type Payload<E extends EventName> = Parameters<ServerToAgent[E]>[0];

/**
 * Emits to rooms of the `/agents` namespace on every replica: the http role uses its Socket.IO server (Redis
 * adapter), other roles the Redis emitter. Both have this shape.
 */
export interface Broadcaster {
  to(room: string | string[]): { emit(ev: string, ...args: unknown[]): unknown };
  in(room: string | string[]): {
    socketsJoin(rooms: string | string[]): void;
    socketsLeave(rooms: string | string[]): void;
  };
}

export const agentRoom = (agentId: string) => `agent:${agentId}`;
export const teamRoom = (team: string) => `team:${team}`;
export const supervisorsRoom = 'supervisors';
/** Every tab of every agent a call rings for, while it rings (and the winner's, until it ends). */
export const callRoom = (callId: string) => `call:${callId}`;

export function emitTo<E extends EventName>(
  b: Broadcaster,
  rooms: string | string[],
  ev: E,
  payload: Payload<E>,
): void {
  b.to(rooms).emit(ev, payload);
}

export function offeredPayload(callId: string, ctx: CallContext, deadlineAt: number): CallOffered {
  return {
    callId,
    from: { name: ctx.caller.name ?? null, number: maskNumber(ctx.caller.waId) },
    deadlineAt,
    createdAt: ctx.times.createdAt,
  };
}

/**
 * The agent-facing effects: ringing, withdrawal, end of call, presence changes. Redis holds who is offered what,
 * so a reloaded tab on any replica gets its offers back.
 */
export class SocketAgentNotifier implements AgentNotifier {
  constructor(
    readonly deps: {
      broadcaster: Broadcaster;
      presence: PresenceService;
      redis: RedisClient;
      keys: Keys;
      logger: Logger;
      wrapUpMs: number;
      /** Schedules the end of an agent's wrap-up (a delayed job that makes them available again). */
      scheduleWrapUpEnd: (agentId: string, at: number) => Promise<void>;
      retentionMs: number;
    },
  ) {}

  async offer(callId: string, agentIds: string[], deadlineAt: number, ctx: CallContext): Promise<void> {
    const { redis, keys, broadcaster } = this.deps;
    await Promise.all(agentIds.map((a) => redis.sadd(keys.agent.offers(a), callId)));
    const payload = offeredPayload(callId, ctx, deadlineAt);
    broadcaster.in(agentIds.map(agentRoom)).socketsJoin(callRoom(callId));
    emitTo(broadcaster, agentIds.map(agentRoom), 'call:offered', payload);
    emitTo(broadcaster, supervisorsRoom, 'floor:call', { callId, event: 'offered', agentIds });
  }

  async withdraw(
    callId: string,
    agentIds: string[],
    reason: WithdrawReason,
    takenBy: string | undefined,
  ): Promise<void> {
    const { redis, keys, broadcaster } = this.deps;
    await Promise.all(agentIds.map((a) => redis.srem(keys.agent.offers(a), callId)));
    const rooms = agentIds.map(agentRoom);
    if (reason === 'taken' && takenBy) {
      // Every tab that rang, on every replica; the losers leave the call's room, the winner's tabs stay in it.
      emitTo(broadcaster, [callRoom(callId), ...rooms], 'call:taken', { callId, agentId: takenBy });
      broadcaster.in(rooms.filter((r) => r !== agentRoom(takenBy))).socketsLeave(callRoom(callId));
      emitTo(broadcaster, supervisorsRoom, 'floor:call', { callId, event: 'taken', agentIds: [takenBy] });
    } else if (reason !== 'taken') {
      emitTo(broadcaster, rooms, 'call:withdrawn', { callId, reason });
      broadcaster.in(rooms).socketsLeave(callRoom(callId));
    }
  }

  async ended(callId: string, agentIds: string[], reason: string): Promise<void> {
    const { redis, keys } = this.deps;
    await Promise.all(agentIds.map((a) => redis.srem(keys.agent.offers(a), callId)));
    emitTo(this.deps.broadcaster, [callRoom(callId), ...agentIds.map(agentRoom)], 'call:ended', { callId, reason });
    this.deps.broadcaster.in(callRoom(callId)).socketsLeave(callRoom(callId));
    emitTo(this.deps.broadcaster, supervisorsRoom, 'floor:call', { callId, event: 'ended', reason });
  }

  async live(callId: string, agentId: string): Promise<void> {
    const { redis, keys, broadcaster } = this.deps;
    const stored = await redis.hget(keys.call.state(callId), 'snapshot');
    const ctx = stored ? (JSON.parse(stored) as { context: CallContext }).context : undefined;
    emitTo(broadcaster, [agentRoom(agentId), supervisorsRoom], 'call:live', {
      callId,
      liveAt: ctx?.times.liveAt ?? Date.now(),
    });
    if (ctx?.caller.waId) {
      await redis.set(keys.callerAgent(ctx.caller.waId), agentId, 'PX', 30 * 86_400_000);
    }
  }

  async progress(callId: string, agentId: string, status: string, message: string | undefined): Promise<void> {
    emitTo(this.deps.broadcaster, agentRoom(agentId), 'call:progress', {
      callId,
      status: status as CallProgress['status'],
      ...(message ? { message } : {}),
    });
  }

  async leave(callId: string, agentId: string, reason = 'transferred'): Promise<void> {
    const { broadcaster, presence } = this.deps;
    emitTo(broadcaster, agentRoom(agentId), 'call:ended', { callId, reason });
    broadcaster.in(agentRoom(agentId)).socketsLeave(callRoom(callId));
    emitTo(broadcaster, supervisorsRoom, 'floor:call', { callId, event: 'transferred', agentIds: [agentId] });
    const now = Date.now();
    if (!(await presence.release(agentId, callId, now))) return;
    emitTo(broadcaster, [agentRoom(agentId), supervisorsRoom], 'agent:presence', {
      agentId,
      presence: await presence.effective(agentId),
    });
    // Free at once: the end of their (empty) wrap-up offers them waiting calls.
    await this.deps.scheduleWrapUpEnd(agentId, now);
  }

  async transferStatus(callId: string, agentId: string, status: string, targets: string[]): Promise<void> {
    emitTo(this.deps.broadcaster, agentRoom(agentId), 'call:transfer', {
      callId,
      status: status as CallTransferStatus['status'],
      targets,
    });
  }

  async holdAlert(callId: string, agentId: string, heldMs: number): Promise<void> {
    emitTo(this.deps.broadcaster, agentRoom(agentId), 'call:hold-alert', { callId, heldMs });
  }

  async release(callId: string, agentId: string): Promise<void> {
    const until = Date.now() + this.deps.wrapUpMs;
    if (!(await this.deps.presence.release(agentId, callId, until))) return;
    const presence = await this.deps.presence.effective(agentId);
    emitTo(this.deps.broadcaster, agentRoom(agentId), 'agent:presence', { agentId, presence });
    emitTo(this.deps.broadcaster, supervisorsRoom, 'floor:agent', { agentId, presence });
    await this.deps.scheduleWrapUpEnd(agentId, until);
  }
}

import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import type { ActionResult, AgentActions } from '../agents/actions.js';
import type { Availability } from '../agents/availability.js';
import type { Agent } from '../agents/directory.js';
import { agentRoom, callRoom, offeredPayload, supervisorsRoom, teamRoom } from '../agents/notifier.js';
import type { PresenceService } from '../agents/presence.js';
import type { CallStore } from '../machines/call.store.js';
import { restore } from '../machines/deliver.js';
import { AppError, errorMessage } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import { type Logger, maskNumber } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import {
  AGENT_NAMESPACE,
  type AgentSession,
  type AgentToServer,
  CallRefSchema,
  ConsultSchema,
  DialSchema,
  LegCandidateSchema,
  LegOfferSchema,
  MonitorSchema,
  PROTOCOL_VERSION,
  PresenceSetSchema,
  RecordSchema,
  RtcCandidateSchema,
  RtcOfferSchema,
  type ServerToAgent,
  TransferSchema,
  WrapUpSchema,
} from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { MonitorActions } from '../supervision/monitor.actions.js';
import type { TransferActions } from '../transfer/transfer.actions.js';
import type { WrapUpService } from '../wrapup/wrapup.service.js';
import type { TokenService } from './auth.js';

interface SocketData {
  agent: Agent;
  tokenExp: number;
}

type AgentSocket = Socket<AgentToServer, ServerToAgent, Record<string, never>, SocketData>;
type AnyAck = (res: unknown) => void;

export interface SignalingDeps {
  httpServer: HttpServer;
  pub: RedisClient;
  sub: RedisClient;
  keys: Keys;
  tokens: TokenService;
  presence: PresenceService;
  availability: Availability;
  actions: AgentActions;
  /** `call:dial` (business-initiated calls). */
  dial: { dial(agentId: string, to: string): Promise<ActionResult | { ok: true; callId: string }> };
  /** Supervisor listen / whisper (`call:monitor`, `rtc:leg-offer`, `rtc:leg-candidate`). */
  monitors?: Pick<MonitorActions, 'monitor' | 'legOffer' | 'legCandidate'> | undefined;
  /** Blind transfer (`call:transfer`). */
  transfers?: Pick<TransferActions, 'transfer' | 'consult' | 'endConsult'> | undefined;
  /** After-call work (`call:wrapup`). */
  wrapUps?: Pick<WrapUpService, 'submit'> | undefined;
  store: CallStore;
  logger: Logger;
  metrics?: Metrics | undefined;
  corsOrigins?: string[] | undefined;
  /** An agent's last socket dropped: look again shortly and treat them as gone if they have not come back. */
  scheduleOfflineCheck: (agentId: string) => Promise<void>;
}

export interface Signaling {
  io: Server<AgentToServer, ServerToAgent>;
  /** Closes every socket and waits for their disconnect handling to finish. */
  close(): Promise<void>;
}

/**
 * Agent signaling: Socket.IO namespace `/agents` on the http role, joined across replicas by the Redis adapter.
 * Websocket transport only, so no sticky sessions are needed. Every agent → server event is validated and
 * acknowledged; the token is checked on every event, not just at connect.
 */
export function createSignaling(deps: SignalingDeps): Signaling {
  const { logger, presence, actions, availability, tokens, metrics } = deps;
  const pending = new Set<Promise<void>>();
  const io = new Server<AgentToServer, ServerToAgent, Record<string, never>, SocketData>(deps.httpServer, {
    transports: ['websocket'],
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    maxHttpBufferSize: 64 * 1024,
    cors: deps.corsOrigins?.length ? { origin: deps.corsOrigins } : undefined,
    adapter: createAdapter(deps.pub, deps.sub, { key: deps.keys.socketKey }),
  });
  const nsp = io.of(AGENT_NAMESPACE);

  nsp.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const { agent, claims } = await tokens.verify(typeof token === 'string' ? token : undefined);
      socket.data.agent = agent;
      socket.data.tokenExp = claims.exp * 1000;
      next();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('internal', 'authentication failed');
      const refusal = new Error(e.message) as Error & { data?: unknown };
      refusal.data = { code: e.code, message: e.message };
      metrics?.socketEvents.inc({ event: 'connect', result: e.code });
      next(refusal);
    }
  });

  /** The agent's session, and the call rooms the socket asking for it belongs in. */
  const session = async (agent: Agent, rooms: string[] = []): Promise<AgentSession> => {
    const offers: AgentSession['offers'] = [];
    for (const callId of await presence.offersOf(agent.id)) {
      const stored = await deps.store.load(callId);
      const ctx = stored ? restore(stored.snapshot).context : undefined;
      const ringing = stored?.state === 'agent-offered' || stored?.state === 'transferring';
      if (ringing && ctx?.routing.offer?.agentIds.includes(agent.id)) {
        offers.push(offeredPayload(callId, ctx, ctx.routing.offer.expiresAt ?? ctx.times.answerDeadlineAt));
        rooms.push(callRoom(callId));
      } else {
        await presence.dropOffer(agent.id, callId);
      }
    }
    let activeCall: AgentSession['activeCall'] = null;
    const claimed = await presence.claimedBy(agent.id);
    if (claimed) {
      const stored = await deps.store.load(claimed);
      const ctx = stored ? restore(stored.snapshot).context : undefined;
      if (stored && ctx && stored.state !== 'ended' && ctx.agentId === agent.id) {
        rooms.push(callRoom(claimed));
        activeCall = {
          callId: claimed,
          state: stored.state,
          from: { name: ctx.caller.name ?? null, number: maskNumber(ctx.caller.waId) },
          acceptedAt: ctx.times.acceptedAt ?? null,
          liveAt: ctx.times.liveAt ?? null,
        };
      }
    }
    return {
      agentId: agent.id,
      name: agent.name,
      role: agent.role,
      presence: await presence.effective(agent.id),
      offers,
      activeCall,
      protocol: PROTOCOL_VERSION,
    };
  };

  nsp.on('connection', async (socket: AgentSocket) => {
    const agent = socket.data.agent;
    const log = logger.child({ agentId: agent.id, socket: socket.id });
    socket.join([
      agentRoom(agent.id),
      ...agent.teams.map(teamRoom),
      ...(agent.role === 'supervisor' ? [supervisorsRoom] : []),
    ]);

    /** Wraps a handler: token still valid, payload valid, errors become acks, nothing throws out. */
    const on = <S extends z.ZodType>(
      event: keyof AgentToServer,
      schema: S | undefined,
      handler: (payload: z.infer<S>) => Promise<ActionResult | ({ ok: true } & Record<string, unknown>)>,
    ) => {
      socket.on(event, async (payload: unknown, ack?: unknown) => {
        const reply: AnyAck = typeof ack === 'function' ? (ack as AnyAck) : () => {};
        try {
          if (Date.now() >= socket.data.tokenExp) {
            metrics?.socketEvents.inc({ event, result: 'token-expired' });
            reply({ ok: false, error: 'token-expired', message: 'Your session has expired: log in again.' });
            socket.emit('auth:expired', { message: 'Your session has expired: log in again.' });
            socket.disconnect(true);
            return;
          }
          let data: unknown = payload;
          if (schema) {
            const parsed = schema.safeParse(payload);
            if (!parsed.success) {
              const i = parsed.error.issues[0];
              metrics?.socketEvents.inc({ event, result: 'bad-request' });
              reply({
                ok: false,
                error: 'bad-request',
                message: `${event}: ${i?.path.join('.') || 'payload'} ${i?.message}`,
              });
              return;
            }
            data = parsed.data;
          }
          await presence.touch(agent.id, socket.id);
          const res = await handler(data as z.infer<S>);
          metrics?.socketEvents.inc({ event, result: res.ok ? 'ok' : String((res as { error: string }).error) });
          reply(res);
        } catch (err) {
          log.error({ event, err: errorMessage(err) }, 'agent event failed');
          metrics?.socketEvents.inc({ event, result: 'internal' });
          reply({ ok: false, error: 'internal', message: 'Something went wrong on our side; try again.' });
        }
      });
    };

    on('presence:set', PresenceSetSchema, async ({ status }) => {
      await presence.setChosen(agent.id, status);
      if (status === 'away') await availability.becameUnavailable(agent.id);
      else await availability.becameAvailable(agent.id);
      return { ok: true, presence: await presence.effective(agent.id) };
    });
    on('call:accept', CallRefSchema, async ({ callId }) => {
      const res = await actions.accept(agent.id, callId);
      if (res.ok) await availability.becameUnavailable(agent.id, callId);
      return res;
    });
    on('call:dial', DialSchema, async ({ to }) => {
      const res = await deps.dial.dial(agent.id, to);
      if (res.ok && 'callId' in res) await availability.becameUnavailable(agent.id, res.callId);
      return res;
    });
    on('call:record', RecordSchema, ({ callId, on: recording }) => actions.record(agent.id, callId, recording));
    on('call:decline', CallRefSchema, ({ callId }) => actions.decline(agent.id, callId));
    on('call:hangup', CallRefSchema, ({ callId }) => actions.hangup(agent.id, callId));
    on('call:hold', CallRefSchema, ({ callId }) => actions.hold(agent.id, callId));
    on('call:resume', CallRefSchema, ({ callId }) => actions.resume(agent.id, callId));
    on('rtc:offer', RtcOfferSchema, ({ callId, sdp }) => actions.rtcOffer(agent.id, callId, socket.id, sdp));
    on('rtc:candidate', RtcCandidateSchema, ({ callId, candidate }) =>
      actions.rtcCandidate(agent.id, callId, socket.id, candidate),
    );
    const noMonitor = { ok: false as const, error: 'internal' as const, message: 'Monitoring is not available here.' };
    on('call:monitor', MonitorSchema, async ({ callId, mode }) =>
      deps.monitors ? deps.monitors.monitor(agent.id, callId, mode) : noMonitor,
    );
    on('rtc:leg-offer', LegOfferSchema, async ({ callId, sdp }) =>
      deps.monitors ? deps.monitors.legOffer(agent.id, callId, socket.id, sdp) : noMonitor,
    );
    on('rtc:leg-candidate', LegCandidateSchema, async ({ callId, candidate }) =>
      deps.monitors ? deps.monitors.legCandidate(agent.id, callId, socket.id, candidate) : noMonitor,
    );
    on('call:transfer', TransferSchema, async ({ callId, to }) => {
      if (!deps.transfers) return { ok: false, error: 'internal', message: 'Transfer is not available here.' };
      return deps.transfers.transfer(agent.id, callId, to);
    });
    const noTransfer = { ok: false as const, error: 'internal' as const, message: 'Transfer is not available here.' };
    on('call:consult', ConsultSchema, async ({ callId, to }) =>
      deps.transfers ? deps.transfers.consult(agent.id, callId, to.agentId) : noTransfer,
    );
    on('call:consult-complete', CallRefSchema, async ({ callId }) =>
      deps.transfers ? deps.transfers.endConsult(agent.id, callId, 'complete') : noTransfer,
    );
    on('call:consult-cancel', CallRefSchema, async ({ callId }) =>
      deps.transfers ? deps.transfers.endConsult(agent.id, callId, 'cancel') : noTransfer,
    );
    on('call:wrapup', WrapUpSchema, async ({ callId, code, notes }) => {
      if (!deps.wrapUps) return { ok: false, error: 'internal', message: 'Wrap-up is not available here.' };
      return deps.wrapUps.submit(agent.id, callId, code, notes);
    });
    on('agent:heartbeat', undefined, async () => ({ ok: true }));
    on('agent:sync', undefined, async () => ({ ok: true, session: await session(agent) }));

    socket.on('disconnect', (why) => {
      const work = (async () => {
        try {
          const { nowOffline } = await presence.drop(agent.id, socket.id);
          log.info({ why, nowOffline }, 'agent socket closed');
          if (!nowOffline) return;
          // Logging out is final at once; a dropped connection (network blip, reload) gets a moment to come back
          // before the agent's ringing calls move on.
          if (why === 'client namespace disconnect') await availability.becameUnavailable(agent.id);
          else await deps.scheduleOfflineCheck(agent.id);
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'presence update on disconnect failed; the lease will expire');
        }
      })();
      pending.add(work);
      void work.finally(() => pending.delete(work));
    });

    try {
      const { wasOffline } = await presence.touch(agent.id, socket.id);
      log.info({ wasOffline }, 'agent socket connected');
      const rooms: string[] = [];
      const s = await session(agent, rooms);
      if (rooms.length) socket.join(rooms);
      socket.emit('agent:session', s);
      if (wasOffline) await availability.becameAvailable(agent.id);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'could not set up the agent session');
    }
  });

  return {
    io,
    async close() {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.allSettled([...pending]);
    },
  };
}

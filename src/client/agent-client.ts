import { io, type Socket } from 'socket.io-client';
import type {
  AgentSession,
  AgentToServer,
  CallOffered,
  PresenceState,
  RtcCandidateInit,
  ServerToAgent,
  WrapUp,
} from '../shared/protocol.js';
import { ACK_MESSAGES, type AckResult, normalizeAck } from './acks.js';

/**
 * A typed client for the agent protocol (Socket.IO namespace `/agents`) and the REST API, for the browser console
 * and for Node tests alike. It depends only on socket.io-client and the protocol's types (type-only imports keep
 * zod out of browser bundles); it touches no DOM API.
 * The REST calls are in api-request.ts, the acknowledgement results in acks.ts.
 * @see src/shared/protocol.ts
 */

/** Mirrors `AGENT_NAMESPACE` in protocol.ts (a value import would bundle zod into the console). */
const AGENT_NAMESPACE_PATH = '/agents';

// ---- connection status and events -----------------------------------------------------------------------------

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'auth-failed';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why the last connection failed or closed, in words. */
  message?: string | undefined;
  /** Increments on every successful (re)connection. */
  connects: number;
}

/** What a client emits: every server → agent event, plus `connection` (state changes) and `session`. */
export type AgentClientEvents = ServerToAgent & {
  connection: (s: ConnectionStatus) => void;
  /** The latest session snapshot, from `agent:session` or a successful `agent:sync`. */
  session: (s: AgentSession) => void;
};
type EventName = keyof AgentClientEvents;
type Payload<E extends EventName> = Parameters<AgentClientEvents[E]>[0];

/** The server → agent events this client relays (kept in one list so none is forgotten). */
const SERVER_EVENTS = [
  'call:offered',
  'call:taken',
  'call:withdrawn',
  'call:ended',
  'call:live',
  'call:transfer',
  'rtc:answer',
  'rtc:candidate',
  'agent:session',
  'agent:presence',
  'auth:expired',
  'floor:call',
  'floor:agent',
  'call:progress',
  'call:permission',
  'call:hold-alert',
] as const satisfies readonly (keyof ServerToAgent)[];

export interface AgentClientOptions {
  /** The service's origin, e.g. `http://127.0.0.1:3000` (the namespace path is added). */
  baseUrl: string;
  token: string;
  /** How long an acknowledgement may take. @default 10_000 */
  ackTimeoutMs?: number;
  /** `agent:heartbeat` period; it renews this socket's presence lease. @default 10_000 */
  heartbeatMs?: number;
  /** Socket.IO reconnection back-off. @default 500 … 5_000 */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
}

type AnySocket = Socket<Record<string, (...args: never[]) => void>, Record<string, (...args: never[]) => void>>;

/**
 * One agent connection. Call {@link connect}; listen with {@link on}; act with the typed methods, each of which
 * resolves to the server's acknowledgement or to `{ok: false, error: 'timeout' | 'disconnected'}`; never rejects.
 * Socket.IO reconnects by itself and the server sends `agent:session` on every connection, which this client relays
 * as `session`: rebuild the UI from it.
 */
export class AgentClient {
  readonly #opts: Required<AgentClientOptions>;
  readonly #listeners = new Map<EventName, Set<(payload: never) => void>>();
  #socket: Socket<ServerToAgent, AgentToServer> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #status: ConnectionStatus = { state: 'idle', connects: 0 };
  #session: AgentSession | undefined;
  #offers = new Map<string, CallOffered>();
  #presence: PresenceState | undefined;

  constructor(opts: AgentClientOptions) {
    this.#opts = {
      ackTimeoutMs: 10_000,
      heartbeatMs: 10_000,
      reconnectDelayMs: 500,
      reconnectDelayMaxMs: 5_000,
      ...opts,
    };
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The last session snapshot the server sent, if any. */
  get session(): AgentSession | undefined {
    return this.#session;
  }

  /**
   * Calls ringing for this agent now, oldest first: the session's offers, kept current by `call:offered`,
   * `call:taken`, `call:withdrawn` and `call:ended`.
   */
  get offers(): CallOffered[] {
    return [...this.#offers.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** This agent's presence as last reported (session, `agent:presence`, or a `presence:set` ack). */
  get presence(): PresenceState | undefined {
    return this.#presence;
  }

  get connected(): boolean {
    return this.#socket?.connected ?? false;
  }

  /** The Socket.IO id of the current connection (the server routes `rtc:*` replies to it). */
  get socketId(): string | undefined {
    return this.#socket?.id;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: AgentClientEvents[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  off<E extends EventName>(event: E, listener: AgentClientEvents[E]): void {
    this.#listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  /** Resolves with the next `event` whose payload passes `match` (tests and one-shot waits). */
  waitFor<E extends EventName>(
    event: E,
    match: (payload: Payload<E>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Payload<E>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
      }, timeoutMs);
      const listener = (payload: Payload<E>) => {
        if (!match(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      };
      const off = this.on(event, listener as unknown as AgentClientEvents[E]);
    });
  }

  /** Opens the connection (idempotent). Progress and failures arrive as `connection` events. */
  connect(): this {
    if (this.#socket) return this;
    const socket: Socket<ServerToAgent, AgentToServer> = io(`${this.#opts.baseUrl}${AGENT_NAMESPACE_PATH}`, {
      transports: ['websocket'],
      auth: { token: this.#opts.token },
      reconnectionDelay: this.#opts.reconnectDelayMs,
      reconnectionDelayMax: this.#opts.reconnectDelayMaxMs,
      autoConnect: false,
    });
    this.#socket = socket;
    this.#setStatus('connecting');

    for (const event of SERVER_EVENTS) {
      (socket as unknown as AnySocket).on(event, (payload: never) => {
        if (event === 'agent:session') this.#acceptSession(payload as AgentSession);
        else this.#track(event, payload);
        this.#emit(event, payload);
      });
    }
    socket.on('connect', () => {
      this.#startHeartbeat();
      this.#setStatus('connected', undefined, this.#status.connects + 1);
    });
    socket.on('disconnect', (reason) => {
      this.#stopHeartbeat();
      if (this.#status.state === 'closed' || this.#status.state === 'auth-failed') return;
      // 'io server disconnect' (e.g. an expired token) is not retried by Socket.IO; everything else is.
      if (socket.active) this.#setStatus('reconnecting', `Connection lost (${reason}); reconnecting…`);
      else this.#setStatus('closed', 'The server closed the connection.');
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
      const code = err.data?.code;
      // Refused by the auth middleware (a bad token, a disabled account): retrying with the same token cannot succeed.
      if (!socket.active || code?.startsWith('token-') || code === 'account-disabled') {
        const message = err.data?.message ?? err.message;
        this.#setStatus('auth-failed', message);
        socket.disconnect();
        this.#emit('auth:expired', { message });
        return;
      }
      this.#setStatus('reconnecting', `Cannot reach the server (${err.message}); retrying…`);
    });
    socket.connect();
    return this;
  }

  /** Closes the connection for good (no reconnection). */
  close(): void {
    this.#stopHeartbeat();
    this.#setStatus('closed');
    this.#socket?.disconnect();
    this.#socket?.removeAllListeners();
    this.#socket = undefined;
  }

  // ---- agent → server ----------------------------------------------------------------------------------------

  async setPresence(status: 'online' | 'away'): Promise<AckResult<{ presence?: PresenceState }>> {
    const res = await this.#request<{ presence?: PresenceState }>('presence:set', { status });
    if (res.ok) this.#presence = res.presence ?? status;
    return res;
  }

  /** First accept wins; a loser's ack says `already-taken`. */
  accept(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:accept', { callId });
  }

  decline(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:decline', { callId });
  }

  hangup(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:hangup', { callId });
  }

  /**
   * Calls a WhatsApp user (business-initiated). Ack `{ok: true, callId}`: open the agent leg for `callId` like after
   * an accept; or an error (`bad-number`, `no-permission` after a permission request went out, `limit-reached`…).
   */
  dial(to: string): Promise<AckResult<{ callId: string }>> {
    return this.#request('call:dial', { to });
  }

  /** Pauses (`false`), resumes or starts (`true`) the call's recording; the ack's `state` is the recording's state. */
  record(callId: string, on: boolean): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:record', { callId, on });
  }

  /** The caller hears music and this agent's microphone is no longer forwarded. */
  hold(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:hold', { callId });
  }

  resume(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:resume', { callId });
  }

  /** Consult transfer: ask `agentId` first while the caller holds; then {@link consultComplete} or cancel. */
  consult(callId: string, agentId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:consult', { callId, to: { agentId } });
  }

  consultComplete(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:consult-complete', { callId });
  }

  consultCancel(callId: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:consult-cancel', { callId });
  }

  /** Supervisors: listen to a call, whisper to its agent, or stop. */
  monitor(callId: string, mode: 'listen' | 'whisper' | 'stop'): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:monitor', { callId, mode });
  }

  /** Supervisors: the offer of their monitoring leg; the answer comes as `rtc:answer` with `legId: "sup:<id>"`. */
  sendLegOffer(callId: string, sdp: string): Promise<AckResult> {
    return this.#request('rtc:leg-offer', { callId, sdp });
  }

  sendLegCandidate(callId: string, candidate: RtcCandidateInit | null): Promise<AckResult> {
    return this.#request('rtc:leg-candidate', { callId, candidate });
  }

  /** Blind transfer of the live call to an agent (`{agentId}`) or a team (`{team}`). */
  transfer(callId: string, to: { agentId: string } | { team: string }): Promise<AckResult<{ state?: string }>> {
    return this.#request('call:transfer', { callId, to });
  }

  /** After-call work: the call's wrap-up code (one of the agent's team codes) and notes. */
  wrapUp(callId: string, code: string, notes?: string): Promise<AckResult<{ wrapUp?: WrapUp }>> {
    return this.#request('call:wrapup', notes === undefined ? { callId, code } : { callId, code, notes });
  }

  /** Sends the browser's offer for the agent leg; a repeated offer replaces the leg (after a reload). */
  sendOffer(callId: string, sdp: string): Promise<AckResult<{ state?: string }>> {
    return this.#request('rtc:offer', { callId, sdp });
  }

  /** Trickles one local ICE candidate; `null` means end of candidates. */
  sendCandidate(callId: string, candidate: RtcCandidateInit | null): Promise<AckResult> {
    return this.#request('rtc:candidate', { callId, candidate });
  }

  heartbeat(): Promise<AckResult> {
    return this.#request('agent:heartbeat', {});
  }

  /** Asks for the session again; a success is also emitted as `session`. */
  async sync(): Promise<AckResult<{ session: AgentSession }>> {
    const res = await this.#request<{ session: AgentSession }>('agent:sync', {});
    if (res.ok) this.#acceptSession(res.session);
    return res;
  }

  // ---- internals ---------------------------------------------------------------------------------------------

  async #request<T extends object = object>(event: keyof AgentToServer, payload: object): Promise<AckResult<T>> {
    const socket = this.#socket;
    // Fail fast rather than let Socket.IO buffer an accept or a hangup until some later reconnection.
    if (!socket?.connected) return { ok: false, error: 'disconnected', message: ACK_MESSAGES.disconnected };
    try {
      const raw = socket as unknown as AnySocket;
      const res = (await raw.timeout(this.#opts.ackTimeoutMs).emitWithAck(event, payload as never)) as unknown;
      return normalizeAck<T>(res);
    } catch {
      return { ok: false, error: 'timeout', message: ACK_MESSAGES.timeout };
    }
  }

  #acceptSession(session: AgentSession): void {
    this.#session = session;
    this.#presence = session.presence;
    this.#offers = new Map(session.offers.map((o) => [o.callId, o]));
    this.#emit('session', session);
  }

  /** Keeps {@link offers} and {@link presence} current between sessions. */
  #track(event: (typeof SERVER_EVENTS)[number], payload: unknown): void {
    switch (event) {
      case 'call:offered': {
        const offer = payload as CallOffered;
        this.#offers.set(offer.callId, offer);
        break;
      }
      case 'call:taken':
      case 'call:withdrawn':
      case 'call:ended':
        this.#offers.delete((payload as { callId: string }).callId);
        break;
      case 'agent:presence': {
        const p = payload as { agentId: string; presence: PresenceState };
        if (p.agentId === this.#session?.agentId) this.#presence = p.presence;
        break;
      }
    }
  }

  #emit<E extends EventName>(event: E, payload: Payload<E>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (p: Payload<E>) => void)(payload);
      } catch (err) {
        // A listener's bug must not break the others or the socket's own handlers.
        console.error(`agent-client: a '${String(event)}' listener threw`, err);
      }
    }
  }

  #setStatus(state: ConnectionState, message?: string, connects = this.#status.connects): void {
    this.#status = { state, message, connects };
    this.#emit('connection', this.#status);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => void this.heartbeat(), this.#opts.heartbeatMs);
    // In Node, a heartbeat alone must not keep the process alive.
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

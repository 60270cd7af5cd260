import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { type Logger, silentLogger } from '../shared/log.js';
import { BusinessCalls } from './business-calls.js';
import { SimCaptureService } from './capture.js';
import type { CallActionHooks } from './graph-rules.js';
import { createGraphApp } from './graph-server.js';
import type { CallerFactory, Injection, SimAction, SimCall, SimCaller, SimCallState } from './sim-types.js';
import {
  type BusinessNumber,
  callsEnvelope,
  connectCall,
  type SendResult,
  terminateCall,
  WebhookSender,
} from './webhook-sender.js';

export type { CallerFactory, Injection, SimAction, SimCall, SimCaller, SimCallState } from './sim-types.js';

export interface SimulatorOptions {
  /** Where our service takes webhooks, e.g. http://127.0.0.1:3000/webhooks/whatsapp. */
  webhookUrl: string;
  appSecret: string;
  accessToken: string;
  business: BusinessNumber;
  callerFactory?: CallerFactory | undefined;
  /** Meta ends an unanswered call after this ("about 30 to 60 seconds"). @default 60000 */
  answerWindowMs?: number;
  /** No business → caller audio this long after accept: Meta hangs up with 138021. @default 20000; 0 disables */
  mediaWatchdogMs?: number;
  logger?: Logger;
}

type Waiter = { state: SimCallState; resolve: () => void };

const ORDER: Record<SimCallState, number> = { ringing: 0, 'pre-accepted': 1, accepted: 2, ended: 3 };

/**
 * A strict stand-in for Meta: serves the Graph API (graph-server.ts) and checks every action (graph-rules.ts: order,
 * SDP validity, a=setup:active, sha-256 fingerprint, identical SDP on pre_accept and accept, known and live call id),
 * places calls by posting signed `connect` webhooks with a real WebRTC offer, and hangs up with `terminate`
 * webhooks. Business-initiated calls, users and their call permissions live in business-calls.ts. Every request is
 * recorded so tests can assert that Meta saw each one exactly once.
 */
export class WhatsAppSimulator {
  readonly opts: Required<Omit<SimulatorOptions, 'callerFactory'>> & { callerFactory: CallerFactory | undefined };
  sender: WebhookSender;
  readonly calls = new Map<string, SimCall>();
  readonly actions: SimAction[] = [];
  /** Emits 'request' `{callId, action}` the moment a Graph API request arrives (before any injected delay). */
  readonly requests = new EventEmitter();
  #waiters = new Map<string, Waiter[]>();
  #injections: Required<Injection>[] = [];
  #server: Server | undefined;
  #timers = new Set<NodeJS.Timeout>();
  baseUrl = '';
  /** Business-initiated calls: users, permissions, `connect`. */
  readonly business: BusinessCalls;
  /** Meta-side recording and transcription: opt-in checks, media webhooks, media downloads. */
  readonly capture: SimCaptureService;
  /** What committed `/calls` actions do to a call. */
  readonly hooks: CallActionHooks = {
    setState: (call, state) => this.#setState(call, state),
    end: (call, by) => this.#end(call, by),
    accepted: (call) => this.#armWatchdog(call),
    log: (msg, err) => this.opts.logger.warn({ err: (err as Error).message }, msg),
  };

  constructor(opts: SimulatorOptions) {
    this.opts = {
      answerWindowMs: 60_000,
      mediaWatchdogMs: 20_000,
      logger: silentLogger,
      ...opts,
      callerFactory: opts.callerFactory,
    };
    this.sender = new WebhookSender(opts.webhookUrl, opts.appSecret);
    const sim = this;
    this.business = new BusinessCalls({
      business: this.opts.business,
      logger: this.opts.logger,
      calls: this.calls,
      get sender() {
        return sim.sender;
      },
      register: (call) => this.#register(call),
      setState: (call, state) => this.#setState(call, state),
      end: (call, by) => this.#end(call, by),
      after: (ms, fn) => this.#after(ms, fn),
    });
    this.capture = new SimCaptureService({
      opts: this.opts,
      get baseUrl() {
        return sim.baseUrl;
      },
      logger: this.opts.logger,
      send: (body) => sim.sender.send(body),
      after: (ms, fn) => this.#after(ms, fn),
      takeInjection: (action) => this.takeInjection(action),
    });
  }

  /** Points webhooks at another URL (the service's port is known only once it listens). */
  setWebhookUrl(url: string): void {
    this.sender = new WebhookSender(url, this.opts.appSecret);
  }

  /**
   * Starts the Graph API server, on loopback unless `host` says otherwise (a container of its own in the compose
   * demo); `baseUrl` is what GRAPH_API_BASE_URL should be.
   */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const app = this.graphApp();
    this.#server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve());
    });
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.baseUrl = `http://${shown}:${(this.#server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.calls.values()].map((c) => (c.caller ?? c.user)?.close()));
    if (this.#server) {
      this.#server.closeAllConnections?.();
      await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    }
  }

  /** The Graph API answers the next matching requests with an error or a delay. */
  inject(i: Injection): void {
    this.#injections.push({
      action: i.action ?? '',
      status: i.status ?? 200,
      code: i.code ?? 0,
      delayMs: i.delayMs ?? 0,
      times: i.times ?? 1,
    });
  }

  actionsFor(callId: string, action?: string): SimAction[] {
    return this.actions.filter((a) => a.callId === callId && (action === undefined || a.action === action));
  }

  okActions(callId: string, action: string): number {
    return this.actionsFor(callId, action).filter((a) => a.ok).length;
  }

  /**
   * Places a call: a caller peer makes a real offer, then a signed `connect` webhook carries it to the service.
   * `caller` is a caller made elsewhere instead of the factory's (a RelayedCaller for a browser page);
   * `sdp` overrides the offer (broken-SDP tests); `deliver: false` registers the call without sending the webhook.
   */
  async placeCall(
    opts: { callId?: string; from?: string; name?: string; sdp?: string; caller?: SimCaller; deliver?: boolean } = {},
  ): Promise<{ call: SimCall; response: SendResult | undefined }> {
    const callId = opts.callId ?? `wacid.${randomBytes(24).toString('base64url')}`;
    const caller =
      opts.caller ??
      (opts.sdp === undefined && this.opts.callerFactory ? await this.opts.callerFactory(callId) : undefined);
    const sdp = opts.sdp ?? caller?.offerSdp;
    if (!sdp) throw new Error('placeCall needs a callerFactory or an sdp');
    const call = this.#register({
      callId,
      direction: 'USER_INITIATED',
      from: opts.from ?? `9198${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
      name: opts.name,
      state: 'ringing',
      caller,
      answerSdp: undefined,
      createdAt: Date.now(),
      acceptedAt: undefined,
      endedAt: undefined,
      endedBy: undefined,
    });
    this.#after(this.opts.answerWindowMs, () => {
      if (call.state === 'ringing' || call.state === 'pre-accepted') void this.#metaEnds(call, 'not-answered', 138007);
    });
    const response = opts.deliver === false ? undefined : await this.sendConnect(callId, sdp);
    if (opts.deliver !== false) await this.business.userCalled(call.from, callId);
    return { call, response };
  }

  /** The caller presses keys on a call in progress. */
  async pressKeys(callId: string, digits: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const call = this.calls.get(callId);
    if (!call) return { ok: false, error: 'unknown call' };
    if (!/^[0-9*#]{1,20}$/.test(digits)) return { ok: false, error: 'digits must be 1 to 20 of 0-9, * and #' };
    if (call.state === 'ended') return { ok: false, error: 'the call has ended' };
    if (!call.caller?.sendDtmf) return { ok: false, error: 'this caller cannot press keys' };
    await call.caller.sendDtmf(digits);
    return { ok: true };
  }

  #register(init: Omit<SimCall, 'waitFor'>): SimCall {
    const call: SimCall = {
      ...init,
      waitFor: (state, timeoutMs = 30_000) => this.#waitFor(init.callId, state, timeoutMs),
    };
    this.calls.set(call.callId, call);
    return call;
  }

  /** A record of one Graph API request and Meta's answer. */
  record(callId: string, action: string, status: number, error?: string): void {
    this.actions.push({ at: Date.now(), callId, action, status, ok: status === 200, ...(error ? { error } : {}) });
  }

  connectBody(callId: string, sdp?: string): Record<string, unknown> {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`unknown sim call ${callId}`);
    return callsEnvelope(
      this.opts.business,
      [connectCall(this.opts.business, { callId, from: c.from, name: c.name, sdp: sdp ?? c.caller?.offerSdp ?? '' })],
      [{ waId: c.from, name: c.name }],
    );
  }

  terminateBody(
    callId: string,
    opts: { status?: 'COMPLETED' | 'FAILED'; errorCode?: number } = {},
  ): Record<string, unknown> {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`unknown sim call ${callId}`);
    const start = c.acceptedAt ? Math.floor(c.acceptedAt / 1000) : undefined;
    return callsEnvelope(this.opts.business, [
      terminateCall(this.opts.business, {
        callId,
        from: c.from,
        status: opts.status ?? (opts.errorCode ? 'FAILED' : 'COMPLETED'),
        errorCode: opts.errorCode,
        startTime: start,
        endTime: start !== undefined ? Math.floor(Date.now() / 1000) : undefined,
      }),
    ]);
  }

  sendConnect(callId: string, sdp?: string): Promise<SendResult> {
    return this.sender.send(this.connectBody(callId, sdp));
  }

  /** The caller (or the called user) hangs up: their peer closes and Meta sends `terminate` (COMPLETED). */
  async hangup(callId: string): Promise<SendResult> {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`unknown sim call ${callId}`);
    if (c.direction === 'BUSINESS_INITIATED') return this.business.userHangsUp(c);
    this.#end(c, 'caller');
    return this.sender.send(this.terminateBody(callId));
  }

  async #metaEnds(call: SimCall, why: 'not-answered' | 'media-timeout', code: number): Promise<void> {
    if (call.state === 'ended') return;
    this.opts.logger.info({ callId: call.callId, why }, 'sim: Meta ends the call');
    this.#end(call, why);
    await this.sender
      .send(this.terminateBody(call.callId, { status: 'FAILED', errorCode: code }))
      .catch(() => undefined);
  }

  #end(call: SimCall, by: NonNullable<SimCall['endedBy']>): void {
    if (call.state === 'ended') return;
    call.endedBy = by;
    call.endedAt = Date.now();
    this.#setState(call, 'ended');
    this.capture.ended(call);
    void Promise.resolve((call.caller ?? call.user)?.close()).catch(() => undefined);
  }

  #setState(call: SimCall, state: SimCallState): void {
    call.state = state;
    const waiters = this.#waiters.get(call.callId) ?? [];
    const remaining: Waiter[] = [];
    for (const w of waiters) {
      if (ORDER[state] >= ORDER[w.state]) w.resolve();
      else remaining.push(w);
    }
    this.#waiters.set(call.callId, remaining);
  }

  #waitFor(callId: string, state: SimCallState, timeoutMs: number): Promise<void> {
    const c = this.calls.get(callId);
    if (c && ORDER[c.state] >= ORDER[state]) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`sim call ${callId} did not reach ${state} within ${timeoutMs} ms (is ${c?.state})`)),
        timeoutMs,
      );
      const list = this.#waiters.get(callId) ?? [];
      list.push({
        state,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
      this.#waiters.set(callId, list);
    });
  }

  #after(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.#timers.add(t);
  }

  /** Takes the next injection matching `action` (see {@link inject}). */
  takeInjection(action: string): Required<Injection> | undefined {
    const i = this.#injections.findIndex((x) => x.action === '' || x.action === action);
    if (i === -1) return undefined;
    const inj = this.#injections[i]!;
    inj.times--;
    if (inj.times <= 0) this.#injections.splice(i, 1);
    return inj;
  }

  /** The Graph API and the control API (graph-server.ts). */
  graphApp(): Hono {
    return createGraphApp(this);
  }

  /** Meta's media watchdog: no business audio for 20 s after accept → the client hangs up (138021). */
  #armWatchdog(call: SimCall): void {
    const ms = this.opts.mediaWatchdogMs;
    if (!ms || !call.caller?.receivingAudio) return;
    this.#after(ms, () => {
      if (call.state === 'accepted' && !call.caller?.receivingAudio?.())
        void this.#metaEnds(call, 'media-timeout', 138021);
    });
  }
}

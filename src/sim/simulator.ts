import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { validateWhatsAppAnswer } from '../media/sdp.js';
import { type Logger, silentLogger } from '../shared/log.js';
import {
  type BusinessNumber,
  callsEnvelope,
  connectCall,
  type SendResult,
  terminateCall,
  WebhookSender,
} from './webhook-sender.js';

/** The caller's side of a simulated call: a real WebRTC peer (see caller-peer.ts) or anything shaped like one. */
export interface SimCaller {
  readonly offerSdp: string;
  /** Called with our answer when pre_accept (or accept without pre_accept) arrives. */
  applyAnswer(sdp: string): Promise<void>;
  /** Meta's accept returned 200 on this call (the caller's clock for "audio after accept" starts). */
  markAccepted?(): void;
  /** Whether audio from the business has reached the caller (media watchdog). */
  receivingAudio?(): boolean;
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

export interface SimCall {
  callId: string;
  from: string;
  name: string | undefined;
  state: SimCallState;
  caller: SimCaller | undefined;
  answerSdp: string | undefined;
  createdAt: number;
  acceptedAt: number | undefined;
  endedAt: number | undefined;
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

function metaError(status: number, code: number, message: string) {
  return {
    status,
    body: { error: { message, type: 'OAuthException', code, fbtrace_id: randomBytes(8).toString('hex') } },
  };
}

/**
 * A strict stand-in for Meta: serves the Graph API `/calls` endpoint and checks every action (order, SDP validity,
 * a=setup:active, sha-256 fingerprint, identical SDP on pre_accept and accept, known and live call id), places
 * calls by posting signed `connect` webhooks with a real WebRTC offer, and hangs up with `terminate` webhooks.
 * Every action is recorded so tests can assert that Meta saw each one exactly once.
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

  constructor(opts: SimulatorOptions) {
    this.opts = {
      answerWindowMs: 60_000,
      mediaWatchdogMs: 20_000,
      logger: silentLogger,
      ...opts,
      callerFactory: opts.callerFactory,
    };
    this.sender = new WebhookSender(opts.webhookUrl, opts.appSecret);
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
    await Promise.allSettled([...this.calls.values()].map((c) => c.caller?.close()));
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
   * `sdp` overrides the offer (broken-SDP tests); `deliver: false` registers the call without sending the webhook.
   */
  async placeCall(
    opts: { callId?: string; from?: string; name?: string; sdp?: string; deliver?: boolean } = {},
  ): Promise<{ call: SimCall; response: SendResult | undefined }> {
    const callId = opts.callId ?? `wacid.${randomBytes(24).toString('base64url')}`;
    const caller =
      opts.sdp === undefined && this.opts.callerFactory ? await this.opts.callerFactory(callId) : undefined;
    const sdp = opts.sdp ?? caller?.offerSdp;
    if (!sdp) throw new Error('placeCall needs a callerFactory or an sdp');
    const call: SimCall = {
      callId,
      from: opts.from ?? `9198${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
      name: opts.name,
      state: 'ringing',
      caller,
      answerSdp: undefined,
      createdAt: Date.now(),
      acceptedAt: undefined,
      endedAt: undefined,
      endedBy: undefined,
      waitFor: (state, timeoutMs = 30_000) => this.#waitFor(callId, state, timeoutMs),
    };
    this.calls.set(callId, call);
    this.#after(this.opts.answerWindowMs, () => {
      if (call.state === 'ringing' || call.state === 'pre-accepted') void this.#metaEnds(call, 'not-answered', 138007);
    });
    const response = opts.deliver === false ? undefined : await this.sendConnect(callId, sdp);
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

  /** The caller hangs up: their peer closes and Meta sends `terminate` (COMPLETED). */
  async hangup(callId: string): Promise<SendResult> {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`unknown sim call ${callId}`);
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
    void Promise.resolve(call.caller?.close()).catch(() => undefined);
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

  #takeInjection(action: string): Required<Injection> | undefined {
    const i = this.#injections.findIndex((x) => x.action === '' || x.action === action);
    if (i === -1) return undefined;
    const inj = this.#injections[i]!;
    inj.times--;
    if (inj.times <= 0) this.#injections.splice(i, 1);
    return inj;
  }

  /** The Graph API `/calls` endpoint, as strict as Meta. */
  graphApp(): Hono {
    const app = new Hono();
    app.post('/:version/:phoneNumberId/calls', async (c) => {
      const record = (callId: string, action: string, status: number, error?: string) => {
        this.actions.push({ at: Date.now(), callId, action, status, ok: status === 200, ...(error ? { error } : {}) });
      };
      let body: Record<string, unknown> = {};
      try {
        body = (await c.req.json()) as Record<string, unknown>;
      } catch {
        record('', 'unparseable', 400, 'body is not JSON');
        const e = metaError(400, 100, 'Invalid parameter: body is not JSON');
        return c.json(e.body, 400);
      }
      const callId = typeof body.call_id === 'string' ? body.call_id : '';
      const action = typeof body.action === 'string' ? body.action : '';
      this.requests.emit('request', { callId, action });
      // An injected delay is network time: the request reaches "Meta" late and is judged when it arrives.
      const inj = this.#takeInjection(action);
      if (inj?.delayMs) await new Promise((r) => setTimeout(r, inj.delayMs));
      if (inj && inj.status !== 200) {
        // The injected failure happens before Meta acts: nothing changes, like a real 5xx.
        record(callId, action, inj.status, `injected ${inj.status}`);
        const e = metaError(inj.status, inj.code || (inj.status >= 500 ? 1 : 100), `injected failure ${inj.status}`);
        return c.json(e.body, inj.status as 500);
      }
      const result = this.#handleAction(
        c.req.param('version'),
        c.req.param('phoneNumberId'),
        c.req.header('authorization'),
        body,
      );
      record(
        callId,
        action,
        result.status,
        result.status === 200 ? undefined : String((result.body as { error?: { message?: string } }).error?.message),
      );
      if (result.status === 200) result.commit?.();
      return c.json(result.body, result.status as 200);
    });
    // Control API for `npm run sim -- call|hangup|list` (loopback only, like the whole simulator).
    app.post('/_sim/calls', async (c) => {
      const opts = (await c.req.json().catch(() => ({}))) as { from?: string; name?: string };
      const { call, response } = await this.placeCall({ from: opts.from, name: opts.name ?? 'Demo Caller' });
      return c.json({ callId: call.callId, webhookStatus: response?.status });
    });
    app.post('/_sim/calls/:id/hangup', async (c) => {
      if (!this.calls.has(c.req.param('id'))) return c.json({ error: 'unknown call' }, 404);
      const res = await this.hangup(c.req.param('id'));
      return c.json({ ok: true, webhookStatus: res.status });
    });
    app.post('/_sim/calls/:id/keys', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { digits?: unknown };
      const digits = typeof body.digits === 'string' ? body.digits : '';
      const res = await this.pressKeys(c.req.param('id'), digits);
      return res.ok ? c.json(res) : c.json(res, res.error === 'unknown call' ? 404 : 400);
    });
    app.get('/_sim/calls', (c) =>
      c.json({
        calls: [...this.calls.values()].map((x) => ({
          callId: x.callId,
          state: x.state,
          endedBy: x.endedBy ?? null,
          createdAt: x.createdAt,
          acceptedAt: x.acceptedAt ?? null,
        })),
      }),
    );
    app.get('/_sim/actions', (c) => c.json({ actions: this.actions }));
    app.all('*', (c) => c.json(metaError(400, 100, `Unsupported request ${c.req.method} ${c.req.path}`).body, 400));
    return app;
  }

  #handleAction(
    version: string,
    phoneNumberId: string,
    auth: string | undefined,
    body: Record<string, unknown>,
  ): { status: number; body: unknown; commit?: () => void } {
    if (auth !== `Bearer ${this.opts.accessToken}`) return metaError(401, 190, 'Invalid OAuth access token');
    if (!/^v\d+\.\d+$/.test(version)) return metaError(400, 100, `Unknown API version ${version}`);
    if (phoneNumberId !== this.opts.business.phoneNumberId)
      return metaError(400, 100, `Unknown phone number id ${phoneNumberId}`);
    if (body.messaging_product !== 'whatsapp') return metaError(400, 100, 'messaging_product must be "whatsapp"');
    const action = body.action;
    const callId = body.call_id;
    if (typeof callId !== 'string') return metaError(400, 100, 'call_id is required');
    const call = this.calls.get(callId);
    if (!call) return metaError(400, 100, `Invalid call_id ${callId}`);
    const session = body.session as { sdp_type?: unknown; sdp?: unknown } | undefined;
    const ok = { status: 200, body: { messaging_product: 'whatsapp', success: true } };

    switch (action) {
      case 'pre_accept':
      case 'accept': {
        if (call.state === 'ended')
          return metaError(
            400,
            100,
            call.endedBy === 'caller' ? 'The user has already terminated the call' : 'Call has ended',
          );
        if (action === 'pre_accept' && call.state !== 'ringing')
          return metaError(400, 100, `pre_accept in state ${call.state}: already done`);
        if (action === 'accept' && call.state === 'accepted') return metaError(400, 100, 'Call is already in progress');
        if (session?.sdp_type !== 'answer') return metaError(400, 100, 'session.sdp_type must be "answer"');
        if (typeof session.sdp !== 'string') return metaError(400, 100, 'session.sdp is required');
        const check = validateWhatsAppAnswer(session.sdp);
        if (!check.ok)
          return {
            status: 400,
            body: {
              error: {
                message: 'Invalid SDP',
                type: 'OAuthException',
                code: 100,
                error_data: { details: check.errors.join('; ') },
              },
            },
          };
        if (call.answerSdp !== undefined && call.answerSdp !== session.sdp) {
          return metaError(400, 100, 'The accept SDP does not match the pre_accept SDP for this call');
        }
        const sdp = session.sdp;
        const first = call.answerSdp === undefined;
        return {
          ...ok,
          commit: () => {
            call.answerSdp = sdp;
            if (first && call.caller) {
              void call.caller
                .applyAnswer(sdp)
                .catch((err) =>
                  this.opts.logger.warn({ err: (err as Error).message }, 'sim caller could not apply the answer'),
                );
            }
            if (action === 'pre_accept') this.#setState(call, 'pre-accepted');
            else {
              call.acceptedAt = Date.now();
              call.caller?.markAccepted?.();
              this.#setState(call, 'accepted');
              this.#armWatchdog(call);
            }
          },
        };
      }
      case 'reject':
        if (call.state === 'ended') return metaError(400, 100, 'Call has already ended');
        if (call.state === 'accepted') return metaError(400, 100, 'Call is already in progress: terminate it instead');
        return { ...ok, commit: () => this.#end(call, 'rejected') };
      case 'terminate':
        if (call.state === 'ended') return metaError(400, 100, 'The user has already terminated the call');
        return { ...ok, commit: () => this.#end(call, 'business') };
      default:
        return metaError(400, 100, `Unsupported action ${String(action)}`);
    }
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

/**
 * The simulator's HTTP face: the Graph API endpoints this service calls (`/calls`, `/call_permissions`,
 * `/messages`), each request recorded, with injected failures and delays; and a small control API on `/_sim` for
 * `npm run sim`. Meta's rules live in graph-rules.ts and business-calls.ts.
 */
import { Hono } from 'hono';
import type { BusinessCalls } from './business-calls.js';
import type { SimCaptureService } from './capture.js';
import type { CallActionHooks } from './graph-rules.js';
import { checkGraphRequest, judgeUserCallAction } from './graph-rules.js';
import { type GraphReply, metaError } from './meta-error.js';
import { RelayedCaller } from './relayed-caller.js';
import type { Injection, SimAction, SimCall, SimCaller } from './sim-types.js';
import type { SendResult } from './webhook-sender.js';

/** What the HTTP face needs of the simulator (declared here, where it is used). */
export interface GraphHost {
  readonly opts: { accessToken: string; business: { phoneNumberId: string } };
  readonly requests: { emit(event: 'request', r: { callId: string; action: string }): unknown };
  readonly calls: Map<string, SimCall>;
  readonly actions: SimAction[];
  readonly business: BusinessCalls;
  readonly capture: SimCaptureService;
  readonly hooks: CallActionHooks;
  takeInjection(action: string): Required<Injection> | undefined;
  record(callId: string, action: string, status: number, error?: string): void;
  placeCall(opts: { from?: string | undefined; name?: string | undefined; caller?: SimCaller }): Promise<{
    call: SimCall;
    response: SendResult | undefined;
  }>;
  hangup(callId: string): Promise<SendResult>;
  pressKeys(callId: string, digits: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

export function createGraphApp(sim: GraphHost): Hono {
  const app = new Hono();
  const expect = () => ({ accessToken: sim.opts.accessToken, phoneNumberId: sim.opts.business.phoneNumberId });

  /** Records the request, applies an injection, judges it, commits a success. */
  const serve = async (
    record: { callId: string; action: string },
    judge: () => GraphReply,
  ): Promise<{ status: number; body: unknown }> => {
    sim.requests.emit('request', record);
    // An injected delay is network time: the request reaches "Meta" late and is judged when it arrives.
    const inj = sim.takeInjection(record.action);
    if (inj?.delayMs) await new Promise((r) => setTimeout(r, inj.delayMs));
    if (inj && inj.status !== 200) {
      // The injected failure happens before Meta acts: nothing changes, like a real 5xx.
      sim.record(record.callId, record.action, inj.status, `injected ${inj.status}`);
      return metaError(inj.status, inj.code || (inj.status >= 500 ? 1 : 100), `injected failure ${inj.status}`);
    }
    const result = judge();
    const callId =
      record.action === 'connect' && result.status === 200
        ? ((result.body as { calls?: { id: string }[] }).calls?.[0]?.id ?? '')
        : record.callId;
    sim.record(
      callId,
      record.action,
      result.status,
      result.status === 200 ? undefined : String((result.body as { error?: { message?: string } }).error?.message),
    );
    if (result.status === 200) result.commit?.();
    return result;
  };

  const json = async (c: { req: { json(): Promise<unknown> } }) => {
    try {
      const b = await c.req.json();
      return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };

  app.post('/:version/:phoneNumberId/calls', async (c) => {
    const body = await json(c);
    if (!body) {
      sim.record('', 'unparseable', 400, 'body is not JSON');
      return c.json(metaError(400, 100, 'Invalid parameter: body is not JSON').body, 400);
    }
    const callId = typeof body.call_id === 'string' ? body.call_id : '';
    const action = typeof body.action === 'string' ? body.action : '';
    const req = {
      version: c.req.param('version'),
      phoneNumberId: c.req.param('phoneNumberId'),
      auth: c.req.header('authorization'),
    };
    const res = await serve({ callId, action }, () => {
      const refused = checkGraphRequest(req, expect(), body);
      if (refused) return refused;
      return sim.capture.judge(
        action,
        body,
        () => {
          if (action === 'connect') return sim.business.connect(body);
          if (typeof body.call_id !== 'string') return metaError(400, 100, 'call_id is required');
          const call = sim.calls.get(callId);
          if (!call) return metaError(400, 100, `Invalid call_id ${callId}`);
          if (call.direction === 'BUSINESS_INITIATED' && action !== 'terminate')
            return metaError(400, 100, `${action} is not valid on a business-initiated call`);
          return judgeUserCallAction(
            call,
            action,
            body.session as { sdp_type?: unknown; sdp?: unknown } | undefined,
            sim.hooks,
          );
        },
        sim.calls,
      );
    });
    return c.json(res.body, res.status as 200);
  });

  app.get('/:version/:phoneNumberId/call_permissions', async (c) => {
    const user = c.req.query('user_wa_id');
    const req = {
      version: c.req.param('version'),
      phoneNumberId: c.req.param('phoneNumberId'),
      auth: c.req.header('authorization'),
    };
    const res = await serve({ callId: '', action: 'call_permissions' }, () => {
      const refused = checkGraphRequest(req, expect());
      return refused ?? sim.business.permissionsView(user);
    });
    return c.json(res.body, res.status as 200);
  });

  app.post('/:version/:phoneNumberId/messages', async (c) => {
    const body = await json(c);
    const req = {
      version: c.req.param('version'),
      phoneNumberId: c.req.param('phoneNumberId'),
      auth: c.req.header('authorization'),
    };
    const res = await serve({ callId: '', action: 'message' }, () => {
      if (!body) return metaError(400, 100, 'Invalid parameter: body is not JSON');
      const refused = checkGraphRequest(req, expect(), body);
      return refused ?? sim.business.message(body);
    });
    return c.json(res.body, res.status as 200);
  });

  // Control API for `npm run sim -- call|hangup|list|user` (loopback only, like the whole simulator).
  // With `sdp`, the caller is a peer outside the simulator (a browser page): its offer goes to the business, and
  // the business's answer waits at /_sim/calls/:id/answer.
  app.post('/_sim/calls', async (c) => {
    const opts = ((await json(c)) ?? {}) as { from?: string; name?: string; sdp?: unknown };
    let caller: RelayedCaller | undefined;
    if (opts.sdp !== undefined) {
      try {
        caller = new RelayedCaller(opts.sdp as string);
      } catch (err) {
        return c.json({ error: (err as Error).message }, 400);
      }
    }
    const { call, response } = await sim.placeCall({
      from: opts.from,
      name: opts.name ?? 'Demo Caller',
      ...(caller ? { caller } : {}),
    });
    return c.json({ callId: call.callId, webhookStatus: response?.status });
  });
  app.get('/_sim/calls/:id/answer', async (c) => {
    const caller = sim.calls.get(c.req.param('id'))?.caller;
    if (!(caller instanceof RelayedCaller)) return c.json({ error: 'no relayed caller on this call' }, 404);
    const waitMs = Math.min(Math.max(Number(c.req.query('waitMs') ?? 10_000) || 0, 0), 60_000);
    try {
      return c.json({ sdp: await caller.answer(waitMs) });
    } catch (err) {
      return c.json({ error: (err as Error).message }, 408);
    }
  });
  app.post('/_sim/calls/:id/hangup', async (c) => {
    if (!sim.calls.has(c.req.param('id'))) return c.json({ error: 'unknown call' }, 404);
    const res = await sim.hangup(c.req.param('id'));
    return c.json({ ok: true, webhookStatus: res.status });
  });
  app.post('/_sim/calls/:id/keys', async (c) => {
    const body = ((await json(c)) ?? {}) as { digits?: unknown };
    const digits = typeof body.digits === 'string' ? body.digits : '';
    const res = await sim.pressKeys(c.req.param('id'), digits);
    return res.ok ? c.json(res) : c.json(res, res.error === 'unknown call' ? 404 : 400);
  });
  app.post('/_sim/users', async (c) => {
    const body = ((await json(c)) ?? {}) as { waId?: unknown; permission?: unknown; answer?: unknown };
    if (typeof body.waId !== 'string' || !/^\d{6,20}$/.test(body.waId))
      return c.json({ error: 'waId must be digits' }, 400);
    const permission = ['none', 'temporary', 'permanent'].includes(body.permission as string)
      ? (body.permission as 'none')
      : 'temporary';
    const answer = ['accept', 'reject', 'ignore'].includes(body.answer as string)
      ? (body.answer as 'accept')
      : 'accept';
    sim.business.addUser(body.waId, { permission, answer, replyToRequest: 'accept' });
    return c.json({ ok: true, waId: body.waId, permission, answer });
  });
  app.get('/_sim/calls', (c) =>
    c.json({
      calls: [...sim.calls.values()].map((x) => ({
        callId: x.callId,
        direction: x.direction,
        state: x.state,
        endedBy: x.endedBy ?? null,
        createdAt: x.createdAt,
        acceptedAt: x.acceptedAt ?? null,
      })),
    }),
  );
  app.get('/_sim/actions', (c) => c.json({ actions: sim.actions }));
  sim.capture.routes(app);
  app.all('*', (c) => c.json(metaError(400, 100, `Unsupported request ${c.req.method} ${c.req.path}`).body, 400));
  return app;
}

import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AgentActions } from '../agents/actions.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { PresenceService } from '../agents/presence.js';
import type { CallIndex } from '../machines/call.index.js';
import { utcDay } from '../machines/call.index.js';
import { callMachine } from '../machines/call.machine.js';
import type { CallStore } from '../machines/call.store.js';
import type { Deliverer } from '../machines/deliver.js';
import { describeMachine } from '../machines/machine-graph.js';
import type { QueueStore } from '../routing/queue.store.js';
import type { Config } from '../shared/config.js';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from '../shared/errors.js';
import { CALL_ID_RE } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { type ConsoleConfig, type MachineGraph, PROTOCOL_VERSION, type TodayStats } from '../shared/protocol.js';
import { type AuthVariables, type LoginLimiter, requireAuth, type TokenService } from './auth.js';
import { loadDetail, loadSummaries } from './call-view.js';
import { loadQueues } from './queue-view.js';

const LoginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const DemoKeysSchema = z.object({ digits: z.string().regex(/^[0-9*#]{1,20}$/, '1 to 20 of 0-9, * and #') });
const BeaconSchema = z.object({
  token: z.string().min(10).max(4096),
  callId: z.string().regex(CALL_ID_RE),
  action: z.enum(['hangup', 'decline', 'leave']),
});

async function jsonBody(req: { text(): Promise<string> }): Promise<unknown> {
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('bad-json', 'The body must be JSON.');
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BadRequestError('bad-request', `${i?.path.join('.') || 'body'}: ${i?.message}`);
  }
  return r.data;
}

function clientIp(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the REST API needs; the app passes its own dependencies, which include these. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  store: CallStore;
  index: CallIndex;
  deliverer: Deliverer;
  tokens: TokenService;
  directory: AgentDirectory;
  limiter: LoginLimiter;
  presence: PresenceService;
  actions: AgentActions;
  /** The per-team queues of business-answered calls (the supervisor's queue view). */
  callQueue?: QueueStore | undefined;
  /** The media nodes registered in Redis (GET /api/media-nodes). */
  mediaNodes?: MediaNodeList | undefined;
  /** Places a simulated call (demo mode only). */
  placeDemoCall?: (() => Promise<{ callId: string }>) | undefined;
  /** The caller of a simulated call presses keys (demo mode only). */
  pressDemoKeys?:
    | ((callId: string, digits: string) => Promise<{ ok: true } | { ok: false; error: string }>)
    | undefined;
}

/** What GET /api/media-nodes reads: the node registry. */
export interface MediaNodeList {
  list(): Promise<
    { id: string; engine: string | null; capacity: number; calls: number; draining: boolean; expiresAt: number }[]
  >;
}

/** The REST API under /api. Bearer tokens everywhere but login and the pagehide beacon (token in the body). */
export function apiRoutes(deps: ApiDeps): Hono<{ Variables: AuthVariables }> {
  const api = new Hono<{ Variables: AuthVariables }>();
  const auth = requireAuth(deps.tokens);
  const supervisor = requireAuth(deps.tokens, { role: 'supervisor' });
  api.use('*', bodyLimit({ maxSize: 64 * 1024 }));

  api.get('/config', (c) =>
    c.json<ConsoleConfig>({
      demo: deps.config.demo,
      protocol: PROTOCOL_VERSION,
      inspect: deps.config.inspect,
      inspectUrl: deps.config.inspect ? `http://localhost:${deps.config.inspectPort}` : null,
      answerDeadlineSeconds: deps.config.calls.answerDeadlineMs / 1000,
      iceServers: deps.config.agentIceServers,
    }),
  );

  api.post('/login', async (c) => {
    const { username, password } = parse(LoginSchema, await jsonBody(c.req));
    const ip = clientIp(c);
    await deps.limiter.check(username, ip);
    const agent = deps.directory.verify(username, password);
    if (!agent) {
      await deps.limiter.failed(username, ip);
      throw new UnauthorizedError('bad-credentials', 'Wrong username or password.');
    }
    await deps.limiter.succeeded(username);
    const { token, expiresAt } = await deps.tokens.issue(agent);
    deps.logger.info({ agentId: agent.id }, 'agent logged in');
    return c.json({ token, expiresAt, agent });
  });

  api.get('/me', auth, async (c) => {
    const agent = c.get('agent');
    return c.json({ agent, presence: await deps.presence.effective(agent.id), tokenExpiresAt: c.get('tokenExp') });
  });

  // The call machine as this process runs it: the console draws each call on it.
  const machine = describeMachine(callMachine);
  api.get('/machine', auth, (c) => c.json<MachineGraph>(machine));

  api.get('/calls', auth, async (c) => {
    const agent = c.get('agent');
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 200);
    const before = Number(c.req.query('before') ?? Number.POSITIVE_INFINITY);
    const mine = agent.role !== 'supervisor' || c.req.query('mine') === '1';
    // Agents see the calls they were offered or answered; supervisors see everything.
    const ids = await deps.index.recent(mine ? limit * 4 : limit, before);
    const rows = await loadSummaries(deps.store, ids);
    const visible = rows.filter(({ ctx }) => !mine || ctx.agentId === agent.id || ctx.offeredAgents.includes(agent.id));
    return c.json({ calls: visible.slice(0, limit).map((r) => r.summary) });
  });

  api.get('/calls/:id', auth, async (c) => {
    const agent = c.get('agent');
    const id = c.req.param('id');
    if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
    const detail = await loadDetail(deps.store, id);
    if (!detail) throw new NotFoundError('unknown-call', `No call ${id} (it may have expired).`);
    if (agent.role !== 'supervisor' && detail.agentId !== agent.id && !detail.offeredAgents.includes(agent.id)) {
      throw new ForbiddenError('not-your-call', 'Only supervisors can see calls they were not part of.');
    }
    return c.json(detail);
  });

  api.post('/calls/:id/cancel', supervisor, async (c) => {
    const id = c.req.param('id');
    if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
    const out = await deps.deliverer.deliver(id, { type: 'CALL.CANCEL', by: c.get('agent').id });
    if (out.status === 'unknown-call') throw new NotFoundError('unknown-call', `No call ${id}.`);
    if (out.status === 'ignored') return c.json({ ok: false, error: 'call-ended', state: out.state }, 409);
    return c.json({ ok: true, state: out.status === 'applied' ? out.state : undefined });
  });

  // navigator.sendBeacon cannot set headers: the token travels in the (text/plain) body.
  api.post('/agent/beacon', async (c) => {
    const { token, callId, action } = parse(BeaconSchema, await jsonBody(c.req));
    const { agent } = await deps.tokens.verify(token);
    const res =
      action === 'hangup'
        ? await deps.actions.hangup(agent.id, callId)
        : action === 'leave'
          ? await deps.actions.leave(agent.id, callId)
          : await deps.actions.decline(agent.id, callId);
    return c.json(res);
  });

  api.get('/agents', supervisor, async (c) => c.json({ agents: await deps.presence.list() }));

  // Live media nodes (lease not expired): engine, capacity, load (hosted calls), draining.
  api.get('/media-nodes', supervisor, async (c) => {
    const now = Date.now();
    const nodes = (await deps.mediaNodes?.list()) ?? [];
    return c.json(
      nodes
        .filter((n) => n.expiresAt > now)
        .map((n) => ({ id: n.id, engine: n.engine, capacity: n.capacity, load: n.calls, draining: n.draining })),
    );
  });

  api.get('/stats/today', supervisor, async (c) => {
    const day = utcDay(Date.now());
    const [figures, waiting, active] = await Promise.all([
      deps.index.daily(day),
      deps.index.waiting(1000),
      deps.index.active(1000),
    ]);
    const answered = figures.answered;
    const decided = figures.answered + figures.missed + figures.abandoned;
    return c.json<TodayStats>({
      ...figures,
      waitingNow: waiting.length,
      activeNow: active.length,
      averageSpeedOfAnswerMs: answered ? Math.round(figures.answerMsSum / answered) : null,
      averageHandleTimeMs: answered ? Math.round(figures.handleMsSum / answered) : null,
      abandonmentRate: decided ? (figures.abandoned + figures.missed) / decided : null,
    });
  });

  api.get('/queues', supervisor, async (c) => {
    if (!deps.callQueue) throw new NotFoundError('no-queues', 'This process does not serve queues.');
    const teams = [...new Set(deps.directory.all().flatMap((a) => a.teams))].sort();
    const view = await loadQueues(
      {
        store: deps.store,
        callQueue: deps.callQueue,
        teams,
        serviceLevelSeconds: deps.config.calls.serviceLevelSeconds,
      },
      c.req.query('day') && /^\d{4}-\d{2}-\d{2}$/.test(c.req.query('day')!) ? c.req.query('day')! : utcDay(Date.now()),
    );
    return c.json(view);
  });

  api.post('/demo/call', supervisor, async (c) => {
    if (!deps.placeDemoCall) throw new ForbiddenError('demo-only', 'Simulated calls exist only in the demo mode.');
    return c.json(await deps.placeDemoCall());
  });

  api.post('/demo/calls/:id/keys', supervisor, async (c) => {
    if (!deps.pressDemoKeys) throw new ForbiddenError('demo-only', 'Simulated calls exist only in the demo mode.');
    const id = c.req.param('id');
    if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
    const { digits } = parse(DemoKeysSchema, await jsonBody(c.req));
    const res = await deps.pressDemoKeys(id, digits);
    if (!res.ok) throw new BadRequestError('keys-refused', `The simulated caller cannot press keys: ${res.error}.`);
    return c.json(res);
  });

  return api;
}

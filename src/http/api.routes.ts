import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AgentActions } from '../agents/actions.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { PresenceService } from '../agents/presence.js';
import type { AgentPatch, AgentStore, NewAgent } from '../agents/store.js';
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
import type { Metrics } from '../shared/metrics.js';
import { PROTOCOL_VERSION } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { ConsoleConfig, MachineGraph, TodayStats } from '../shared/rest-types.js';
import { type AuthVariables, type LoginLimiter, requireAuth, type TokenService } from './auth.js';
import { readBodyCapped } from './body.js';
import { loadDetail, loadSummaries } from './call-view.js';
import { ClientAddress } from './client-address.js';
import { loadQueues } from './queue-view.js';

const LoginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const DemoKeysSchema = z.object({ digits: z.string().regex(/^[0-9*#]{1,20}$/, '1 to 20 of 0-9, * and #') });
const BeaconSchema = z.object({
  token: z.string().min(10).max(4096),
  callId: z.string().regex(CALL_ID_RE),
  action: z.enum(['hangup', 'decline', 'leave']),
});

/** Callers waiting for an agent: ringing, offered, or queued after the business answered. */
const WAITING_STATES: ReadonlySet<string> = new Set(['ringing', 'agent-offered', 'queued']);
/** Calls an agent has: connecting, live, or on hold. */
const ON_CALL_STATES: ReadonlySet<string> = new Set(['bridging', 'pre-accepted', 'live', 'on-hold']);

/** API bodies are small JSON documents: capped while they stream in. */
const MAX_API_BODY = 64 * 1024;

async function jsonBody(c: Context): Promise<unknown> {
  const text = new TextDecoder().decode(await readBodyCapped(c, MAX_API_BODY));
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

/** What the REST API needs; the app passes its own dependencies, which include these. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  /** Login refusals are counted here. */
  metrics: Metrics;
  /** Today's figures read each active call's state. */
  redis: RedisClient;
  store: CallStore;
  index: CallIndex;
  deliverer: Deliverer;
  tokens: TokenService;
  directory: AgentDirectory;
  /** Agent management (`POST|PATCH /api/agents`); absent: the directory is read-only. */
  agents?: AgentStore | undefined;
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
interface MediaNodeList {
  list(): Promise<
    { id: string; engine: string | null; capacity: number; calls: number; draining: boolean; expiresAt: number }[]
  >;
}

/** The REST API under /api. Bearer tokens everywhere but login and the pagehide beacon (token in the body). */
export function apiRoutes(deps: ApiDeps): Hono<{ Variables: AuthVariables }> {
  const api = new Hono<{ Variables: AuthVariables }>();
  const auth = requireAuth(deps.tokens);
  const supervisor = requireAuth(deps.tokens, { role: 'supervisor' });
  const clientAddress = new ClientAddress(deps.config.trustedProxies);

  api.get('/config', (c) =>
    c.json<ConsoleConfig>({
      demo: deps.config.demo,
      protocol: PROTOCOL_VERSION,
      inspect: deps.config.inspect,
      // Without its token: the page asks for it (printed at start).
      inspectUrl: deps.config.inspect ? `http://localhost:${deps.config.inspectPort}/` : null,
      answerDeadlineSeconds: deps.config.calls.answerDeadlineMs / 1000,
      iceServers: deps.config.agentIceServers,
    }),
  );

  api.post('/login', async (c) => {
    const { username, password } = parse(LoginSchema, await jsonBody(c));
    const source = clientAddress.of(c);
    const refused = (reason: string, extra: Record<string, unknown> = {}) => {
      deps.metrics.loginRefusals.inc({ reason });
      deps.logger.warn({ username: username.slice(0, 64), source, reason, ...extra }, 'login refused');
    };
    try {
      await deps.limiter.check(username, source);
    } catch (err) {
      refused('rate-limited');
      throw err;
    }
    const agent = deps.directory.verify(username, password);
    if (!agent) {
      const delayS = await deps.limiter.failed(username, source);
      refused('bad-credentials', delayS ? { delayS } : {});
      throw new UnauthorizedError('bad-credentials', 'Wrong username or password.');
    }
    if (agent.disabled) {
      refused('disabled');
      throw new ForbiddenError('account-disabled', 'Your account is disabled: ask a supervisor.');
    }
    await deps.limiter.succeeded(username, source);
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
    const visible = rows.filter(
      ({ ctx }) => !mine || ctx.agentId === agent.id || ctx.routing.offeredAgents.includes(agent.id),
    );
    return c.json({ calls: visible.slice(0, limit).map((r) => r.summary) });
  });

  api.get('/calls/:id', auth, async (c) => {
    const agent = c.get('agent');
    const id = c.req.param('id');
    if (!CALL_ID_RE.test(id)) throw new BadRequestError('bad-call-id', 'That is not a call id.');
    const detail = await loadDetail(deps.store, id, { showDtmf: deps.config.showDtmf });
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
    const { token, callId, action } = parse(BeaconSchema, await jsonBody(c));
    const { agent } = await deps.tokens.verify(token);
    const res =
      action === 'hangup'
        ? await deps.actions.hangup(agent.id, callId)
        : action === 'leave'
          ? await deps.actions.leave(agent.id, callId)
          : await deps.actions.decline(agent.id, callId);
    return c.json(res);
  });

  // Presence rows (the supervisor view's table) carry the managed fields too; `teams` lists every team known.
  api.get('/agents', supervisor, async (c) =>
    c.json({ agents: await deps.presence.list(), teams: (await deps.agents?.teams()) ?? [] }),
  );

  api.post('/agents', supervisor, async (c) => {
    if (!deps.agents) throw new ForbiddenError('not-managed', 'Agents are not managed by this process.');
    const agent = await deps.agents.create((await jsonBody(c)) as NewAgent);
    deps.logger.info({ agentId: agent.id, by: c.get('agent').id }, 'agent created');
    return c.json({ agent }, 201);
  });

  api.patch('/agents/:id', supervisor, async (c) => {
    if (!deps.agents) throw new ForbiddenError('not-managed', 'Agents are not managed by this process.');
    const id = c.req.param('id');
    const patch = (await jsonBody(c)) as AgentPatch;
    const me = c.get('agent');
    if (id === me.id && (patch?.disabled === true || (patch?.role !== undefined && patch.role !== 'supervisor'))) {
      throw new BadRequestError('not-yourself', 'You cannot disable yourself or drop your own supervisor role.');
    }
    const agent = await deps.agents.update(id, patch);
    return c.json({ agent });
  });

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
    const [figures, active] = await Promise.all([deps.index.daily(day), deps.index.active(1000)]);
    // Each figure counts what it says, from each call's current state: a ringing call is waiting, not on a call.
    const states = await Promise.all(active.map((id) => deps.redis.hget(deps.store.keys.call.state(id), 'state')));
    const count = (set: ReadonlySet<string>) => states.filter((s) => s !== null && set.has(s)).length;
    const answered = figures.answered;
    const decided = figures.answered + figures.missed + figures.abandoned;
    return c.json<TodayStats>({
      ...figures,
      waitingNow: count(WAITING_STATES),
      onCallsNow: count(ON_CALL_STATES),
      activeNow: states.filter((s) => s !== null && s !== 'ended').length,
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
    const { digits } = parse(DemoKeysSchema, await jsonBody(c));
    const res = await deps.pressDemoKeys(id, digits);
    if (!res.ok) throw new BadRequestError('keys-refused', `The simulated caller cannot press keys: ${res.error}.`);
    return c.json(res);
  });

  // An unknown API path is a JSON 404, not the console's page (which the catch-all would serve with 200).
  api.all('*', (c) => {
    throw new NotFoundError('not-found', `No API route ${c.req.method} ${c.req.path}: see the README, "Interfaces".`);
  });

  return api;
}

import { Hono } from 'hono';
import { z } from 'zod';
import { csvHeader, csvLine } from '../history/history.csv.js';
import type { HistoryIndex } from '../history/history.index.js';
import { BadRequestError } from '../shared/errors.js';
import { AGENT_ID_RE } from '../shared/keys.js';
import { WRAP_UP_CODE_RE } from '../shared/protocol.js';
import type { HistoryQuery } from '../shared/rest-types.js';
import type { WrapUpService } from '../wrapup/wrapup.service.js';
import { type AuthVariables, requireAuth, type TokenService } from './auth.js';

/** The most rows one CSV export carries; narrow the filters for more. */
const CSV_MAX_ROWS = 10_000;

/** A date as ms since epoch or anything `Date` parses (`2026-12-01`, `2026-12-01T10:00:00Z`). */
const when = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'is not a date (ISO 8601 or ms since epoch)' });
      return z.NEVER;
    }
    return ms;
  });

const QuerySchema = z.object({
  number: z
    .string()
    .regex(/^[+\d\s().-]{3,32}$/, 'digits only (spaces, +, -, brackets allowed)')
    .optional(),
  agent: z.string().regex(AGENT_ID_RE, 'is not an agent id').optional(),
  team: z.string().min(1).max(64).optional(),
  outcome: z
    .string()
    .regex(/^[a-z-]{1,40}$/, 'is not an outcome')
    .optional(),
  code: z.string().regex(WRAP_UP_CODE_RE, 'is not a wrap-up code').optional(),
  from: when.optional(),
  to: when.optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

function parseQuery(q: Record<string, string>): HistoryQuery {
  const r = QuerySchema.safeParse(Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '')));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BadRequestError('bad-request', `${i?.path.join('.') || 'query'}: ${i?.message}`);
  }
  if (r.data.from !== undefined && r.data.to !== undefined && r.data.from > r.data.to) {
    throw new BadRequestError('bad-request', 'from must not be after to.');
  }
  return r.data;
}

/**
 * Supervisors' call history (`GET /api/history`, `GET /api/history.csv`) and the wrap-up form's data for any agent
 * (`GET /api/wrapup`).
 */
export function historyRoutes(deps: {
  tokens: TokenService;
  history: HistoryIndex;
  wrapUps: WrapUpService;
}): Hono<{ Variables: AuthVariables }> {
  const api = new Hono<{ Variables: AuthVariables }>();
  const auth = requireAuth(deps.tokens);
  const supervisor = requireAuth(deps.tokens, { role: 'supervisor' });

  api.get('/wrapup', auth, async (c) => c.json(await deps.wrapUps.info(c.get('agent').id)));

  api.get('/history', supervisor, async (c) => {
    const q = parseQuery(c.req.query());
    const { total, rows } = await deps.history.query(q);
    return c.json({ total, page: q.page, pageSize: q.pageSize, calls: rows });
  });

  api.get('/history.csv', supervisor, async (c) => {
    const q = parseQuery(c.req.query());
    const lines = [csvHeader()];
    let total = 0;
    for (let page = 1; lines.length <= CSV_MAX_ROWS; page++) {
      const res = await deps.history.query({ ...q, page, pageSize: 200 });
      total = res.total;
      for (const r of res.rows) lines.push(csvLine(r));
      if (page * 200 >= res.total) break;
    }
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', `attachment; filename="calls-${new Date().toISOString().slice(0, 10)}.csv"`);
    c.header('x-total-count', String(total));
    return c.body(`${lines.slice(0, CSV_MAX_ROWS + 1).join('\r\n')}\r\n`);
  });

  return api;
}

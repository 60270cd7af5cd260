import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { ForbiddenError } from '../shared/errors.js';
import type { Queues } from '../workers/queues.js';
import { bearer, type TokenService } from './auth.js';

const COOKIE = 'wacc_admin';

/**
 * Bull Board at /admin/queues, for supervisors only. A browser cannot send a bearer header on navigation, so
 * `/admin/login?token=…` (linked from the supervisor view) trades the token for an HttpOnly, SameSite=Strict cookie
 * scoped to /admin.
 */
export function adminRoutes(deps: { queues: Queues; tokens: TokenService }): Hono {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath('/admin/queues');
  const q = deps.queues;
  createBullBoard({
    queues: [q.graph, q.timer, q.route, q.maintenance, q.events].map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'WhatsApp calls — queues' } },
  });

  const app = new Hono();
  const supervisor = async (token: string | undefined) => {
    const { agent, claims } = await deps.tokens.verify(token);
    if (agent.role !== 'supervisor')
      throw new ForbiddenError('supervisor-only', 'The queue dashboard is for supervisors.');
    return claims;
  };
  app.get('/login', async (c) => {
    const claims = await supervisor(c.req.query('token'));
    setCookie(c, COOKIE, c.req.query('token')!, {
      path: '/admin',
      httpOnly: true,
      sameSite: 'Strict',
      expires: new Date(claims.exp * 1000),
    });
    return c.redirect('/admin/queues');
  });
  app.use('/queues/*', async (c, next) => {
    await supervisor(bearer(c.req.header('authorization')) ?? getCookie(c, COOKIE));
    await next();
  });
  app.use('/queues', async (c, next) => {
    await supervisor(bearer(c.req.header('authorization')) ?? getCookie(c, COOKIE));
    await next();
  });
  app.route('/queues', serverAdapter.registerPlugin());
  return app;
}

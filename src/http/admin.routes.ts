import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { ForbiddenError } from '../shared/errors.js';
import type { Queues } from '../workers/queues.js';
import { bearer, type TokenService } from './auth.js';
import { readBodyCapped } from './body.js';

const COOKIE = 'wacc_admin';

/**
 * Bull Board at /admin/queues, for supervisors only. A browser cannot send a bearer header on navigation, so the
 * supervisor view POSTs the token as a form field to `/admin/login`, which trades it for an HttpOnly,
 * SameSite=Strict cookie scoped to /admin (`Secure` behind HTTPS). The token never travels in a URL, where browser
 * history and proxy logs would keep it.
 */
export function adminRoutes(deps: {
  queues: Queues;
  tokens: TokenService;
  /** PUBLIC_URL is https: cookies are `Secure` whatever the hop in front says. */
  httpsPublicUrl?: boolean;
}): Hono {
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
  app.get('/login', (c) =>
    c.json(
      {
        error: {
          code: 'use-post',
          message: 'Sign in with a POST of the form field "token" (the supervisor view\'s Queues button does it).',
        },
      },
      405,
    ),
  );
  app.post('/login', async (c) => {
    const form = new URLSearchParams(new TextDecoder().decode(await readBodyCapped(c, 16 * 1024)));
    const token = form.get('token') ?? undefined;
    const claims = await supervisor(token);
    const https =
      deps.httpsPublicUrl === true || c.req.header('x-forwarded-proto') === 'https' || c.req.url.startsWith('https:');
    setCookie(c, COOKIE, token!, {
      path: '/admin',
      httpOnly: true,
      secure: https,
      sameSite: 'Strict',
      expires: new Date(claims.exp * 1000),
    });
    return c.redirect('/admin/queues', 303);
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

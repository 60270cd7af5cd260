import { Hono } from 'hono';
import type { AgentDirectory } from '../agents/directory.js';
import type { PresenceService } from '../agents/presence.js';
import type { TransferTargets } from '../shared/rest-types.js';
import { type AuthVariables, requireAuth, type TokenService } from './auth.js';

/** `GET /api/transfer-targets`: who an agent can transfer a call to (agents with presence, and teams). */
export function transferRoutes(deps: {
  tokens: TokenService;
  presence: PresenceService;
  directory: AgentDirectory;
}): Hono<{ Variables: AuthVariables }> {
  const api = new Hono<{ Variables: AuthVariables }>();
  api.get('/transfer-targets', requireAuth(deps.tokens), async (c) => {
    const me = c.get('agent').id;
    const rows = await deps.presence.list();
    const agents = rows
      .filter((a) => a.id !== me && deps.directory.get(a.id)?.takesCalls)
      .map((a) => ({ id: a.id, name: a.name, teams: a.teams, presence: a.presence, available: a.available }));
    const teams = [...new Set(deps.directory.all().flatMap((a) => a.teams))].sort();
    return c.json<TransferTargets>({ agents, teams });
  });
  return api;
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/log.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `npm start` serves a built console: build it (Vite) when web/dist is missing or older than its sources.
 * Needs the dev dependencies (vite); a production image builds at image time instead (Dockerfile).
 */
export async function ensureConsoleBuilt(root: string, logger: Logger): Promise<void> {
  const web = path.join(root, 'web');
  const index = path.join(web, 'dist', 'index.html');
  if (!existsSync(path.join(web, 'index.html'))) return;
  const sources = Math.max(newestMtime(path.join(web, 'src')), statSync(path.join(web, 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  logger.info('building the agent console (web/dist)…');
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    logger.warn('vite is not installed (production install?): run `npm run build` to build the console');
    return;
  }
  await vite.build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
  logger.info('agent console built');
}

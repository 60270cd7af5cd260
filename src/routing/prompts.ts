import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the shipped prompts live: `assets/prompts/en/<name>.opus` at the repository root. */
export const SHIPPED_PROMPTS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'assets',
  'prompts',
  'en',
);

/**
 * A prompt as the routing file names it: a shipped prompt's name (`greeting`, `menu`, `music`…) or an absolute path
 * of an Ogg Opus file. Returns the file it stands for, or a sentence saying what is wrong.
 */
export function checkPrompt(nameOrPath: string, dir = SHIPPED_PROMPTS_DIR): { file: string } | { problem: string } {
  if (path.isAbsolute(nameOrPath)) {
    return existsSync(nameOrPath) ? { file: nameOrPath } : { problem: `prompt file ${nameOrPath} does not exist` };
  }
  if (!/^[a-z0-9-]{1,64}$/.test(nameOrPath)) {
    return { problem: `"${nameOrPath}" is neither a shipped prompt name nor an absolute path` };
  }
  const file = path.join(dir, `${nameOrPath}.opus`);
  return existsSync(file) ? { file } : { problem: `shipped prompt "${nameOrPath}" is missing (${file})` };
}

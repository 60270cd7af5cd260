import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeToneFile } from '../src/testing/opus-fixtures.js';

/** Writes a tone as an Ogg Opus clip and returns its absolute path (what a routing file may name as a prompt). */
export type ToneClip = (name: string, hz: number, seconds: number) => Promise<string>;

/**
 * A ROUTING_FILE whose prompts are tones (so a caller can tell the greeting, the menu and the music apart by
 * frequency), in a temp dir with its clips; `flow` builds the `default` entry. `remove()` deletes the dir.
 */
export async function toneRouting(
  flow: (clip: ToneClip) => Promise<Record<string, unknown>>,
): Promise<{ file: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tone-routing-'));
  try {
    const clip: ToneClip = async (name, hz, seconds) => {
      const file = join(dir, `${name}.opus`);
      writeFileSync(file, await encodeToneFile(hz, { seconds }));
      return file;
    };
    const file = join(dir, 'routing.json');
    writeFileSync(file, JSON.stringify({ default: await flow(clip) }));
    return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

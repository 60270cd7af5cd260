import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A 20 ms mono CELT packet that decodes to silence (TOC 0xF8: CELT fullband 20 ms, mono, one frame; the frame's
 * first bit is the silence flag). What the caller receives whenever nothing is routed to it, and what fills the
 * gaps of a recording.
 */
export const OPUS_SILENCE_FRAME: Buffer = Buffer.from([0xf8, 0xff, 0xfe]);

/**
 * The prompts shipped in `assets/prompts/en/<name>.opus` (Ogg Opus, 48 kHz mono, 20 ms frames), made by
 * `scripts/make-prompts.sh`. `more-than` and `more-than-twenty-ahead` go beyond the media contract's list so that
 * waits and positions above twenty can be said.
 */
export const PROMPT_NAMES = [
  'greeting',
  'menu',
  'invalid-choice',
  'no-choice',
  'you-are-number',
  'in-the-queue',
  'expected-wait',
  'minutes',
  'minute',
  'less-than-a-minute',
  'more-than',
  'more-than-twenty-ahead',
  'please-hold',
  'all-agents-busy',
  'goodbye',
  'recording-notice',
  'callback-offer',
  'callback-confirmed',
  'n0',
  'n1',
  'n2',
  'n3',
  'n4',
  'n5',
  'n6',
  'n7',
  'n8',
  'n9',
  'n10',
  'n11',
  'n12',
  'n13',
  'n14',
  'n15',
  'n16',
  'n17',
  'n18',
  'n19',
  'n20',
  'music',
] as const;

export type PromptName = (typeof PROMPT_NAMES)[number];

const PROMPT_SET: ReadonlySet<string> = new Set(PROMPT_NAMES);

/** Directory of the shipped English prompts. */
export const PROMPTS_DIR = fileURLToPath(new URL('../../../assets/prompts/en/', import.meta.url));

/** A clip that cannot be played: missing, unreadable, or not Ogg Opus in 20 ms frames. */
export class ClipError extends Error {
  override readonly name = 'ClipError';
}

export function isPromptName(name: string): name is PromptName {
  return PROMPT_SET.has(name);
}

/**
 * The absolute path of a clip: a shipped prompt name (`menu`, `n3`, `music`) or an absolute path to an Ogg Opus
 * file. Throws {@link ClipError} naming the clip and the file when it is neither, or when the file is missing.
 */
export function resolvePrompt(nameOrPath: string): string {
  let path: string;
  if (isPromptName(nameOrPath)) path = `${PROMPTS_DIR}${nameOrPath}.opus`;
  else if (isAbsolute(nameOrPath)) path = nameOrPath;
  else {
    throw new ClipError(
      `clip "${nameOrPath}" is neither a shipped prompt (${PROMPT_NAMES.slice(0, 4).join(', ')}, …) nor an absolute path`,
    );
  }
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // Missing or unreadable: reported below.
  }
  if (!isFile) throw new ClipError(`clip "${nameOrPath}": no such file ${path}`);
  return path;
}

/** The clip name for a number the shipped prompts can say (0–20). */
function numberClip(n: number): PromptName {
  return `n${Math.max(0, Math.min(20, Math.round(n)))}` as PromptName;
}

/**
 * The clips that announce a caller's place in the queue and the expected wait, e.g. position 3 and 100 s:
 * `you-are-number n3 in-the-queue expected-wait n2 minutes`. Positions above twenty say "there are more than twenty
 * callers ahead of you"; a wait under a minute says "less than a minute", one above twenty minutes "more than
 * twenty minutes"; minutes are rounded to the nearest. An unknown wait (negative or not finite) is left out.
 */
export function positionAnnouncement(position: number, expectedWaitSeconds?: number): PromptName[] {
  const clips: PromptName[] = [];
  const pos = Number.isFinite(position) ? Math.max(1, Math.round(position)) : 1;
  if (pos > 20) clips.push('more-than-twenty-ahead');
  else clips.push('you-are-number', numberClip(pos), 'in-the-queue');
  if (expectedWaitSeconds === undefined || !Number.isFinite(expectedWaitSeconds) || expectedWaitSeconds < 0) {
    return clips;
  }
  clips.push('expected-wait');
  const minutes = Math.round(expectedWaitSeconds / 60);
  if (expectedWaitSeconds < 60 || minutes === 0) clips.push('less-than-a-minute');
  else if (minutes === 1) clips.push('n1', 'minute');
  else if (minutes <= 20) clips.push(numberClip(minutes), 'minutes');
  else clips.push('more-than', 'n20', 'minutes');
  return clips;
}

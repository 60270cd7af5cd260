import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseClip } from './clips.js';
import { ClipError, PROMPT_NAMES, positionAnnouncement, resolvePrompt } from './prompts.js';

describe('shipped prompts', () => {
  it('every prompt name resolves to a 48 kHz mono Ogg Opus file in 20 ms frames', () => {
    for (const name of PROMPT_NAMES) {
      const path = resolvePrompt(name);
      expect(path.endsWith(`/assets/prompts/en/${name}.opus`)).toBe(true);
      const clip = parseClip(path, readFileSync(path));
      expect(clip.frames.length, name).toBeGreaterThan(10);
    }
  });

  it('the music loop lasts between 20 and 30 seconds', () => {
    const clip = parseClip('music', readFileSync(resolvePrompt('music')));
    expect(clip.frames.length * 20).toBeGreaterThanOrEqual(20_000);
    expect(clip.frames.length * 20).toBeLessThanOrEqual(30_000);
  });

  it('an absolute path resolves to itself when the file exists', () => {
    const path = resolvePrompt('menu');
    expect(resolvePrompt(path)).toBe(path);
  });

  it('a missing prompt or file is refused with an error naming the file', () => {
    expect(() => resolvePrompt('/no/such/clip.opus')).toThrow(ClipError);
    expect(() => resolvePrompt('/no/such/clip.opus')).toThrow(/no such file \/no\/such\/clip\.opus/);
    expect(() => resolvePrompt('nope')).toThrow(/"nope" is neither a shipped prompt .* nor an absolute path/);
    expect(() => resolvePrompt('../etc/passwd')).toThrow(ClipError);
  });
});

describe('positionAnnouncement', () => {
  it('says the position and the wait in minutes', () => {
    expect(positionAnnouncement(3, 100)).toEqual([
      'you-are-number',
      'n3',
      'in-the-queue',
      'expected-wait',
      'n2',
      'minutes',
    ]);
  });

  it('says "one minute" in the singular and "less than a minute" under a minute', () => {
    expect(positionAnnouncement(1, 70).slice(3)).toEqual(['expected-wait', 'n1', 'minute']);
    expect(positionAnnouncement(1, 20).slice(3)).toEqual(['expected-wait', 'less-than-a-minute']);
  });

  it('says "more than twenty" above twenty, for the position and for the minutes', () => {
    expect(positionAnnouncement(35, 30 * 60)).toEqual([
      'more-than-twenty-ahead',
      'expected-wait',
      'more-than',
      'n20',
      'minutes',
    ]);
    expect(positionAnnouncement(20, 20 * 60)).toEqual([
      'you-are-number',
      'n20',
      'in-the-queue',
      'expected-wait',
      'n20',
      'minutes',
    ]);
  });

  it('leaves out an unknown wait and never says a position below one', () => {
    expect(positionAnnouncement(2)).toEqual(['you-are-number', 'n2', 'in-the-queue']);
    expect(positionAnnouncement(4, Number.NaN)).toEqual(['you-are-number', 'n4', 'in-the-queue']);
    expect(positionAnnouncement(0, -5)).toEqual(['you-are-number', 'n1', 'in-the-queue']);
  });

  it('only names clips that ship', () => {
    for (const [pos, wait] of [
      [1, 0],
      [7, 59],
      [15, 600],
      [21, 3600],
    ] as const) {
      for (const clip of positionAnnouncement(pos, wait)) expect(() => resolvePrompt(clip)).not.toThrow();
    }
  });
});

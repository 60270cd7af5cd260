import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { duplicateKeys } from './json-duplicates.js';
import { RoutingConfig } from './routing.config.js';

const defaults = { policy: 'ring-all' as const, ringTimeoutMs: 15_000 };
const everyPromptExists = { promptProblem: () => undefined, knownTeams: ['sales', 'support'] };
const business = {
  answer: 'business',
  greeting: 'greeting',
  ivr: { options: { '1': { teams: ['sales'] }, '2': { teams: ['support'] } }, timeoutSeconds: 4, retries: 1 },
  queue: { maxWaitSeconds: 90, announceEverySeconds: 20, overflow: { teams: ['sales'] } },
};
const fileWith = (text: string) => {
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'routing-')), 'routing.json');
  writeFileSync(f, text);
  return f;
};

describe('routing file: answer "business"', () => {
  it('resolves the business flow of a number, and leaves other numbers answered by agents', () => {
    const cfg = new RoutingConfig(defaults, { numbers: { '100': business } }, everyPromptExists);
    expect(cfg.flowFor('100')).toEqual({
      greeting: ['greeting'],
      ivr: {
        prompt: ['menu'],
        options: { '1': ['sales'], '2': ['support'] },
        timeoutMs: 4000,
        retries: 1,
        defaultDigit: undefined,
      },
      queue: {
        teams: [],
        music: 'music',
        announceEveryMs: 20_000,
        maxWaitMs: 90_000,
        overflow: { teams: ['sales'] },
        priority: 0,
      },
    });
    expect(cfg.flowFor('200')).toBeUndefined();
  });

  it('the shipped prompts pass the default check', () => {
    const cfg = new RoutingConfig(defaults, { default: business }, { knownTeams: ['sales', 'support'] });
    expect(cfg.flowFor('1')?.greeting).toEqual(['greeting']);
  });

  it('answer "agent" (the default) has no business flow', () => {
    const cfg = new RoutingConfig(defaults, { default: { teams: ['support'] } }, everyPromptExists);
    expect(cfg.flowFor('100')).toBeUndefined();
  });

  it('an unknown team stops the start with a line naming it and where it is', () => {
    const bad = { ...business, ivr: { options: { '1': { teams: ['billing'] } } } };
    expect(() => new RoutingConfig(defaults, { default: bad }, everyPromptExists)).toThrow(
      'ROUTING_FILE: default.ivr.options.1.teams: unknown team "billing" (no agent is in it)',
    );
  });

  it('a missing prompt file stops the start with a line naming the file', () => {
    const missing = '/nonexistent/hello.opus';
    expect(
      () =>
        new RoutingConfig(
          defaults,
          { numbers: { '100': { ...business, greeting: missing } } },
          {
            knownTeams: ['sales', 'support'],
            promptProblem: (p) => (p === missing ? `prompt file ${p} does not exist` : undefined),
          },
        ),
    ).toThrow(`ROUTING_FILE: numbers.100.greeting: prompt file ${missing} does not exist`);
  });

  it('the default prompt check refuses an absolute path that does not exist', () => {
    expect(
      () =>
        new RoutingConfig(
          defaults,
          { default: { ...business, queue: { maxWaitSeconds: 60, music: '/no/such.opus' } } },
          { knownTeams: ['sales', 'support'] },
        ),
    ).toThrow('ROUTING_FILE: default.queue.music: clip "/no/such.opus": no such file /no/such.opus');
  });

  it('a key mapped twice stops the start with a line naming the key', () => {
    const text = `{"default": {"answer": "business", "ivr": {"options": {"1": {"teams": ["sales"]}, "1": {"teams": ["support"]}}}, "queue": {"maxWaitSeconds": 60}}}`;
    expect(() => RoutingConfig.fromFile(defaults, fileWith(text), everyPromptExists)).toThrow(
      'ROUTING_FILE: default.ivr.options.1 is given twice (an IVR key mapped twice?) — keep one.',
    );
  });

  it('an IVR key that is not a phone key is refused', () => {
    const bad = { ...business, ivr: { options: { '12': { teams: ['sales'] } } } };
    expect(() => new RoutingConfig(defaults, { default: bad }, everyPromptExists)).toThrow(/one of 0-9, \* or #/);
  });

  it('a business number without an IVR must name the teams it queues for', () => {
    const { ivr: _ivr, ...noIvr } = business;
    expect(() => new RoutingConfig(defaults, { default: noIvr }, everyPromptExists)).toThrow(
      /default: answer "business" without an ivr needs "teams"/,
    );
    const ok = new RoutingConfig(defaults, { default: { ...noIvr, teams: ['support'] } }, everyPromptExists);
    expect(ok.flowFor('1')?.queue.teams).toEqual(['support']);
  });
});

describe('duplicateKeys', () => {
  it('finds keys repeated within one object, at any depth, and nothing in a clean file', () => {
    expect(duplicateKeys('{"a": 1, "b": {"c": [1, {"d": 1, "d": "x\\"y"}], "c": 2}, "a": []}')).toEqual([
      'b.c[1].d',
      'b.c',
      'a',
    ]);
    expect(duplicateKeys('{"a": {"a": {"a": 1}}, "b": [], "c": {}}')).toEqual([]);
  });
});

describe('routing file: metaCapture', () => {
  const optIn = { recording: true, transcription: false, purpose: 'quality assurance', language: 'en_US' };

  it('gives each number its opt-in, the default one underneath, and none when both are off', () => {
    const cfg = new RoutingConfig(defaults, {
      default: { metaCapture: optIn },
      numbers: { '100': {}, '200': { metaCapture: { ...optIn, recording: false } } },
    });
    expect(cfg.captureFor('100')).toEqual(optIn);
    expect(cfg.captureFor('999')).toEqual(optIn);
    expect(cfg.captureFor('200')).toBeUndefined();
    expect(new RoutingConfig(defaults, {}).captureFor('100')).toBeUndefined();
  });

  it('refuses a bad value, a bad language and an unknown key with a line naming it', () => {
    const bad = (metaCapture: unknown) => () => new RoutingConfig(defaults, { numbers: { '100': { metaCapture } } });
    expect(bad({ ...optIn, recording: 'yes' })).toThrow(/^ROUTING_FILE: numbers\.100\.metaCapture\.recording: /);
    expect(bad({ ...optIn, language: 'English' })).toThrow(/metaCapture\.language: a language such as "en_US"/);
    expect(bad({ ...optIn, transcribe: true })).toThrow(/numbers\.100\.metaCapture: .*transcribe/);
  });
});

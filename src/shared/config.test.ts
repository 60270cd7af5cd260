import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

/** The message loadConfig throws for `env` (fails the test when it does not throw a ConfigError). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('reports every setting that does not fit, one line each naming what to set, across areas', () => {
    const lines = problemsOf({
      WHATSAPP_APP_SECRET: 'secret',
      MEDIA_PORT_MIN: '40000',
      RECORDINGS_S3_ACCESS_KEY_ID: 'key',
      EVENTS_WEBHOOK_URL: 'http://127.0.0.1:9/events',
      TRUSTED_PROXIES: '10.0.0.0/99',
      AGENTS_FILE: 'no/such/agents.json',
    });
    for (const name of [
      'WHATSAPP_ACCESS_TOKEN',
      'JWT_SECRET',
      'TRUSTED_PROXIES',
      'AGENTS_FILE',
      'MEDIA_PORT_MAX',
      'RECORDINGS_S3_SECRET_ACCESS_KEY',
      'EVENTS_WEBHOOK_SECRET',
    ]) {
      expect(
        lines.some((l) => l.includes(name)),
        name,
      ).toBe(true);
    }
  });

  it('names each value zod refuses with what it got, in any area', () => {
    const lines = problemsOf({
      PORT: 'eighty',
      WRAP_UP_SECONDS: '-1',
      MEDIA_ENGINE: 'x',
      RECORDINGS_S3_ENDPOINT: 'nope',
    });
    for (const name of ['PORT', 'WRAP_UP_SECONDS', 'MEDIA_ENGINE', 'RECORDINGS_S3_ENDPOINT']) {
      expect(
        lines.some((l) => l.startsWith(`${name}:`)),
        name,
      ).toBe(true);
    }
  });

  it('puts each area in its section of one frozen config', () => {
    const config = loadConfig({ HOST: '127.0.0.1', WRAP_UP_SECONDS: '7', OUTBOUND_DO_NOT_CALL: '+44 7700-900123' });
    expect(config.calls.wrapUpMs).toBe(7000);
    expect(config.outbound.doNotCall).toEqual(['447700900123']);
    expect(config.host).toBe('127.0.0.1');
    expect(Object.isFrozen(config.media)).toBe(true);
  });
});

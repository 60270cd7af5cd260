import { resolveRedis } from '../src/shared/embedded-redis.js';
import { silentLogger } from '../src/shared/log.js';

/**
 * Tests use the Redis at TEST_REDIS_URL, else the local default if it answers, else one started for the run
 * (the same embedded default `npm start` uses).
 */
export default async function setup({ provide }: { provide: (k: string, v: string) => void }) {
  const r = await resolveRedis({ url: process.env.TEST_REDIS_URL, defaultUrl: 'redis://127.0.0.1:6379' }, silentLogger);
  process.env.TEST_REDIS_URL = r.url;
  provide('redisUrl', r.url);
  return async () => {
    await r.embedded?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

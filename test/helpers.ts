import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, inject } from 'vitest';
import type { OutboxItem } from '../src/machines/call.store.js';
import type { CallContext } from '../src/machines/call.types.js';
import type { EffectDispatcher } from '../src/machines/ports.js';
import { type Config, loadConfig } from '../src/shared/config.js';
import { deletePrefix } from '../src/shared/keys.js';
import type { CallDetail } from '../src/shared/rest-types.js';
import type { SimCall } from '../src/sim/simulator.js';
import type { TestAgent } from '../src/testing/agent-harness.js';
import type { NodeAgentPeer } from '../src/testing/node-agent-peer.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique key prefix per test so tests never see each other's keys. */
export function testPrefix(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Removes every key a test created (its prefix, its BullMQ queues, its Socket.IO channels). */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const r = new Redis(redisUrl());
  try {
    await deletePrefix(r, prefix);
  } finally {
    r.disconnect();
  }
}

/** The token-signing secret of every service a test starts (demo mode otherwise draws a random one per process). */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef';

/** The environment a test process runs with: demo credentials, loopback, a unique prefix. */
export function testEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    KEY_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    MEDIA_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    CONSOLE_BUILD: 'never',
    JWT_SECRET: TEST_JWT_SECRET,
    ...extra,
  };
}

export function testConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({ PATH: process.env.PATH, ...testEnv(prefix, extra) });
}

/** Records what would be dispatched: the test double for the I/O sinks behind the outbox. */
export class RecordingDispatcher implements EffectDispatcher {
  readonly items: { callId: string; item: OutboxItem }[] = [];
  async dispatch(callId: string, item: OutboxItem, _ctx: CallContext): Promise<void> {
    this.items.push({ callId, item });
  }
}

export async function waitUntil<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A connect offer in the shape Meta sends (docs/whatsapp-platform.md §3, with loopback addresses). */
export { META_OFFER_SDP as META_OFFER } from '../src/testing/sdp-fixtures.js';

/** Logs in through the API and returns the bearer token. */
export async function loginToken(baseUrl: string, username: string, password = 'pw'): Promise<string> {
  const res = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** GET /api/calls/:id with a (supervisor's) token. */
export async function fetchCall(baseUrl: string, token: string, id: string): Promise<CallDetail> {
  const res = await fetch(`${baseUrl}/api/calls/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await res.json()) as CallDetail;
}

/** Polls GET /api/calls/:id until the call is in `state`; resolves with that view of it. */
export function waitForCallState(
  baseUrl: string,
  token: string,
  id: string,
  state: string,
  timeoutMs = 15_000,
): Promise<CallDetail> {
  return waitUntil(
    async () => {
      const d = await fetchCall(baseUrl, token, id);
      return d.state === state ? d : undefined;
    },
    { timeoutMs, what: `call ${id} to be ${state}` },
  );
}

/**
 * `agent` takes `call` as an agent does: offered, accepted (it must win), media that listens for the caller's 440 Hz;
 * resolves with the agent's peer once Meta accepted the call and the agent has call:live.
 */
export async function takeLiveCall(agent: TestAgent, call: SimCall): Promise<NodeAgentPeer> {
  await agent.offered(call.callId);
  expect((await agent.client.accept(call.callId)).ok).toBe(true);
  const peer = await agent.startMedia(call.callId, { watchHz: [440] });
  await call.waitFor('accepted', 20_000);
  await waitUntil(() => agent.live.includes(call.callId), { what: 'call:live' });
  return peer;
}

/**
 * Media node placement on real Redis: reported load plus the placements a node has not reported yet, capacity,
 * draining, expired leases, and placements released when their call's bridge is closed.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisMediaCommander } from '../../src/media/commands.js';
import { NodeRegistry } from '../../src/media/node-registry.js';
import { keys as makeKeys } from '../../src/shared/keys.js';
import { cleanupPrefix, redisUrl, testPrefix } from '../helpers.js';

describe('media node placement', () => {
  let prefix: string;
  let redis: Redis;
  let registry: NodeRegistry;
  let commander: RedisMediaCommander;
  const node = (id: string, calls: number, extra: { capacity?: number; draining?: boolean } = {}) => ({
    id,
    capacity: extra.capacity ?? 2,
    calls,
    draining: extra.draining ?? false,
    startedAt: Date.now(),
  });

  beforeEach(() => {
    prefix = testPrefix();
    redis = new Redis(redisUrl());
    const k = makeKeys(prefix);
    registry = new NodeRegistry({ redis, keys: k, ttlMs: 5000 });
    commander = new RedisMediaCommander(redis, k);
  });
  afterEach(async () => {
    redis.disconnect();
    await cleanupPrefix(prefix);
  });

  it('picks the least loaded node, counting placements made since its last heartbeat', async () => {
    await registry.heartbeat(node('m1', 0, { capacity: 4 }));
    await registry.heartbeat(node('m2', 1, { capacity: 4 }));
    expect(await registry.place()).toBe('m1');
    await registry.recordPlacement('m1', 'c1');
    await registry.recordPlacement('m1', 'c2');
    // m1: 0 reported + 2 pending = 2 > m2's 1.
    expect(await registry.place()).toBe('m2');
  });

  it('a full node takes no call; a node whose calls ended before its next heartbeat has room again', async () => {
    await registry.heartbeat(node('m1', 0));
    await registry.recordPlacement('m1', 'c1');
    await registry.recordPlacement('m1', 'c2');
    expect(await registry.place()).toBeUndefined();
    await commander.close('m1', 'c1', 'ended');
    expect(await registry.place()).toBe('m1');
    // The close reached the node's command stream.
    const cmds = await redis.xrange(makeKeys(prefix).media.commands('m1'), '-', '+');
    expect(cmds.map(([, f]) => JSON.parse(f[1]!).type)).toEqual(['bridge.close']);
  });

  it('skips draining nodes and nodes whose lease expired', async () => {
    await registry.heartbeat(node('m1', 0, { draining: true }));
    await registry.heartbeat(node('m2', 0), Date.now() - 10_000);
    expect(await registry.place()).toBeUndefined();
    expect(await registry.expired()).toEqual(['m2']);
    await registry.heartbeat(node('m3', 1));
    expect(await registry.place()).toBe('m3');
  });
});

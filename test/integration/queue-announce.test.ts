/**
 * What a waiting caller is told, on real Redis: the queue store works out their place across the teams they wait
 * for (priority first, then entry time) and the expected wait from the handle times of the calls it recorded, and
 * asks the media node to play the shipped clips that say it. The figures below are worked out by hand from the
 * script.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../../src/machines/call.types.js';
import { QueueStore } from '../../src/routing/queue.store.js';
import { keys as makeKeys } from '../../src/shared/keys.js';
import { cleanupPrefix, redisUrl, testPrefix } from '../helpers.js';

interface Played {
  callId: string;
  playId: string;
  clips: string[];
}

/** The parts of an ended call the queue store reads. */
function endedCall(callId: string, teams: string[], liveAt: number, endedAt: number): CallContext {
  const ended = {
    callId,
    queue: { teams, priority: 0, enteredAt: liveAt - 5_000, leftAt: liveAt, overflowed: false, announceSeq: 0 },
    times: { liveAt, endedAt },
    outcome: { reason: 'completed' },
  };
  return ended as unknown as CallContext;
}

describe('queue announcements', () => {
  let prefix: string;
  let redis: Redis;
  let played: Played[];
  let store: QueueStore;

  beforeEach(() => {
    prefix = testPrefix();
    redis = new Redis(redisUrl());
    played = [];
    store = new QueueStore({
      redis,
      keys: makeKeys(prefix),
      media: {
        play: async (_node, callId, playId, clips) => {
          played.push({ callId, playId, clips });
        },
      },
      agentsServing: async () => 2,
      defaultHandleMs: 60_000,
    });
  });
  afterEach(async () => {
    redis.disconnect();
    await cleanupPrefix(prefix);
  });

  it('tells each caller their place across their teams and the wait from recent handle times', async () => {
    // Two sales calls were handled in 2 and 4 minutes; the second one's end is replayed (counted once).
    await store.ended('done.1', endedCall('done.1', ['sales'], 10_000, 130_000));
    await store.ended('done.2', endedCall('done.2', ['sales'], 20_000, 260_000));
    await store.ended('done.2', endedCall('done.2', ['sales'], 20_000, 260_000));
    expect(await store.avgHandleMs(['sales'])).toBe(180_000);

    await store.enter('c1', ['sales'], 0, 1_000);
    await store.enter('c2', ['support'], 0, 2_000);
    await store.enter('c3', ['sales', 'support'], 0, 3_000);
    await store.enter('c4', ['sales'], 5, 4_000); // a higher priority goes first
    await store.enter('c1', ['sales'], 0, 9_000); // entering again (overflow, a replay) keeps the first place

    expect((await store.list('sales')).map((e) => e.callId)).toEqual(['c4', 'c1', 'c3']);
    await store.announce('c3', 'node', 'announce.0', ['sales', 'support']);
    await store.announce('c1', 'node', 'announce.0', ['sales']);
    await store.announce('c2', 'node', 'announce.0', ['support']);
    // c3: c4, c1 (sales) and c2 (support) are ahead: number 4; 2 agents, 3 minutes each: ceil(4 / 2) × 3 = 6 minutes.
    // c1: behind c4: number 2; ceil(2 / 2) × 3 = 3 minutes.
    // c2: first in support, which has no handle times yet: the default minute.
    expect(played).toEqual([
      {
        callId: 'c3',
        playId: 'announce.0',
        clips: ['you-are-number', 'n4', 'in-the-queue', 'expected-wait', 'n6', 'minutes'],
      },
      {
        callId: 'c1',
        playId: 'announce.0',
        clips: ['you-are-number', 'n2', 'in-the-queue', 'expected-wait', 'n3', 'minutes'],
      },
      {
        callId: 'c2',
        playId: 'announce.0',
        clips: ['you-are-number', 'n1', 'in-the-queue', 'expected-wait', 'n1', 'minute'],
      },
    ]);

    // The head of sales is served: everyone behind moves up. A caller who already left is told nothing.
    await store.exit('c4', ['sales']);
    await store.exit('c2', ['support']);
    played.length = 0;
    await store.announce('c3', 'node', 'announce.1', ['sales', 'support']);
    await store.announce('c2', 'node', 'announce.1', ['support']);
    expect(played).toEqual([
      {
        callId: 'c3',
        playId: 'announce.1',
        clips: ['you-are-number', 'n2', 'in-the-queue', 'expected-wait', 'n3', 'minutes'],
      },
    ]);
  });
});

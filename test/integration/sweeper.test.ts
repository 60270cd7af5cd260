/**
 * The stranded-call sweep (`Sweeper.sweepStranded`) is the net under every delayed timer: a call whose deadline
 * passed while its timer job was lost must end anyway. It had no test of its own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphJobId } from '../../src/machines/call.effects.js';
import { type Core, createCore } from '../../src/runtime.js';
import { silentLogger } from '../../src/shared/log.js';
import { Sweeper } from '../../src/workers/sweeper.js';
import { cleanupPrefix, META_OFFER, redisUrl, testConfig, testPrefix } from '../helpers.js';

describe('the stranded-call sweep', () => {
  let prefix: string;
  let core: Core;
  let sweeper: Sweeper;

  const create = (callId: string, at: number) =>
    core.deliverer.create(
      {
        callId,
        phoneNumberId: core.config.whatsapp.phoneNumberIds[0]!,
        businessNumber: '15550001111',
        caller: { waId: '919800012345', name: undefined },
        at,
        answerDeadlineMs: core.config.calls.answerDeadlineMs,
        ringTimeoutMs: core.config.calls.ringTimeoutMs,
        acceptDeadlineMs: core.config.calls.acceptDeadlineMs,
        maxCallMs: core.config.calls.maxCallMs,
      },
      META_OFFER,
    );
  const state = async (id: string) => core.store.load(id);

  beforeEach(async () => {
    prefix = testPrefix();
    // No worker runs: every delayed timer job stays queued, as if lost.
    const config = testConfig(prefix, { CALL_ANSWER_DEADLINE_SECONDS: '45' });
    core = createCore(config, silentLogger, redisUrl());
    sweeper = new Sweeper({
      deliverer: core.deliverer,
      index: core.index,
      redis: core.redis,
      keys: core.keys,
      logger: silentLogger,
      strandedEveryMs: 60_000,
    });
  });
  afterEach(async () => {
    await core.close();
    await cleanupPrefix(prefix);
  });

  it('ends a call whose answer deadline passed without its timer, and leaves a call still in time alone', async () => {
    const now = Date.now();
    expect((await create('wacid.OLD', now - 60_000)).status).toBe('created');
    expect((await create('wacid.NEW', now - 1_000)).status).toBe('created');
    expect(await sweeper.sweepStranded(now)).toBe(1);
    const old = await state('wacid.OLD');
    expect(old?.state).toBe('ended');
    const detail = await core.store.load('wacid.OLD');
    expect(JSON.stringify(detail?.snapshot)).toContain('"reason":"missed"');
    // The end's effects went out: Meta is told to reject.
    expect(await core.queues.graph.getJob(graphJobId('wacid.OLD', 'reject'))).toBeDefined();
    expect((await state('wacid.NEW'))?.state).toBe('ringing');
    expect(await core.redis.zscore(core.keys.callsActive, 'wacid.NEW')).not.toBeNull();
  });

  it('runs once per period across workers, and drops ended and unknown calls from the active index', async () => {
    const now = Date.now();
    await create('wacid.DONE', now - 1000);
    await core.deliverer.deliver('wacid.DONE', { type: 'WA.TERMINATE', status: 'COMPLETED', at: now });
    await core.redis.zadd(core.keys.callsActive, now, 'wacid.DONE', now, 'wacid.GONE');
    const other = new Sweeper({
      deliverer: core.deliverer,
      index: core.index,
      redis: core.redis,
      keys: core.keys,
      logger: silentLogger,
      strandedEveryMs: 60_000,
    });
    expect(await sweeper.sweepStranded(now)).toBe(0);
    expect(await core.redis.zscore(core.keys.callsActive, 'wacid.DONE')).toBeNull();
    expect(await core.redis.zscore(core.keys.callsActive, 'wacid.GONE')).toBeNull();
    // A second worker in the same period does nothing (the pass is locked), even with a stranded call waiting.
    await create('wacid.LATE', now - 60_000);
    expect(await other.sweepStranded(now)).toBe(0);
    expect((await state('wacid.LATE'))?.state).toBe('ringing');
  });
});

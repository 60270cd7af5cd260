import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallIndex } from '../../src/machines/call.index.js';
import { CallStore } from '../../src/machines/call.store.js';
import type { CallInput } from '../../src/machines/call.types.js';
import { Deliverer, restore } from '../../src/machines/deliver.js';
import { keys as makeKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { Sweeper } from '../../src/workers/sweeper.js';
import { cleanupPrefix, RecordingDispatcher, redisUrl, testPrefix, waitUntil } from '../helpers.js';

const input = (callId: string): CallInput => ({
  callId,
  phoneNumberId: '100',
  businessNumber: '15550001111',
  caller: { waId: '919800012345', name: 'Test' },
  at: Date.now(),
  answerDeadlineMs: 45_000,
  ringTimeoutMs: 15_000,
  acceptDeadlineMs: 10_000,
  maxCallMs: 3_600_000,
});

describe('call store on real Redis', () => {
  let prefix: string;
  let conns: Redis[];
  let deliverers: Deliverer[];
  let recorder: RecordingDispatcher;

  beforeEach(() => {
    prefix = testPrefix();
    recorder = new RecordingDispatcher();
    conns = Array.from({ length: 4 }, () => new Redis(redisUrl()));
    deliverers = conns.map(
      (c) =>
        new Deliverer({
          store: new CallStore(c, makeKeys(prefix), { timelineMax: 1000 }),
          dispatcher: recorder,
          logger: silentLogger,
          retentionMs: 600_000,
        }),
    );
  });
  afterEach(async () => {
    for (const c of conns) c.disconnect();
    await cleanupPrefix(prefix);
  });

  it('200 events sent concurrently to one call over 4 connections end in a valid state with no lost update', async () => {
    const callId = 'wacid.concurrent';
    expect((await deliverers[0]!.create(input(callId), 'v=0\r\n')).status).toBe('created');
    const digits = '0123456789*#';
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        deliverers[i % 4]!.deliver(callId, { type: 'MEDIA.DTMF', digit: digits[i % digits.length]! }),
      ),
    );
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    const store = deliverers[0]!.store;
    const stored = await store.load(callId);
    expect(stored!.version).toBe(201);
    expect(stored!.state).toBe('ringing');
    const timeline = (await store.timeline(callId)).filter((t) => t.event === 'MEDIA.DTMF');
    expect(timeline).toHaveLength(200);
    expect(new Set(timeline.map((t) => t.version)).size).toBe(200);
    // The stored digits are exactly the last 64 applied, in commit order: no write was lost or reordered.
    const inOrder = timeline.sort((a, b) => a.version! - b.version!).map((t) => /digit=(.)/.exec(t.detail!)![1]);
    expect(restore(stored!.snapshot).context.caller.dtmf).toBe(inOrder.join('').slice(-64));
  });

  it('10 concurrent AGENT.ACCEPT → exactly one winner, 100 times in a row', async () => {
    const agents = Array.from({ length: 10 }, (_, i) => `agent${i}`);
    // Ten independent writers, each on its own connection, as if on ten replicas.
    const writers = agents.map(() => {
      const c = new Redis(redisUrl());
      conns.push(c);
      return new Deliverer({
        store: new CallStore(c, makeKeys(prefix)),
        dispatcher: recorder,
        logger: silentLogger,
        retentionMs: 600_000,
      });
    });
    for (let round = 0; round < 100; round++) {
      const callId = `wacid.race${round}`;
      await deliverers[0]!.create(input(callId), 'v=0\r\n');
      const offered = await deliverers[1]!.deliver(callId, {
        type: 'ROUTING.OFFER',
        seq: 1,
        agentIds: agents,
        policy: 'ring-all',
        tier: 'team',
      });
      expect(offered.status).toBe('applied');
      const results = await Promise.all(
        agents.map((a, i) => writers[i]!.deliver(callId, { type: 'AGENT.ACCEPT', agentId: a, mediaNodeId: 'm1' })),
      );
      const winners = results.flatMap((r, i) => (r.status === 'applied' ? [agents[i]] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status === 'ignored')).toHaveLength(9);
      const ctx = restore((await deliverers[2]!.store.load(callId))!.snapshot).context;
      expect(ctx.agentId).toBe(winners[0]);
      // Only the winner's transition produced effects: one media.createBridge for the call.
      const bridges = recorder.items.filter((x) => x.callId === callId && x.item.effect.type === 'media.createBridge');
      expect(bridges).toHaveLength(1);
    }
  });

  it('a writer that stops between commit and dispatch: the outbox sweep dispatches each effect once', async () => {
    const callId = 'wacid.crashed';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/crash-writer.ts', redisUrl(), prefix, callId],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('crash-writer never committed')), 30_000);
      child.stdout.on('data', (d) => {
        if (String(d).includes('committed')) {
          clearTimeout(t);
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));

    const keys = makeKeys(prefix);
    const store = deliverers[0]!.store;
    const left = await store.outbox(callId);
    expect(left.map((i) => i.effect.type)).toEqual(['call.created', 'timer.schedule', 'queue.join', 'routing.request']);

    const sweeper = new Sweeper({
      deliverer: deliverers[0]!,
      index: new CallIndex(conns[0]!, keys, { retentionMs: 600_000 }),
      redis: conns[0]!,
      keys,
      logger: silentLogger,
      minAgeMs: 0,
      forgetAfterMs: 0,
    });
    const first = await sweeper.sweepOutboxes(Date.now() + 1);
    expect(first.dispatched).toBe(4);
    await sweeper.sweepOutboxes(Date.now() + 1);
    await sweeper.sweepOutboxes(Date.now() + 1);
    const sent = recorder.items.filter((x) => x.callId === callId).map((x) => x.item.id);
    expect(sent).toEqual(left.map((i) => i.id));
    expect(await store.outbox(callId)).toEqual([]);
    // The index entry is dropped once the outbox is empty.
    expect(await conns[0]!.zscore(keys.outboxPending, callId)).toBeNull();
  });

  it('a call is in the pending-outbox index after every write with effects, re-indexed at most twice a second', async () => {
    const callId = 'wacid.indexed';
    const keys = makeKeys(prefix);
    const d = deliverers[0]!;
    const createdAt = Date.now();
    expect((await d.create(input(callId), 'v=0\r\n')).status).toBe('created');
    const first = await conns[0]!.zscore(keys.outboxPending, callId);
    expect(first).not.toBeNull();
    const out = await d.deliver(callId, {
      type: 'ROUTING.OFFER',
      seq: 1,
      agentIds: ['a1'],
      policy: 'ring-all',
      tier: 'anyone',
    });
    expect(out.status === 'applied' && out.effects.length > 0).toBe(true);
    // Written right after the create: the entry made then is still there and is left as it is (unless this loaded
    // machine took half a second between the two writes, when re-indexing is right).
    const again = await conns[0]!.zscore(keys.outboxPending, callId);
    if (Date.now() - createdAt < 450) expect(again).toBe(first);
    else expect(again).not.toBeNull();
    await new Promise((r) => setTimeout(r, 600));
    const accept = await d.deliver(callId, { type: 'AGENT.ACCEPT', agentId: 'a1', mediaNodeId: 'n1' });
    expect(accept.status === 'applied' && accept.effects.length > 0).toBe(true);
    expect(Number(await conns[0]!.zscore(keys.outboxPending, callId))).toBeGreaterThan(Number(first));
  });

  it('a duplicate create (Meta delivering connect twice) is a no-op', async () => {
    const callId = 'wacid.dup';
    const outcomes = await Promise.all(deliverers.map((d) => d.create(input(callId), 'v=0\r\n')));
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(3);
    expect(recorder.items.filter((x) => x.item.effect.type === 'routing.request')).toHaveLength(1);
  });

  it('a deliverer whose remembered snapshot is stale applies the event on what another process stored', async () => {
    const callId = 'wacid.stale';
    const [a, b] = [deliverers[0]!, deliverers[1]!];
    expect((await a.create(input(callId), 'v=0\r\n')).status).toBe('created');
    await b.deliver(callId, { type: 'MEDIA.DTMF', digit: '1' });
    // a still remembers version 1: its write conflicts, and the retry runs on version 2.
    const out = await a.deliver(callId, { type: 'MEDIA.DTMF', digit: '2' });
    expect(out).toMatchObject({ status: 'applied', version: 3 });
    expect(out.status === 'applied' && out.context.caller.dtmf).toBe('12');
  });

  it('an event that does not fit a stale remembered snapshot is checked against Redis before it is ignored', async () => {
    const callId = 'wacid.stale-accept';
    const [a, b] = [deliverers[0]!, deliverers[1]!];
    await a.create(input(callId), 'v=0\r\n');
    // Another process offers the call; a only knows it ringing, where AGENT.ACCEPT does not fit.
    await b.deliver(callId, { type: 'ROUTING.OFFER', seq: 1, agentIds: ['ann'], policy: 'ring-all', tier: 'team' });
    const out = await a.deliver(callId, { type: 'AGENT.ACCEPT', agentId: 'ann', mediaNodeId: 'm1' });
    expect(out).toMatchObject({ status: 'applied', state: 'bridging' });
    // And a late duplicate is ignored on what is stored.
    expect((await a.deliver(callId, { type: 'AGENT.ACCEPT', agentId: 'ann', mediaNodeId: 'm1' })).status).toBe(
      'ignored',
    );
  });

  it('effects that went out leave the outbox without the delivery waiting for it', async () => {
    const callId = 'wacid.acks';
    const d = deliverers[0]!;
    await d.create(input(callId), 'v=0\r\n');
    await d.deliver(callId, { type: 'ROUTING.OFFER', seq: 1, agentIds: ['ann'], policy: 'ring-all', tier: 'team' });
    await d.deliver(callId, { type: 'WA.TERMINATE', status: 'COMPLETED' });
    expect(recorder.items.filter((x) => x.callId === callId).length).toBeGreaterThan(5);
    await waitUntil(async () => (await d.store.outbox(callId)).length === 0, { what: 'an empty outbox' });
  });

  it('an event for an unknown call is an unknown-call outcome, never an exception', async () => {
    expect((await deliverers[0]!.deliver('wacid.nope', { type: 'WA.TERMINATE', status: 'COMPLETED' })).status).toBe(
      'unknown-call',
    );
  });
});

import type { Redis } from 'ioredis';
import { CallStore, type OutboxItem } from '../../src/machines/call.store.js';
import type { CallContext } from '../../src/machines/call.types.js';
import { Deliverer, type DeliverMetrics, type DeliverOutcome, type IncomingEvent } from '../../src/machines/deliver.js';
import type { EffectDispatcher } from '../../src/machines/ports.js';
import { keys as makeKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { META_OFFER_SDP } from '../../src/testing/sdp-fixtures.js';

/** The effect sink of test/helpers.ts RecordingDispatcher, minus the recording: every effect "goes out" at once. */
export class NoopDispatcher implements EffectDispatcher {
  dispatched = 0;
  async dispatch(_callId: string, _item: OutboxItem, _ctx: CallContext): Promise<void> {
    this.dispatched++;
  }
}

export class CountingMetrics implements DeliverMetrics {
  conflicts = 0;
  readonly outcomes: Record<string, number> = {};
  event(type: string, outcome: DeliverOutcome['status']): void {
    const k = `${type}:${outcome}`;
    this.outcomes[k] = (this.outcomes[k] ?? 0) + 1;
  }
  conflict(): void {
    this.conflicts++;
  }
  transition(): void {}
}

export const RETENTION_MS = 7 * 86_400_000;

export function makeDeliverer(redis: Redis, prefix: string, metrics?: DeliverMetrics): Deliverer {
  const store = new CallStore(redis, makeKeys(prefix));
  return new Deliverer({
    store,
    dispatcher: new NoopDispatcher(),
    logger: silentLogger,
    metrics,
    retentionMs: RETENTION_MS,
  });
}

export function callInput(callId: string) {
  return {
    callId,
    phoneNumberId: '100000000000001',
    businessNumber: '15550001111',
    caller: { waId: '919800012345', name: 'Bench Caller' },
    at: Date.now(),
    answerDeadlineMs: 45_000,
    ringTimeoutMs: 15_000,
    acceptDeadlineMs: 10_000,
    maxCallMs: 4 * 3600_000,
  };
}

/** An answered call from arrival to hang-up: the events every call goes through, in order (8 after the create). */
export const LIFECYCLE: IncomingEvent[] = [
  { type: 'ROUTING.OFFER', seq: 1, agentIds: ['agent-1', 'agent-2'], policy: 'ring-all', tier: 'anyone' },
  { type: 'AGENT.ACCEPT', agentId: 'agent-1', mediaNodeId: 'node-1' },
  { type: 'MEDIA.WA_ANSWER' },
  { type: 'GRAPH.DONE', action: 'pre_accept' },
  { type: 'MEDIA.WA_CONNECTED' },
  { type: 'MEDIA.AGENT_CONNECTED' },
  { type: 'GRAPH.DONE', action: 'accept' },
  { type: 'AGENT.HANGUP', agentId: 'agent-1' },
];

/** Creates a call and drives it to `ended` (9 deliveries). Throws if any step is not applied. */
export async function runLifecycle(d: Deliverer, callId: string, upTo = LIFECYCLE.length): Promise<number> {
  const created = await d.create(callInput(callId), META_OFFER_SDP);
  if (created.status !== 'created') throw new Error(`create ${callId}: ${created.status}`);
  for (const ev of LIFECYCLE.slice(0, upTo)) {
    const out = await d.deliver(callId, ev);
    if (out.status !== 'applied') throw new Error(`${ev.type} on ${callId}: ${out.status}`);
  }
  return 1 + upTo;
}

import type { BusinessFlow } from '../machines/call.types.js';
import type { Deliverer, DeliverOutcome } from '../machines/deliver.js';
import { validateWhatsAppOffer } from '../media/sdp/validate.js';
import type { Config } from '../shared/config.js';
import { errorMessage } from '../shared/errors.js';
import type { IngestEvent } from '../shared/ingest-event.js';
import type { Keys } from '../shared/keys.js';
import { type Logger, maskNumber } from '../shared/log.js';
import type { MediaResult } from '../shared/meta-capture.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';

/** A terminate that arrived before its connect is remembered this long. */
const TOMBSTONE_TTL_S = 3600;
const GROUP = 'ingest';
/** An entry that failed this many times goes to the dead-letter stream. */
const MAX_DELIVERIES = 5;

export type IngestOutcome =
  | DeliverOutcome['status']
  | 'early-terminate'
  | 'permission-reply'
  | 'meta-media'
  | 'meta-media-unhandled';

/** Takes Meta's recording / transcript webhook (`known`: the call exists here). */
export type MetaMediaHandler = (e: MediaResult & { known: boolean }) => Promise<unknown>;

/** Told when a user answers a call-permission request (the outbound dialer tells the agent who asked). */
export type PermissionReplyHandler = (e: Extract<IngestEvent, { kind: 'permission-reply' }>) => Promise<void>;

/** Meta names a business-initiated call in connect's response; its webhooks may overtake that answer by a little. */
const ALIAS_WAIT_MS = 10_000;

/**
 * Applies webhook events to call actors: `connect` creates the actor (a duplicate is a no-op), `terminate` and
 * status events go to it. A terminate that overtakes its connect (Meta does not guarantee order) is remembered and
 * applied when the connect lands.
 */
export class IngestProcessor {
  constructor(
    readonly deps: {
      deliverer: Deliverer;
      redis: RedisClient;
      keys: Keys;
      logger: Logger;
      metrics?: Metrics | undefined;
      calls: Config['calls'];
      onPermissionReply?: PermissionReplyHandler | undefined;
      onMetaMedia?: MetaMediaHandler | undefined;
      /** The number's recording policy (routing file `record`). */
      recordFor?: ((phoneNumberId: string) => 'off' | 'all' | 'agent') | undefined;
      /** `answer: "business"` numbers: the flow their calls take (undefined = answered by an agent). */
      businessFlow?: ((phoneNumberId: string) => BusinessFlow | undefined) | undefined;
      /** Chooses and records the media node of a business-answered call (it is bridged before any agent). */
      media?:
        | { place(): Promise<string | undefined>; recordPlacement(nodeId: string, callId: string): Promise<void> }
        | undefined;
    },
  ) {}

  async apply(e: IngestEvent): Promise<IngestOutcome> {
    let out: IngestOutcome;
    switch (e.kind) {
      case 'connect':
        out = await this.#connect(e);
        break;
      case 'terminate':
        out = await this.#terminate({ ...e, callId: await this.#ours(e.callId) });
        break;
      case 'status':
        // Statuses exist for business-initiated calls only: their Meta id may still be on its way from connect.
        out = await this.#status({ ...e, callId: await this.#ours(e.callId, ALIAS_WAIT_MS) });
        break;
      case 'wa-answer':
        out = await this.#answer(e);
        break;
      case 'permission-reply':
        await this.deps.onPermissionReply?.(e);
        out = 'permission-reply';
        break;
      case 'meta-media':
        out = await this.#media(e);
        break;
    }
    this.deps.metrics?.ingestEvents.inc({ kind: e.kind, outcome: out });
    return out;
  }

  /** Our call id for a call id in a webhook: a business-initiated call's Meta id maps to ours. */
  async #ours(callId: string, waitMs = 0): Promise<string> {
    const key = this.deps.keys.outbound.alias(callId);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const ours = await this.deps.redis.get(key);
      if (ours) return ours;
      if (Date.now() >= deadline) return callId;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A business-initiated call's answer: stored once, then the call applies it. */
  async #answer(e: Extract<IngestEvent, { kind: 'wa-answer' }>): Promise<IngestOutcome> {
    const { deliverer, logger } = this.deps;
    const callId = await this.#ours(e.callId, ALIAS_WAIT_MS);
    if (!(await deliverer.store.load(callId))) {
      // Left pending: the entry is claimed and tried again later (connect's answer may still be on its way).
      logger.warn({ callId: e.callId }, 'answer for a business-initiated call we do not know yet');
      throw new Error('answer for an unknown business-initiated call');
    }
    if (!(await deliverer.store.setAnswerOnce(callId, e.sdp))) {
      const { answer } = await deliverer.store.sdp(callId);
      if (answer !== e.sdp) logger.warn({ callId }, 'a second, different answer from Meta; the first one stays');
    }
    return (await deliverer.deliver(callId, { type: 'WA.ANSWER' })).status;
  }

  async #business(
    phoneNumberId: string,
    log: Logger,
  ): Promise<{ flow: BusinessFlow; mediaNodeId: string } | undefined> {
    const flow = this.deps.businessFlow?.(phoneNumberId);
    if (!flow || !this.deps.media) return undefined;
    const mediaNodeId = await this.deps.media.place();
    if (mediaNodeId) return { flow, mediaNodeId };
    // No media node can answer it now: ring agents as usual rather than lose the call.
    log.warn('no media node can answer as the business; the call rings agents instead');
    return undefined;
  }

  async #connect(e: Extract<IngestEvent, { kind: 'connect' }>): Promise<IngestOutcome> {
    const { deliverer, redis, keys, calls } = this.deps;
    const log = this.deps.logger.child({ callId: e.callId });
    const business = await this.#business(e.phoneNumberId, log);
    const created = await deliverer.create(
      {
        callId: e.callId,
        phoneNumberId: e.phoneNumberId,
        businessNumber: e.businessNumber,
        caller: { waId: e.waId, name: e.name },
        at: e.receivedAt,
        answerDeadlineMs: calls.answerDeadlineMs,
        ringTimeoutMs: calls.ringTimeoutMs,
        acceptDeadlineMs: calls.acceptDeadlineMs,
        maxCallMs: calls.maxCallMs,
        holdAlertMs: calls.holdAlertMs,
        business,
        record: this.deps.recordFor?.(e.phoneNumberId),
      },
      e.sdp,
    );
    if (created.status === 'created' && business)
      await this.deps.media?.recordPlacement(business.mediaNodeId, e.callId);
    if (created.status !== 'created') {
      log.info('duplicate connect webhook; ignored');
      return created.status;
    }
    log.info({ from: maskNumber(e.waId) }, 'call arrived');
    const problem = validateWhatsAppOffer(e.sdp);
    if (!problem.ok) {
      log.warn({ problem: problem.errors.join('; ') }, 'unusable offer from Meta; rejecting the call');
      await deliverer.deliver(e.callId, { type: 'WA.BAD_OFFER', reason: problem.errors.join('; ') });
    }
    const tomb = await redis.get(keys.call.tombstone(e.callId));
    if (tomb) {
      log.info('terminate arrived before connect; ending the call');
      await deliverer.deliver(e.callId, JSON.parse(tomb));
    }
    return 'created';
  }

  async #terminate(e: Extract<IngestEvent, { kind: 'terminate' }>): Promise<IngestOutcome> {
    const { deliverer, redis, keys } = this.deps;
    const event = { type: 'WA.TERMINATE' as const, status: e.status, errorCode: e.errorCode, errorTitle: e.errorTitle };
    const out = await deliverer.deliver(e.callId, event);
    if (out.status !== 'unknown-call') return out.status;
    // Remember it: the connect may still be on its way. Then look once more in case it landed meanwhile.
    await redis.set(keys.call.tombstone(e.callId), JSON.stringify(event), 'EX', TOMBSTONE_TTL_S);
    const again = await deliverer.deliver(e.callId, event);
    return again.status === 'unknown-call' ? 'early-terminate' : again.status;
  }

  /** Meta's file of a call that has usually ended: taken whether or not the call is known here (nothing is lost). */
  async #media(e: Extract<IngestEvent, { kind: 'meta-media' }>): Promise<IngestOutcome> {
    if (!this.deps.onMetaMedia) {
      this.deps.logger.warn({ callId: e.callId }, 'Meta media webhook but Meta capture is not set up here; skipped');
      return 'meta-media-unhandled';
    }
    const callId = await this.#ours(e.callId);
    const known = (await this.deps.deliverer.store.load(callId)) !== null;
    const { media, receivedAt: _, kind: __, ...rest } = e;
    await this.deps.onMetaMedia({ ...rest, callId, kind: media, known });
    return 'meta-media';
  }

  async #status(e: Extract<IngestEvent, { kind: 'status' }>): Promise<IngestOutcome> {
    return (await this.deps.deliverer.deliver(e.callId, { type: 'WA.STATUS', status: e.status })).status;
  }
}

type StreamEntries = [string, string[]][];

/**
 * The worker side of the ingest stream: a Redis consumer group shared by every worker process. Each entry is applied
 * and then acknowledged and deleted; an entry whose worker died is claimed by another after `claimIdleMs`; one that
 * keeps failing is moved to the dead-letter stream after {@link MAX_DELIVERIES} tries. Events of one call are applied
 * in order; different calls in parallel.
 */
export class IngestConsumer {
  readonly #name: string;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #claimTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly deps: {
      processor: IngestProcessor;
      redis: RedisClient;
      /** A dedicated connection: XREADGROUP blocks it. */
      blocking: RedisClient;
      keys: Keys;
      logger: Logger;
      consumerName: string;
      /** @default 10000 */
      claimIdleMs?: number;
    },
  ) {
    this.#name = deps.consumerName;
  }

  async start(): Promise<void> {
    const { redis, keys } = this.deps;
    try {
      // From the stream's beginning: events queued before any worker existed are applied too.
      await redis.xgroup('CREATE', keys.ingest, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test(errorMessage(err))) throw err;
    }
    this.#loop = this.#run();
    const claimEvery = Math.max(1000, Math.round((this.deps.claimIdleMs ?? 10_000) / 2));
    const claim = () => {
      void this.#claim()
        .catch((err) => this.deps.logger.warn({ err: errorMessage(err) }, 'claiming stale ingest entries failed'))
        .finally(() => {
          if (!this.#stopped) this.#claimTimer = setTimeout(claim, claimEvery);
        });
    };
    this.#claimTimer = setTimeout(claim, claimEvery);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#claimTimer);
    this.deps.blocking.disconnect();
    await this.#loop?.catch(() => undefined);
  }

  async #run(): Promise<void> {
    const { blocking, keys, logger } = this.deps;
    while (!this.#stopped) {
      let res: [string, StreamEntries][] | null;
      try {
        res = (await blocking.xreadgroup(
          'GROUP',
          GROUP,
          this.#name,
          'COUNT',
          64,
          'BLOCK',
          1000,
          'STREAMS',
          keys.ingest,
          '>',
        )) as [string, StreamEntries][] | null;
      } catch (err) {
        if (this.#stopped) return;
        if (/NOGROUP/.test(errorMessage(err))) await this.start().catch(() => undefined);
        logger.warn({ err: errorMessage(err) }, 'reading the ingest stream failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [, entries] of res ?? []) await this.#applyAll(entries);
    }
  }

  /** Applies entries (per call in order, calls in parallel), then acknowledges and deletes the ones applied. */
  async #applyAll(entries: StreamEntries): Promise<void> {
    const byCall = new Map<string, { id: string; event: IngestEvent | undefined }[]>();
    for (const [id, fields] of entries) {
      let event: IngestEvent | undefined;
      try {
        event = JSON.parse(fields[fields.indexOf('e') + 1] ?? '') as IngestEvent;
      } catch {
        event = undefined;
      }
      const key = event?.callId ?? id;
      const list = byCall.get(key) ?? [];
      list.push({ id, event });
      byCall.set(key, list);
    }
    const done: string[] = [];
    await Promise.all(
      [...byCall.values()].map(async (list) => {
        for (const { id, event } of list) {
          if (!event) {
            this.deps.logger.warn({ entry: id }, 'unreadable ingest entry dropped');
            done.push(id);
            continue;
          }
          try {
            await this.deps.processor.apply(event);
            done.push(id);
          } catch (err) {
            // Left pending: claimed again later (Redis hiccup, a conflict storm).
            this.deps.logger.warn({ callId: event.callId, err: errorMessage(err) }, 'ingest event failed; will retry');
            return;
          }
        }
      }),
    );
    if (done.length) await this.#ack(done);
  }

  async #ack(ids: string[]): Promise<void> {
    const { redis, keys } = this.deps;
    await redis
      .multi()
      .xack(keys.ingest, GROUP, ...ids)
      .xdel(keys.ingest, ...ids)
      .exec();
  }

  /** Takes over entries another consumer read but never acknowledged (it died), and retires poison entries. */
  async #claim(): Promise<void> {
    const { redis, keys, logger } = this.deps;
    const idle = this.deps.claimIdleMs ?? 10_000;
    const pending = (await redis.xpending(keys.ingest, GROUP, 'IDLE', idle, '-', '+', 100)) as [
      string,
      string,
      number,
      number,
    ][];
    if (pending.length === 0) return;
    const poison = pending.filter(([, , , deliveries]) => deliveries >= MAX_DELIVERIES).map(([id]) => id);
    if (poison.length) {
      const entries = (await redis.xrange(keys.ingest, poison[0]!, poison.at(-1)!)) as StreamEntries;
      const m = redis.multi();
      for (const [id, fields] of entries)
        if (poison.includes(id)) m.xadd(keys.ingestDead, 'MAXLEN', '~', 10_000, '*', ...fields);
      await m.exec();
      await this.#ack(poison);
      logger.error({ entries: poison.length }, 'ingest entries failed too often; moved to the dead-letter stream');
    }
    const retry = pending.filter(([id]) => !poison.includes(id)).map(([id]) => id);
    if (retry.length === 0) return;
    const claimed = (await redis.call('XCLAIM', keys.ingest, GROUP, this.#name, idle, ...retry)) as StreamEntries;
    if (claimed.length) {
      logger.info({ entries: claimed.length }, 'claimed ingest entries a stopped worker left');
      await this.#applyAll(claimed);
    }
  }
}

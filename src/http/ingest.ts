import type { Deliverer, DeliverOutcome } from '../machines/deliver.js';
import { validateWhatsAppOffer } from '../media/sdp.js';
import type { Config } from '../shared/config.js';
import type { Keys } from '../shared/keys.js';
import { type Logger, maskNumber } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import {
  type CallConnect,
  CallConnectSchema,
  CallStatusSchema,
  type CallTerminate,
  CallTerminateSchema,
  ChangeSchema,
  ChangeValueSchema,
  ContactSchema,
  EnvelopeSchema,
  issuesOf,
} from './webhook.schema.js';

export type ItemOutcome = DeliverOutcome['status'] | 'malformed' | 'skipped' | 'early-terminate';

export interface IngestReport {
  items: number;
  outcomes: Partial<Record<ItemOutcome, number>>;
}

export interface IngestDeps {
  deliverer: Deliverer;
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  metrics?: Metrics | undefined;
  config: Pick<Config, 'whatsapp' | 'calls'>;
}

/** A terminate that arrived before its connect is remembered this long. */
const TOMBSTONE_TTL_S = 3600;

/**
 * Turns a verified webhook body into call-actor events. One malformed item is logged and skipped; the rest of the
 * batch goes on. Throws only when Redis fails, so the route answers 500 and Meta delivers again.
 */
export class WebhookIngest {
  readonly #d: IngestDeps;

  constructor(deps: IngestDeps) {
    this.#d = deps;
  }

  async handle(body: unknown): Promise<IngestReport> {
    const report: IngestReport = { items: 0, outcomes: {} };
    const count = (kind: string, o: ItemOutcome) => {
      report.items++;
      report.outcomes[o] = (report.outcomes[o] ?? 0) + 1;
      this.#d.metrics?.webhookItems.inc({ kind, outcome: o });
    };
    const env = EnvelopeSchema.safeParse(body);
    if (!env.success) {
      this.#d.logger.warn({ problem: issuesOf(env.error) }, 'webhook body is not a WhatsApp envelope; ignored');
      count('envelope', 'malformed');
      return report;
    }
    if (env.data.object !== 'whatsapp_business_account') {
      count('envelope', 'skipped');
      return report;
    }
    for (const entry of env.data.entry) {
      for (const rawChange of entry.changes) {
        const change = ChangeSchema.safeParse(rawChange);
        if (!change.success) {
          count('change', 'malformed');
          continue;
        }
        if (change.data.field !== 'calls') {
          // `messages` (call_permission_reply) and others belong to business-initiated calling: not handled here.
          count(change.data.field.slice(0, 40), 'skipped');
          continue;
        }
        const value = ChangeValueSchema.safeParse(change.data.value);
        if (!value.success) {
          this.#d.logger.warn({ problem: issuesOf(value.error) }, 'calls change without usable metadata; skipped');
          count('change', 'malformed');
          continue;
        }
        const v = value.data;
        if (!this.#d.config.whatsapp.phoneNumberIds.includes(v.metadata.phone_number_id)) {
          this.#d.logger.warn(
            { phoneNumberId: v.metadata.phone_number_id },
            'calls webhook for a number we do not serve; skipped',
          );
          for (const _ of [...(v.calls ?? []), ...(v.statuses ?? [])]) count('call', 'skipped');
          continue;
        }
        const contacts = (v.contacts ?? []).flatMap((c) => {
          const p = ContactSchema.safeParse(c);
          return p.success ? [p.data] : [];
        });
        for (const rawCall of v.calls ?? []) {
          const event = (rawCall as { event?: unknown } | null)?.event;
          if (event === 'connect') {
            const call = CallConnectSchema.safeParse(rawCall);
            if (!call.success) {
              this.#d.logger.warn({ problem: issuesOf(call.error) }, 'malformed connect item; skipped');
              count('connect', 'malformed');
              continue;
            }
            count('connect', await this.#connect(call.data, v.metadata, contacts));
          } else if (event === 'terminate') {
            const call = CallTerminateSchema.safeParse(rawCall);
            if (!call.success) {
              this.#d.logger.warn({ problem: issuesOf(call.error) }, 'malformed terminate item; skipped');
              count('terminate', 'malformed');
              continue;
            }
            count('terminate', await this.#terminate(call.data));
          } else {
            this.#d.logger.warn({ event: String(event).slice(0, 40) }, 'unknown call event; skipped');
            count('call', 'malformed');
          }
        }
        for (const rawStatus of v.statuses ?? []) {
          const st = CallStatusSchema.safeParse(rawStatus);
          if (!st.success) {
            count('status', 'malformed');
            continue;
          }
          const out = await this.#d.deliverer.deliver(st.data.id, { type: 'WA.STATUS', status: st.data.status });
          count('status', out.status);
        }
      }
    }
    return report;
  }

  async #connect(
    call: CallConnect,
    metadata: { display_phone_number?: string | undefined; phone_number_id: string },
    contacts: { wa_id?: string | undefined; profile?: { name?: string | undefined } | undefined }[],
  ): Promise<ItemOutcome> {
    const log = this.#d.logger.child({ callId: call.id });
    if (call.direction === 'BUSINESS_INITIATED' || call.session.sdp_type !== 'offer') {
      log.info({ direction: call.direction }, 'business-initiated connect (answer) is not handled; skipped');
      return 'skipped';
    }
    const waId = call.from ?? contacts[0]?.wa_id;
    const contact = contacts.find((c) => c.wa_id === waId) ?? (contacts.length === 1 ? contacts[0] : undefined);
    const c = this.#d.config.calls;
    const at = Date.now();
    const created = await this.#d.deliverer.create(
      {
        callId: call.id,
        phoneNumberId: metadata.phone_number_id,
        businessNumber: metadata.display_phone_number ?? '',
        caller: { waId, name: contact?.profile?.name },
        at,
        answerDeadlineMs: c.answerDeadlineMs,
        ringTimeoutMs: c.ringTimeoutMs,
        acceptDeadlineMs: c.acceptDeadlineMs,
        maxCallMs: c.maxCallMs,
      },
      call.session.sdp,
    );
    if (created.status !== 'created') {
      log.info('duplicate connect webhook; ignored');
      return created.status;
    }
    log.info({ from: maskNumber(waId) }, 'call arrived');
    const problem = validateWhatsAppOffer(call.session.sdp);
    if (!problem.ok) {
      log.warn({ problem: problem.errors.join('; ') }, 'unusable offer from Meta; rejecting the call');
      await this.#d.deliverer.deliver(call.id, { type: 'WA.BAD_OFFER', reason: problem.errors.join('; ') });
    }
    // A terminate may have overtaken this connect (Meta does not guarantee order).
    const tomb = await this.#d.redis.get(this.#d.keys.call.tombstone(call.id));
    if (tomb) {
      log.info('terminate arrived before connect; ending the call');
      await this.#d.deliverer.deliver(call.id, JSON.parse(tomb));
    }
    return 'created';
  }

  async #terminate(call: CallTerminate): Promise<ItemOutcome> {
    const err = call.errors?.[0];
    const event = {
      type: 'WA.TERMINATE' as const,
      status: call.status ?? (err ? 'FAILED' : 'COMPLETED'),
      errorCode: err?.code,
      errorTitle: err?.title,
    };
    const out = await this.#d.deliverer.deliver(call.id, event);
    if (out.status !== 'unknown-call') return out.status;
    // Remember it: the connect may still be on its way. Then look once more in case it landed meanwhile.
    await this.#d.redis.set(this.#d.keys.call.tombstone(call.id), JSON.stringify(event), 'EX', TOMBSTONE_TTL_S);
    const again = await this.#d.deliverer.deliver(call.id, event);
    return again.status === 'unknown-call' ? 'early-terminate' : again.status;
  }
}

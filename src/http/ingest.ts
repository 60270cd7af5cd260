import type { IngestEvent } from '../shared/ingest-event.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { isMediaEvent, parseMediaItem } from '../shared/meta-capture.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import {
  CallConnectSchema,
  CallStatusSchema,
  CallTerminateSchema,
  ChangeSchema,
  ChangeValueSchema,
  ContactSchema,
  EnvelopeSchema,
  issuesOf,
  PermissionReplySchema,
} from './webhook.schema.js';

type ParseOutcome = 'queued' | 'malformed' | 'skipped';

export interface IngestReport {
  items: number;
  outcomes: Partial<Record<ParseOutcome, number>>;
}

/**
 * Parses a verified webhook body into events, per item: one malformed item is logged and skipped, the rest of the
 * batch goes on. Unknown fields are allowed; a caller without wa_id is handled.
 * @see docs/whatsapp-platform.md §1
 */
function parseWebhook(
  body: unknown,
  opts: { phoneNumberIds: readonly string[]; logger: Logger; metrics?: Metrics | undefined; now?: number },
): { events: IngestEvent[]; report: IngestReport } {
  const { logger, metrics } = opts;
  const receivedAt = opts.now ?? Date.now();
  const events: IngestEvent[] = [];
  const report: IngestReport = { items: 0, outcomes: {} };
  const count = (kind: string, o: ParseOutcome) => {
    report.items++;
    report.outcomes[o] = (report.outcomes[o] ?? 0) + 1;
    metrics?.webhookItems.inc({ kind, outcome: o });
  };
  const env = EnvelopeSchema.safeParse(body);
  if (!env.success) {
    logger.warn({ problem: issuesOf(env.error) }, 'webhook body is not a WhatsApp envelope; ignored');
    count('envelope', 'malformed');
    return { events, report };
  }
  if (env.data.object !== 'whatsapp_business_account') {
    count('envelope', 'skipped');
    return { events, report };
  }
  for (const entry of env.data.entry) {
    for (const rawChange of entry.changes) {
      const change = ChangeSchema.safeParse(rawChange);
      if (!change.success) {
        count('change', 'malformed');
        continue;
      }
      if (change.data.field === 'messages') {
        parseMessages(change.data.value, { ...opts, receivedAt, events, count });
        continue;
      }
      if (change.data.field !== 'calls') {
        count(change.data.field.slice(0, 40), 'skipped');
        continue;
      }
      const value = ChangeValueSchema.safeParse(change.data.value);
      if (!value.success) {
        logger.warn({ problem: issuesOf(value.error) }, 'calls change without usable metadata; skipped');
        count('change', 'malformed');
        continue;
      }
      const v = value.data;
      if (!opts.phoneNumberIds.includes(v.metadata.phone_number_id)) {
        logger.warn(
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
          const parsed = CallConnectSchema.safeParse(rawCall);
          if (!parsed.success) {
            logger.warn({ problem: issuesOf(parsed.error) }, 'malformed connect item; skipped');
            count('connect', 'malformed');
            continue;
          }
          const call = parsed.data;
          if (call.direction === 'BUSINESS_INITIATED' || call.session.sdp_type === 'answer') {
            if (call.session.sdp_type !== 'answer') {
              logger.warn({ callId: call.id }, 'business-initiated connect without an answer; skipped');
              count('connect', 'malformed');
              continue;
            }
            events.push({ kind: 'wa-answer', callId: call.id, sdp: call.session.sdp, receivedAt });
            count('connect', 'queued');
            continue;
          }
          if (call.session.sdp_type !== 'offer') {
            logger.warn({ callId: call.id }, 'connect with an unknown sdp_type; skipped');
            count('connect', 'malformed');
            continue;
          }
          const waId = call.from ?? contacts[0]?.wa_id;
          const contact = contacts.find((c) => c.wa_id === waId) ?? (contacts.length === 1 ? contacts[0] : undefined);
          events.push({
            kind: 'connect',
            callId: call.id,
            phoneNumberId: v.metadata.phone_number_id,
            businessNumber: v.metadata.display_phone_number ?? '',
            waId,
            name: contact?.profile?.name,
            sdp: call.session.sdp,
            receivedAt,
          });
          count('connect', 'queued');
        } else if (event === 'terminate') {
          const parsed = CallTerminateSchema.safeParse(rawCall);
          if (!parsed.success) {
            logger.warn({ problem: issuesOf(parsed.error) }, 'malformed terminate item; skipped');
            count('terminate', 'malformed');
            continue;
          }
          const err = parsed.data.errors?.[0];
          events.push({
            kind: 'terminate',
            callId: parsed.data.id,
            status: parsed.data.status ?? (err ? 'FAILED' : 'COMPLETED'),
            errorCode: err?.code,
            errorTitle: err?.title,
            receivedAt,
          });
          count('terminate', 'queued');
        } else if (isMediaEvent(event)) {
          const parsed = parseMediaItem(rawCall);
          if (!parsed.ok) {
            logger.warn({ problem: issuesOf(parsed.error) }, 'malformed recording/transcription item; skipped');
            count('meta-media', 'malformed');
            continue;
          }
          const { kind, ...r } = parsed.result;
          events.push({ kind: 'meta-media', ...r, media: kind, receivedAt });
          count('meta-media', 'queued');
        } else {
          logger.warn({ event: String(event).slice(0, 40) }, 'unknown call event; skipped');
          count('call', 'malformed');
        }
      }
      for (const rawStatus of v.statuses ?? []) {
        const st = CallStatusSchema.safeParse(rawStatus);
        if (!st.success) {
          count('status', 'malformed');
          continue;
        }
        events.push({ kind: 'status', callId: st.data.id, status: st.data.status, receivedAt });
        count('status', 'queued');
      }
    }
  }
  return { events, report };
}

/** `messages` field: call-permission replies are queued; other messages are not ours to handle. */
function parseMessages(
  rawValue: unknown,
  ctx: {
    phoneNumberIds: readonly string[];
    logger: Logger;
    receivedAt: number;
    events: IngestEvent[];
    count: (kind: string, o: ParseOutcome) => void;
  },
): void {
  const value = ChangeValueSchema.safeParse(rawValue);
  if (!value.success) {
    ctx.count('messages', 'malformed');
    return;
  }
  const v = value.data;
  if (!ctx.phoneNumberIds.includes(v.metadata.phone_number_id)) {
    ctx.count('messages', 'skipped');
    return;
  }
  for (const raw of v.messages ?? []) {
    const interactive = (raw as { interactive?: { type?: unknown } } | null)?.interactive;
    if (interactive?.type !== 'call_permission_reply') {
      ctx.count('message', 'skipped');
      continue;
    }
    const parsed = PermissionReplySchema.safeParse(raw);
    if (!parsed.success) {
      ctx.logger.warn({ problem: issuesOf(parsed.error) }, 'malformed call_permission_reply; skipped');
      ctx.count('permission-reply', 'malformed');
      continue;
    }
    const r = parsed.data.interactive.call_permission_reply;
    ctx.events.push({
      kind: 'permission-reply',
      callId: `perm.${parsed.data.from}`,
      phoneNumberId: v.metadata.phone_number_id,
      waId: parsed.data.from,
      response: r.response,
      permanent: r.is_permanent === true,
      expiresAt: r.expiration_timestamp !== undefined ? r.expiration_timestamp * 1000 : undefined,
      receivedAt: ctx.receivedAt,
    });
    ctx.count('permission-reply', 'queued');
  }
}

/**
 * The http side of the ingest: verified, parsed events go into the ingest stream in one round trip; the 200 goes out
 * once they are there. The heavy work (call actors, jobs) happens in the worker role.
 */
export class WebhookIngest {
  constructor(
    readonly deps: {
      redis: RedisClient;
      keys: Keys;
      logger: Logger;
      metrics?: Metrics | undefined;
      phoneNumberIds: readonly string[];
    },
  ) {}

  /** Throws only when Redis fails, so the route answers 500 and Meta delivers again. */
  async handle(body: unknown): Promise<IngestReport> {
    const { events, report } = parseWebhook(body, this.deps);
    const stream = this.deps.keys.ingest;
    if (events.length === 1) {
      await this.deps.redis.xadd(stream, '*', 'e', JSON.stringify(events[0]));
    } else if (events.length > 1) {
      const m = this.deps.redis.multi();
      for (const e of events) m.xadd(stream, '*', 'e', JSON.stringify(e));
      const res = await m.exec();
      const failed = res?.find(([err]) => err);
      if (!res || failed) throw failed?.[0] ?? new Error('queuing the webhook failed');
    }
    return report;
  }
}

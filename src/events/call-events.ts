/**
 * Call events for outside systems (CRM, analytics): what is sent, how it is signed, and the job that carries one
 * delivery. Each event is a JSON POST `{id, type, at, call}` to every configured URL with
 * `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`; ids are stable, so a receiver dedupes by `id`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CallContext } from '../machines/call.types.js';
import type { CallEventCall, CallEventType } from '../shared/call-event.js';

/** The call as an event shows it, from the call's context after the transition that raised the event. */
export function callOf(callId: string, ctx: CallContext, extra: Partial<CallEventCall> = {}): CallEventCall {
  return {
    id: callId,
    caller: { waId: ctx.caller.waId ?? null, name: ctx.caller.name ?? null },
    businessNumber: ctx.line.businessNumber,
    phoneNumberId: ctx.line.phoneNumberId,
    agentId: ctx.agentId ?? null,
    offeredAgents: ctx.routing.offeredAgents,
    createdAt: ctx.times.createdAt,
    offeredAt: ctx.times.offeredAt ?? null,
    acceptedAt: ctx.times.acceptedAt ?? null,
    liveAt: ctx.times.liveAt ?? null,
    endedAt: ctx.times.endedAt ?? null,
    reason: ctx.outcome.reason ?? null,
    endedBy: ctx.outcome.endedBy ?? null,
    ...extra,
  };
}

/** `sha256=<hex>` of the raw body, as sent in `X-Signature-256`. */
export function signEvent(rawBody: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** For receivers (and tests): does `header` sign `rawBody` with `secret`? Constant-time. */
export function verifyEventSignature(rawBody: string, header: string | null | undefined, secret: string): boolean {
  if (!header) return false;
  const want = Buffer.from(signEvent(rawBody, secret));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** One delivery of one event to one URL: the body is fixed when the event is raised, so retries send the same bytes. */
export interface EventDeliveryJob {
  eventId: string;
  type: CallEventType;
  url: string;
  body: string;
}

/** Deterministic job id for (event, url): an outbox replay adds the same job, not a second one. No `:` allowed. */
export function eventJobId(eventId: string, url: string): string {
  return `${eventId}.${createHash('sha256').update(url).digest('hex').slice(0, 10)}`;
}

import { signBody } from '../http/webhook.routes.js';

/**
 * Builds and sends webhooks the way Meta does: the `calls` envelope, signed with X-Hub-Signature-256 over the exact
 * bytes sent. Can batch several items, send duplicates and reorder deliveries.
 * @see docs/whatsapp-platform.md §1
 */

export interface BusinessNumber {
  phoneNumberId: string;
  displayPhoneNumber: string;
  wabaId: string;
}

export interface ConnectItem {
  callId: string;
  from: string;
  name?: string | undefined;
  sdp: string;
  timestamp?: number;
}

export interface TerminateItem {
  callId: string;
  from: string;
  status: 'COMPLETED' | 'FAILED';
  errorCode?: number | undefined;
  errorTitle?: string | undefined;
  startTime?: number | undefined;
  endTime?: number | undefined;
  /** @default 'USER_INITIATED' */
  direction?: 'USER_INITIATED' | 'BUSINESS_INITIATED' | undefined;
}

const nowS = () => Math.floor(Date.now() / 1000);

export function connectCall(biz: BusinessNumber, item: ConnectItem): Record<string, unknown> {
  return {
    id: item.callId,
    from: item.from,
    to: biz.displayPhoneNumber,
    event: 'connect',
    timestamp: String(item.timestamp ?? nowS()),
    direction: 'USER_INITIATED',
    session: { sdp: item.sdp, sdp_type: 'offer' },
  };
}

export function terminateCall(biz: BusinessNumber, item: TerminateItem): Record<string, unknown> {
  const bi = item.direction === 'BUSINESS_INITIATED';
  const call: Record<string, unknown> = {
    id: item.callId,
    from: bi ? biz.displayPhoneNumber : item.from,
    to: bi ? item.from : biz.displayPhoneNumber,
    event: 'terminate',
    direction: item.direction ?? 'USER_INITIATED',
    timestamp: String(nowS()),
    status: item.status,
  };
  if (item.startTime !== undefined && item.endTime !== undefined) {
    call.start_time = String(item.startTime);
    call.end_time = String(item.endTime);
    call.duration = item.endTime - item.startTime;
  }
  if (item.errorCode !== undefined) {
    call.errors = [
      {
        code: item.errorCode,
        title: item.errorTitle ?? `error ${item.errorCode}`,
        message: item.errorTitle ?? `error ${item.errorCode}`,
        error_data: { details: item.errorTitle ?? '' },
      },
    ];
  }
  return call;
}

/** A business-initiated call's `connect`: Meta's answer to our offer. */
export function answerCall(
  biz: BusinessNumber,
  item: { callId: string; to: string; sdp: string; bizOpaque?: string | undefined },
): Record<string, unknown> {
  return {
    id: item.callId,
    from: biz.displayPhoneNumber,
    to: item.to,
    event: 'connect',
    timestamp: String(nowS()),
    direction: 'BUSINESS_INITIATED',
    session: { sdp: item.sdp, sdp_type: 'answer' },
    ...(item.bizOpaque ? { biz_opaque_callback_data: item.bizOpaque } : {}),
  };
}

/** A business-initiated call's status (`RINGING`, `ACCEPTED`, `REJECTED`) on the `calls` field. */
export function statusEnvelope(
  biz: BusinessNumber,
  item: { callId: string; to: string; status: 'RINGING' | 'ACCEPTED' | 'REJECTED' },
): Record<string, unknown> {
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: biz.displayPhoneNumber, phone_number_id: biz.phoneNumberId },
    statuses: [
      { id: item.callId, timestamp: String(nowS()), type: 'call', status: item.status, recipient_id: item.to },
    ],
  };
  return { object: 'whatsapp_business_account', entry: [{ id: biz.wabaId, changes: [{ field: 'calls', value }] }] };
}

/** The user's answer to a call-permission request: an interactive message on the `messages` field. */
export function permissionReplyEnvelope(
  biz: BusinessNumber,
  item: {
    from: string;
    requestId: string;
    response: 'accept' | 'reject';
    permanent: boolean;
    expiresAt?: number;
    /** `automatic`: granted by calling the business with callback permission on. @default 'user_action' */
    source?: 'user_action' | 'automatic';
  },
): Record<string, unknown> {
  const reply: Record<string, unknown> = {
    response: item.response,
    is_permanent: item.permanent,
    response_source: item.source ?? 'user_action',
  };
  if (item.response === 'accept' && !item.permanent && item.expiresAt !== undefined)
    reply.expiration_timestamp = Math.floor(item.expiresAt / 1000);
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: biz.displayPhoneNumber, phone_number_id: biz.phoneNumberId },
    contacts: [{ wa_id: item.from }],
    messages: [
      {
        from: item.from,
        id: `wamid.${Math.random().toString(36).slice(2)}`,
        timestamp: String(nowS()),
        type: 'interactive',
        context: { from: biz.displayPhoneNumber, id: item.requestId },
        interactive: { type: 'call_permission_reply', call_permission_reply: reply },
      },
    ],
  };
  return { object: 'whatsapp_business_account', entry: [{ id: biz.wabaId, changes: [{ field: 'messages', value }] }] };
}

/** One `calls` change with the given call items (a batch when several). */
export function callsEnvelope(
  biz: BusinessNumber,
  calls: Record<string, unknown>[],
  contacts: { waId: string; name?: string | undefined }[] = [],
): Record<string, unknown> {
  const value: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: biz.displayPhoneNumber, phone_number_id: biz.phoneNumberId },
    calls,
  };
  if (contacts.length) {
    value.contacts = contacts.map((c) => (c.name ? { profile: { name: c.name }, wa_id: c.waId } : { wa_id: c.waId }));
  }
  return { object: 'whatsapp_business_account', entry: [{ id: biz.wabaId, changes: [{ field: 'calls', value }] }] };
}

export interface SendResult {
  status: number;
  body: unknown;
}

export class WebhookSender {
  constructor(
    readonly url: string,
    readonly appSecret: string,
  ) {}

  /** Posts `body` signed like Meta (or with `signature` instead, to test refusals). */
  async send(body: unknown, opts: { signature?: string | null; raw?: string } = {}): Promise<SendResult> {
    const raw = opts.raw ?? JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const sig = opts.signature === undefined ? signBody(raw, this.appSecret) : opts.signature;
    if (sig !== null) headers['x-hub-signature-256'] = sig;
    const res = await fetch(this.url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: res.status, body: parsed };
  }
}

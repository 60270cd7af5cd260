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
  const call: Record<string, unknown> = {
    id: item.callId,
    from: item.from,
    to: biz.displayPhoneNumber,
    event: 'terminate',
    direction: 'USER_INITIATED',
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

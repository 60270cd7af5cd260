import type { GraphAction } from '../machines/call.effects.js';
import type { GraphConfig } from '../shared/config.js';
import { errorMessage, GraphApiError } from '../shared/errors.js';
import { type CaptureOptIn, optInBody } from '../shared/meta-capture.js';

export interface GraphCallAction {
  phoneNumberId: string;
  callId: string;
  action: GraphAction;
  /** Our answer, for pre_accept and accept. */
  sdp?: string | undefined;
  /** Meta-side recording / transcription, asked for with accept. */
  capture?: CaptureOptIn | undefined;
}

export interface OutboundConnect {
  phoneNumberId: string;
  /** The user's number (digits). */
  to: string;
  /** Our complete offer. */
  sdp: string;
  /** Echoed back by Meta in the call's webhooks (max 512 characters). */
  bizOpaque?: string | undefined;
  /** Meta-side recording / transcription of the call. */
  capture?: CaptureOptIn | undefined;
}

/** One of Meta's limits on an action (`actions[].limits[]`). */
export interface PermissionLimit {
  timePeriod: string;
  maxAllowed: number;
  currentUsage: number;
  /** Epoch ms when the limit frees up again, when Meta says. */
  expiresAt: number | undefined;
}

/** What `GET /call_permissions` says about one user. */
export interface CallPermissionState {
  status: 'no_permission' | 'temporary' | 'permanent' | 'unknown';
  expiresAt: number | undefined;
  canRequest: boolean;
  canCall: boolean;
  requestLimits: PermissionLimit[];
  callLimits: PermissionLimit[];
}

const secondsToMs = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
};

/** Reads Meta's call-permission answer defensively (unknown fields ignored, missing ones defaulted). */
function parseCallPermission(body: unknown): CallPermissionState {
  const b = (body ?? {}) as {
    permission?: { status?: unknown; expiration_time?: unknown };
    actions?: { action_name?: unknown; can_perform_action?: unknown; limits?: unknown }[];
  };
  const status = ['no_permission', 'temporary', 'permanent'].includes(b.permission?.status as string)
    ? (b.permission?.status as CallPermissionState['status'])
    : 'unknown';
  const action = (name: string) => (Array.isArray(b.actions) ? b.actions : []).find((a) => a?.action_name === name);
  const limits = (a: ReturnType<typeof action>): PermissionLimit[] =>
    (Array.isArray(a?.limits) ? (a.limits as Record<string, unknown>[]) : []).map((l) => ({
      timePeriod: String(l.time_period ?? ''),
      maxAllowed: Number(l.max_allowed ?? 0),
      currentUsage: Number(l.current_usage ?? 0),
      expiresAt: secondsToMs(l.limit_expiration_time),
    }));
  const req = action('send_call_permission_request');
  const call = action('start_call');
  return {
    status,
    expiresAt: secondsToMs(b.permission?.expiration_time),
    canRequest: req?.can_perform_action === true,
    canCall: call?.can_perform_action === true,
    requestLimits: limits(req),
    callLimits: limits(call),
  };
}

/** The one Graph API operation this service needs. Tests may use the simulator or a fake. */
export interface GraphClient {
  callAction(input: GraphCallAction): Promise<void>;
  /** Starts a business-initiated call; returns Meta's call id. */
  connect(input: OutboundConnect): Promise<{ metaCallId: string }>;
}

interface MetaErrorBody {
  error?: { message?: string; type?: string; code?: number; error_data?: { details?: string } };
}

/**
 * `POST {base}/{version}/{phone_number_id}/calls` with a bearer token.
 * @see docs/whatsapp-platform.md §2: `sdp_type` on pre_accept/accept is "answer" (Meta's tables say "offer"; wrong).
 */
export class HttpGraphClient implements GraphClient {
  readonly #cfg: GraphConfig;

  constructor(cfg: GraphConfig) {
    this.#cfg = cfg;
  }

  async callAction(input: GraphCallAction): Promise<void> {
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      call_id: input.callId,
      action: input.action,
    };
    if (input.action === 'pre_accept' || input.action === 'accept') {
      if (!input.sdp) throw new GraphApiError(`${input.action} needs our answer SDP`, { retryable: false });
      body.session = { sdp_type: 'answer', sdp: input.sdp };
    }
    // The opt-in goes with accept only (pre_accept does not take it).
    if (input.action === 'accept') Object.assign(body, optInBody(input.capture));
    const res = (await this.#request('POST', `${encodeURIComponent(input.phoneNumberId)}/calls`, body)) as {
      success?: boolean;
    };
    // A 200 without success:true is not a success.
    if (res?.success !== true)
      throw new GraphApiError(`Graph API answered 200 without success: ${JSON.stringify(res).slice(0, 200)}`, {
        httpStatus: 200,
        retryable: true,
      });
  }

  /** Starts a business-initiated call with our complete offer; returns Meta's call id. */
  async connect(input: OutboundConnect): Promise<{ metaCallId: string }> {
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      to: input.to,
      action: 'connect',
      session: { sdp_type: 'offer', sdp: input.sdp },
      ...optInBody(input.capture),
    };
    if (input.bizOpaque) body.biz_opaque_callback_data = input.bizOpaque.slice(0, 512);
    const res = (await this.#request('POST', `${encodeURIComponent(input.phoneNumberId)}/calls`, body)) as {
      calls?: { id?: unknown }[];
    };
    const id = res?.calls?.[0]?.id;
    if (typeof id !== 'string' || id === '')
      throw new GraphApiError('Graph API connect answered without a call id', { httpStatus: 200, retryable: false });
    return { metaCallId: id };
  }

  /** `GET /{phone_number_id}/call_permissions?user_wa_id=…`: the user's permission and the live limits. */
  async callPermission(phoneNumberId: string, userWaId: string): Promise<CallPermissionState> {
    const res = await this.#request(
      'GET',
      `${encodeURIComponent(phoneNumberId)}/call_permissions?user_wa_id=${encodeURIComponent(userWaId)}`,
    );
    return parseCallPermission(res);
  }

  /** Sends the interactive call-permission request message; returns its message id. */
  async sendPermissionRequest(phoneNumberId: string, to: string, text: string): Promise<{ messageId: string }> {
    const res = (await this.#request('POST', `${encodeURIComponent(phoneNumberId)}/messages`, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'interactive',
      interactive: {
        type: 'call_permission_request',
        action: { name: 'call_permission_request' },
        body: { text: text.slice(0, 1024) },
      },
    })) as { messages?: { id?: unknown }[] };
    const id = res?.messages?.[0]?.id;
    return { messageId: typeof id === 'string' ? id : '' };
  }

  /** One Graph request: parsed JSON on 2xx, {@link GraphApiError} (with Meta's code) otherwise. */
  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.#cfg.baseUrl}/${this.#cfg.version}/${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#cfg.accessToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#cfg.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new GraphApiError(
        timedOut
          ? `Graph API did not answer within ${this.#cfg.timeoutMs} ms`
          : `Graph API unreachable: ${errorMessage(err)}`,
        { retryable: true, cause: err },
      );
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined; // not JSON (a proxy's error page)
    }
    if (res.ok) {
      if (parsed === undefined)
        throw new GraphApiError(`Graph API answered ${res.status} without JSON: ${text.slice(0, 200)}`, {
          httpStatus: res.status,
          retryable: true,
        });
      return parsed;
    }
    const err = (parsed as MetaErrorBody | undefined)?.error;
    const code = err?.code;
    const msg = err?.message ?? (text.slice(0, 200) || res.statusText);
    const details = err?.error_data?.details;
    throw new GraphApiError(`Graph API ${res.status}${code ? ` (code ${code})` : ''}: ${msg}`, {
      httpStatus: res.status,
      ...(code !== undefined ? { metaCode: code } : {}),
      ...(details !== undefined ? { details } : {}),
      // 429 and 5xx can succeed later; any other 4xx means the request itself is wrong.
      retryable: res.status === 429 || res.status >= 500,
    });
  }
}

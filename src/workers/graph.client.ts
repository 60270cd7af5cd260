import type { GraphAction } from '../machines/call.effects.js';
import type { GraphConfig } from '../shared/config.js';
import { errorMessage, GraphApiError } from '../shared/errors.js';

export interface GraphCallAction {
  phoneNumberId: string;
  callId: string;
  action: GraphAction;
  /** Our answer, for pre_accept and accept. */
  sdp?: string | undefined;
}

/** The one Graph API operation this service needs. Tests may use the simulator or a fake. */
export interface GraphClient {
  callAction(input: GraphCallAction): Promise<void>;
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
    const url = `${this.#cfg.baseUrl}/${this.#cfg.version}/${encodeURIComponent(input.phoneNumberId)}/calls`;
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      call_id: input.callId,
      action: input.action,
    };
    if (input.action === 'pre_accept' || input.action === 'accept') {
      if (!input.sdp) throw new GraphApiError(`${input.action} needs our answer SDP`, { retryable: false });
      body.session = { sdp_type: 'answer', sdp: input.sdp };
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#cfg.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
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
    if (res.ok) {
      // A 200 without success:true is not a success.
      let ok = false;
      try {
        ok = (JSON.parse(text) as { success?: boolean }).success === true;
      } catch {
        ok = false;
      }
      if (ok) return;
      throw new GraphApiError(`Graph API answered 200 without success: ${text.slice(0, 200)}`, {
        httpStatus: res.status,
        retryable: true,
      });
    }
    let parsed: MetaErrorBody = {};
    try {
      parsed = JSON.parse(text) as MetaErrorBody;
    } catch {
      // not JSON (a proxy's error page)
    }
    const code = parsed.error?.code;
    const msg = parsed.error?.message ?? (text.slice(0, 200) || res.statusText);
    throw new GraphApiError(`Graph API ${res.status}${code ? ` (code ${code})` : ''}: ${msg}`, {
      httpStatus: res.status,
      ...(code !== undefined ? { metaCode: code } : {}),
      // 429 and 5xx can succeed later; any other 4xx means the request itself is wrong.
      retryable: res.status === 429 || res.status >= 500,
    });
  }
}

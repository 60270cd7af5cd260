/**
 * The simulator's call permissions: what each WhatsApp user has granted the business, and the limits Meta applies
 * to business-initiated calling. Limits are counted over sliding windows, like Meta's `limits[]`.
 */

export type PermissionStatus = 'no_permission' | 'temporary' | 'permanent';

/** How a simulated WhatsApp user behaves towards the business. */
export interface SimUserOptions {
  /** What the user has granted so far. @default 'none' */
  permission?: 'none' | 'temporary' | 'permanent';
  /** What the user does when the business calls. @default 'accept' */
  answer?: 'accept' | 'reject' | 'ignore';
  /** The phone rings this long before the user accepts or rejects. @default 1500 */
  answerAfterMs?: number;
  /** Meta gives up on an ignored call after this. @default 30000 */
  ringTimeoutMs?: number;
  /** How the user replies to a call-permission request; unset: they never reply. */
  replyToRequest?: 'accept' | 'reject' | undefined;
  /** Reply this long after the request. @default 300 */
  replyAfterMs?: number;
  /** The user's voice. @default 880 */
  toneHz?: number;
  /** Tones to look for in what reaches the user. @default [] */
  watchHz?: readonly number[];
}

export const DAY_MS = 86_400_000;

/** Meta's limits (see docs/whatsapp-business-calls.md). */
export const LIMITS = {
  requestsPer24h: 1,
  requestsPer7d: 2,
  connectedCallsPer24h: 100,
  /** Consecutive unanswered or rejected calls that revoke the permission. */
  unansweredRevokes: 4,
  temporaryGrantMs: 7 * DAY_MS,
} as const;

export interface SimUser {
  waId: string;
  opts: Required<Omit<SimUserOptions, 'replyToRequest' | 'permission'>> & Pick<SimUserOptions, 'replyToRequest'>;
  status: PermissionStatus;
  expiresAt: number | undefined;
  /** When permission requests were sent (ms). */
  requests: number[];
  /** When business-initiated calls connected (ms). */
  connected: number[];
  /** Unanswered or rejected business-initiated calls in a row. */
  unanswered: number;
}

export type Refusal = { code: number; status: number; message: string; details?: string };

const seconds = (ms: number) => Math.floor(ms / 1000);

export class SimPermissions {
  readonly users = new Map<string, SimUser>();

  constructor(readonly now: () => number = Date.now) {}

  add(waId: string, o: SimUserOptions = {}): SimUser {
    const at = this.now();
    const user: SimUser = {
      waId,
      opts: {
        answer: o.answer ?? 'accept',
        answerAfterMs: o.answerAfterMs ?? 1500,
        ringTimeoutMs: o.ringTimeoutMs ?? 30_000,
        replyToRequest: o.replyToRequest,
        replyAfterMs: o.replyAfterMs ?? 300,
        toneHz: o.toneHz ?? 880,
        watchHz: o.watchHz ?? [],
      },
      status: 'no_permission',
      expiresAt: undefined,
      requests: [],
      connected: [],
      unanswered: 0,
    };
    if (o.permission === 'temporary') this.grant(user, false, at);
    if (o.permission === 'permanent') this.grant(user, true, at);
    this.users.set(waId, user);
    return user;
  }

  /** The user's status now (a temporary grant past its expiry is gone). */
  status(u: SimUser): PermissionStatus {
    if (u.status === 'temporary' && u.expiresAt !== undefined && u.expiresAt <= this.now()) {
      u.status = 'no_permission';
      u.expiresAt = undefined;
    }
    return u.status;
  }

  grant(u: SimUser, permanent: boolean, at = this.now()): void {
    u.status = permanent ? 'permanent' : 'temporary';
    u.expiresAt = permanent ? undefined : at + LIMITS.temporaryGrantMs;
    u.unanswered = 0;
  }

  revoke(u: SimUser): void {
    u.status = 'no_permission';
    u.expiresAt = undefined;
  }

  #within(list: number[], ms: number): number[] {
    const since = this.now() - ms;
    return list.filter((t) => t > since);
  }

  /** Why a call-permission request may not be sent now, or undefined. */
  refuseRequest(u: SimUser): Refusal | undefined {
    if (this.status(u) === 'permanent')
      return { code: 138017, status: 400, message: 'A permanent call permission already exists; request not sent' };
    const day = this.#within(u.requests, DAY_MS);
    const week = this.#within(u.requests, 7 * DAY_MS);
    if (day.length >= LIMITS.requestsPer24h || week.length >= LIMITS.requestsPer7d) {
      return { code: 138009, status: 400, message: 'Call permission request limit reached for this user' };
    }
    return undefined;
  }

  /** Why a business-initiated call may not start now, or undefined. */
  refuseCall(u: SimUser): Refusal | undefined {
    if (this.status(u) === 'no_permission')
      return { code: 138006, status: 401, message: 'No approved call permission from the recipient' };
    const day = this.#within(u.connected, DAY_MS);
    if (day.length >= LIMITS.connectedCallsPer24h) {
      const next = seconds(Math.min(...day) + DAY_MS);
      return {
        code: 138012,
        status: 400,
        message: 'Business-initiated call limit for this user in 24 hours reached',
        details: `next call allowed at ${next}`,
      };
    }
    return undefined;
  }

  recordRequest(u: SimUser): void {
    u.requests.push(this.now());
  }

  /** A connected call resets the request limits and the unanswered streak. */
  recordConnected(u: SimUser): void {
    u.connected.push(this.now());
    u.requests = [];
    u.unanswered = 0;
  }

  /** Returns true when this call revoked the permission. */
  recordUnanswered(u: SimUser): boolean {
    u.unanswered++;
    if (u.unanswered >= LIMITS.unansweredRevokes && u.status !== 'no_permission') {
      this.revoke(u);
      return true;
    }
    return false;
  }

  /** The body of `GET /{phone_number_id}/call_permissions?user_wa_id=…`. */
  view(u: SimUser): Record<string, unknown> {
    const status = this.status(u);
    const reqDay = this.#within(u.requests, DAY_MS);
    const reqWeek = this.#within(u.requests, 7 * DAY_MS);
    const callsDay = this.#within(u.connected, DAY_MS);
    const limit = (period: string, max: number, used: number[], windowMs: number) => ({
      time_period: period,
      max_allowed: max,
      current_usage: used.length,
      ...(used.length >= max ? { limit_expiration_time: seconds(Math.min(...used) + windowMs) } : {}),
    });
    return {
      messaging_product: 'whatsapp',
      permission: { status, ...(u.expiresAt !== undefined ? { expiration_time: seconds(u.expiresAt) } : {}) },
      actions: [
        {
          action_name: 'send_call_permission_request',
          can_perform_action: this.refuseRequest(u) === undefined,
          limits: [
            limit('PT24H', LIMITS.requestsPer24h, reqDay, DAY_MS),
            limit('P7D', LIMITS.requestsPer7d, reqWeek, 7 * DAY_MS),
          ],
        },
        {
          action_name: 'start_call',
          can_perform_action: this.refuseCall(u) === undefined,
          limits: [limit('PT24H', LIMITS.connectedCallsPer24h, callsDay, DAY_MS)],
        },
      ],
    };
  }
}

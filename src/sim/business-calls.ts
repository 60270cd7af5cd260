/**
 * Business-initiated calling at the simulated Meta: `connect` (start a call to a user who gave permission), the
 * call-permission state (`GET /call_permissions`), the call-permission request message, and the users themselves:
 * a user answers a call with an ICE-lite answer (connect webhook), rings (RINGING), then accepts (ACCEPTED, and
 * speaks), rejects (REJECTED, terminate) or lets it ring out (terminate). Limits and error codes are Meta's.
 */
import { randomBytes } from 'node:crypto';
import { validateBusinessOffer } from '../media/sdp/validate.js';
import type { Logger } from '../shared/log.js';
import { ANNOUNCEMENT_HZ, ANNOUNCEMENT_MS } from './capture.js';
import { type GraphReply, metaError } from './meta-error.js';
import { SimPermissions, type SimUser, type SimUserOptions } from './permissions.js';
import type { SimCall, SimCallState } from './sim-types.js';
import { UserPeer } from './user-peer.js';
import {
  answerCall,
  type BusinessNumber,
  callsEnvelope,
  permissionReplyEnvelope,
  type SendResult,
  statusEnvelope,
  terminateCall,
  type WebhookSender,
} from './webhook-sender.js';

/** What the simulator lends this module. */
export interface BusinessCallsHost {
  readonly business: BusinessNumber;
  readonly logger: Logger;
  readonly calls: Map<string, SimCall>;
  readonly sender: WebhookSender;
  register(call: Omit<SimCall, 'waitFor'>): SimCall;
  setState(call: SimCall, state: SimCallState): void;
  end(call: SimCall, by: NonNullable<SimCall['endedBy']>): void;
  after(ms: number, fn: () => void): void;
}

/** A call-permission request the business sent. */
export interface SentPermissionRequest {
  id: string;
  to: string;
  at: number;
}

const DIGITS = /^\d{6,20}$/;

export class BusinessCalls {
  readonly permissions = new SimPermissions();
  readonly permissionRequests: SentPermissionRequest[] = [];
  /**
   * The business's `callback_permission_status`: a user who calls grants call permission automatically (a
   * `call_permission_reply` with `response_source: automatic` follows). @default false
   */
  callbackPermission = false;
  readonly #host: BusinessCallsHost;

  constructor(host: BusinessCallsHost) {
    this.#host = host;
  }

  /** A WhatsApp user the business may try to call. */
  addUser(waId: string, opts: SimUserOptions = {}): SimUser {
    return this.permissions.add(waId, opts);
  }

  /** `POST /{id}/calls` with `action: connect`. */
  connect(body: Record<string, unknown>): GraphReply {
    const to = body.to;
    if (typeof to !== 'string' || !DIGITS.test(to)) return metaError(400, 100, 'to must be a phone number (digits)');
    const session = body.session as { sdp_type?: unknown; sdp?: unknown } | undefined;
    if (session?.sdp_type !== 'offer') return metaError(400, 100, 'session.sdp_type must be "offer" for connect');
    const check = validateBusinessOffer(session.sdp);
    if (!check.ok) return metaError(400, 100, 'Invalid SDP', check.errors.join('; '));
    const opaque = body.biz_opaque_callback_data;
    if (opaque !== undefined && (typeof opaque !== 'string' || opaque.length > 512))
      return metaError(400, 100, 'biz_opaque_callback_data must be a string of at most 512 characters');
    const user = this.permissions.users.get(to);
    if (!user) return metaError(400, 138001, 'Receiver is not callable (not on WhatsApp)');
    const refused = this.permissions.refuseCall(user);
    if (refused) return metaError(refused.status, refused.code, refused.message, refused.details);
    const busy = [...this.#host.calls.values()].some((c) => c.to === to && c.state !== 'ended');
    if (busy) return metaError(400, 138003, 'Duplicate call: there is already a call with this receiver');
    const callId = `wacid.${randomBytes(24).toString('base64url')}`;
    const offer = session.sdp as string;
    return {
      status: 200,
      body: { messaging_product: 'whatsapp', calls: [{ id: callId }] },
      commit: () => {
        const call = this.#host.register({
          callId,
          direction: 'BUSINESS_INITIATED',
          from: to,
          to,
          name: undefined,
          state: 'ringing',
          caller: undefined,
          user: undefined,
          answerSdp: undefined,
          createdAt: Date.now(),
          acceptedAt: undefined,
          endedAt: undefined,
          endedBy: undefined,
        });
        // Meta answers after its 200 has gone out, the way the webhook follows the API response.
        setImmediate(() => void this.#ring(call, user, offer, typeof opaque === 'string' ? opaque : undefined));
      },
    };
  }

  /** `GET /{id}/call_permissions?user_wa_id=…` */
  permissionsView(userWaId: string | undefined): GraphReply {
    if (!userWaId || !DIGITS.test(userWaId)) return metaError(400, 100, 'user_wa_id must be a phone number (digits)');
    const user = this.permissions.users.get(userWaId) ?? this.permissions.add(userWaId, {});
    return { status: 200, body: this.permissions.view(user) };
  }

  /** `POST /{id}/messages`: only the interactive call-permission request is simulated. */
  message(body: Record<string, unknown>): GraphReply {
    const to = body.to;
    if (typeof to !== 'string' || !DIGITS.test(to)) return metaError(400, 100, 'to must be a phone number (digits)');
    const interactive = body.interactive as { type?: unknown; action?: { name?: unknown } } | undefined;
    if (body.type !== 'interactive' || interactive?.type !== 'call_permission_request')
      return metaError(400, 100, 'Only interactive call_permission_request messages are simulated');
    if (interactive.action?.name !== 'call_permission_request')
      return metaError(400, 100, 'interactive.action.name must be "call_permission_request"');
    const user = this.permissions.users.get(to);
    if (!user) return metaError(400, 131026, 'Message undeliverable (not a WhatsApp user)');
    const refused = this.permissions.refuseRequest(user);
    if (refused) return metaError(refused.status, refused.code, refused.message, refused.details);
    const id = `wamid.${randomBytes(18).toString('base64url')}`;
    return {
      status: 200,
      body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id }] },
      commit: () => {
        this.permissions.recordRequest(user);
        this.permissionRequests.push({ id, to, at: Date.now() });
        const reply = user.opts.replyToRequest;
        if (reply) this.#host.after(user.opts.replyAfterMs, () => void this.replyToRequest(to, reply, id));
      },
    };
  }

  /** The user answers a permission request (also callable from tests). */
  async replyToRequest(waId: string, response: 'accept' | 'reject', requestId?: string): Promise<void> {
    const user = this.permissions.users.get(waId);
    if (!user) throw new Error(`unknown sim user ${waId}`);
    if (response === 'accept') this.permissions.grant(user, false);
    const id = requestId ?? this.permissionRequests.findLast((r) => r.to === waId)?.id ?? 'wamid.none';
    await this.#send(
      permissionReplyEnvelope(this.#host.business, {
        from: waId,
        requestId: id,
        response,
        permanent: false,
        ...(user.expiresAt !== undefined ? { expiresAt: user.expiresAt } : {}),
      }),
    );
  }

  /** A user called the business: with callback permission on, they grant call permission by calling. */
  async userCalled(waId: string, callId: string): Promise<void> {
    if (!this.callbackPermission) return;
    const user = this.permissions.users.get(waId) ?? this.permissions.add(waId, {});
    if (this.permissions.status(user) !== 'no_permission') return;
    this.permissions.grant(user, false);
    await this.#send(
      permissionReplyEnvelope(this.#host.business, {
        from: waId,
        requestId: callId,
        response: 'accept',
        permanent: false,
        source: 'automatic',
        ...(user.expiresAt !== undefined ? { expiresAt: user.expiresAt } : {}),
      }),
    );
  }

  /** The user hangs up a business-initiated call. */
  userHangsUp(call: SimCall): Promise<SendResult> {
    this.#host.end(call, 'caller');
    return this.#terminate(call, 'COMPLETED');
  }

  async #ring(call: SimCall, user: SimUser, offer: string, opaque: string | undefined): Promise<void> {
    const log = this.#host.logger;
    let peer: UserPeer;
    try {
      peer = await UserPeer.answer(offer, {
        toneHz: user.opts.toneHz,
        watchHz: user.opts.watchHz,
        name: call.callId.slice(0, 16),
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'sim: the user could not answer the business offer');
      this.#host.end(call, 'media-timeout');
      await this.#terminate(call, 'FAILED', 138019);
      return;
    }
    if (call.state === 'ended') {
      peer.close();
      return;
    }
    call.user = peer;
    call.answerSdp = peer.answerSdp;
    const biz = this.#host.business;
    await this.#send(
      callsEnvelope(
        biz,
        [answerCall(biz, { callId: call.callId, to: call.to!, sdp: peer.answerSdp, bizOpaque: opaque })],
        [{ waId: call.to! }],
      ),
    );
    await this.#send(statusEnvelope(biz, { callId: call.callId, to: call.to!, status: 'RINGING' }));
    const { answer, answerAfterMs, ringTimeoutMs } = user.opts;
    if (answer === 'ignore') {
      this.#host.after(ringTimeoutMs, () => {
        if (call.state !== 'ringing') return;
        this.permissions.recordUnanswered(user);
        this.#host.end(call, 'not-answered');
        void this.#terminate(call, 'COMPLETED');
      });
      return;
    }
    this.#host.after(answerAfterMs, () => {
      if (call.state !== 'ringing') return;
      if (answer === 'reject') {
        this.permissions.recordUnanswered(user);
        this.#host.end(call, 'rejected');
        void this.#send(statusEnvelope(biz, { callId: call.callId, to: call.to!, status: 'REJECTED' })).then(() =>
          this.#terminate(call, 'COMPLETED'),
        );
        return;
      }
      peer.pickUp();
      if (call.capture) peer.playTone(ANNOUNCEMENT_HZ, ANNOUNCEMENT_MS);
      call.acceptedAt = Date.now();
      this.permissions.recordConnected(user);
      this.#host.setState(call, 'accepted');
      void this.#send(statusEnvelope(biz, { callId: call.callId, to: call.to!, status: 'ACCEPTED' }));
    });
  }

  #terminate(call: SimCall, status: 'COMPLETED' | 'FAILED', errorCode?: number): Promise<SendResult> {
    const start = call.acceptedAt ? Math.floor(call.acceptedAt / 1000) : undefined;
    return this.#send(
      callsEnvelope(this.#host.business, [
        terminateCall(this.#host.business, {
          callId: call.callId,
          from: call.to!,
          status,
          errorCode,
          direction: 'BUSINESS_INITIATED',
          startTime: start,
          endTime: start !== undefined ? Math.floor(Date.now() / 1000) : undefined,
        }),
      ]),
    );
  }

  /** Posts a webhook; a failed delivery is logged and reported as status 0. */
  #send(body: Record<string, unknown>): Promise<SendResult> {
    return this.#host.sender.send(body).catch((err: Error) => {
      this.#host.logger.warn({ err: err.message }, 'sim: webhook delivery failed');
      return { status: 0, body: err.message };
    });
  }
}

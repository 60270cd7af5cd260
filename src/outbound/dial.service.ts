/**
 * `call:dial`: an agent calls a WhatsApp user. Local checks first (the number, the do-not-call list, one dial at a
 * time, the agent free), then Meta's live permission state (`GET /call_permissions`): without permission a
 * call-permission request goes out (when Meta's limits allow) and no call is attempted; with it, and within the
 * call limits, the call actor is created `dialing` on a media node. Meta's refusals reach the agent in plain words.
 * @see docs/whatsapp-business-calls.md
 */
import { randomUUID } from 'node:crypto';
import { agentRoom, type Broadcaster, emitTo } from '../agents/notifier.js';
import type { PresenceService } from '../agents/presence.js';
import type { Deliverer } from '../machines/deliver.js';
import type { NodeRegistry } from '../media/node-registry.js';
import type { Config } from '../shared/config.js';
import { GraphApiError } from '../shared/errors.js';
import type { IngestEvent } from '../shared/ingest-event.js';
import type { Keys } from '../shared/keys.js';
import { type Logger, maskNumber } from '../shared/log.js';
import { plainMetaError } from '../shared/meta-errors.js';
import type { AckError } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import type { CallPermissionState, PermissionLimit } from '../workers/graph.client.js';

/** What dialing needs from the Graph API (declared here, where it is used). */
export interface PermissionGraph {
  callPermission(phoneNumberId: string, userWaId: string): Promise<CallPermissionState>;
  sendPermissionRequest(phoneNumberId: string, to: string, text: string): Promise<{ messageId: string }>;
}

export type DialResult =
  | { ok: true; callId: string }
  | { ok: false; error: AckError; message: string; retryAt?: number };

const fail = (error: AckError, message: string, retryAt?: number): DialResult => ({
  ok: false,
  error,
  message,
  ...(retryAt !== undefined ? { retryAt } : {}),
});

/** How long a dial's checks may hold the agent's dial lock at most. */
const DIAL_LOCK_MS = 15_000;
/** A permission request's asker is remembered as long as a temporary grant would last. */
const ASK_TTL_MS = 7 * 86_400_000;

/** `+91 98000-12345` → `919800012345`; undefined unless 8 to 15 digits remain. */
function normalizeNumber(raw: string): string | undefined {
  const digits = raw
    .trim()
    .replace(/^\+/, '')
    .replace(/[\s().-]/g, '');
  return /^\d{8,15}$/.test(digits) ? digits : undefined;
}

function when(ms: number | undefined): string {
  return ms === undefined ? 'later' : `after ${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The latest moment a full limit frees up, among those at their maximum. */
function limitFreesAt(limits: PermissionLimit[]): number | undefined {
  const full = limits.filter((l) => l.maxAllowed > 0 && l.currentUsage >= l.maxAllowed && l.expiresAt !== undefined);
  return full.length ? Math.max(...full.map((l) => l.expiresAt!)) : undefined;
}

export class DialService {
  constructor(
    readonly deps: {
      deliverer: Deliverer;
      presence: PresenceService;
      nodes: NodeRegistry;
      graph: PermissionGraph;
      redis: RedisClient;
      keys: Keys;
      config: Pick<Config, 'outbound' | 'calls' | 'whatsapp'>;
      broadcaster: Broadcaster;
      logger: Logger;
      /** The number's recording policy (routing file `record`). */
      recordFor?: ((phoneNumberId: string) => 'off' | 'all' | 'agent') | undefined;
    },
  ) {}

  async dial(agentId: string, rawTo: string): Promise<DialResult> {
    const { redis, keys, config, presence } = this.deps;
    const to = normalizeNumber(rawTo);
    if (!to)
      return fail('bad-number', 'Enter a WhatsApp number with its country code: 8 to 15 digits, e.g. +91 98000 12345.');
    if (config.outbound.doNotCall.includes(to))
      return fail('not-callable', 'This number is on the do-not-call list; it may not be called.');
    if (!(await redis.set(keys.outbound.dialLock(agentId), to, 'PX', DIAL_LOCK_MS, 'NX')))
      return fail('dial-in-progress', 'You are already placing a call; wait for it to go through.');
    try {
      if (await presence.claimedBy(agentId)) return fail('busy', 'You are already on a call.');
      return await this.#checkAndPlace(agentId, to);
    } finally {
      await redis.del(keys.outbound.dialLock(agentId));
    }
  }

  /**
   * Before a callback task is dialled: the same permission and limit checks as a dial (a request goes out when the
   * user has no permission). Undefined when the call may go out; else the refusal for the accepting agent.
   */
  async callbackCheck(agentId: string, to: string): Promise<Extract<DialResult, { ok: false }> | undefined> {
    const res = await this.#checkAndPlace(agentId, to, { place: false });
    return res.ok ? undefined : res;
  }

  async #checkAndPlace(agentId: string, to: string, opts: { place: boolean } = { place: true }): Promise<DialResult> {
    const { graph, config, logger } = this.deps;
    const phoneNumberId = config.whatsapp.phoneNumberIds[0]!;
    const log = logger.child({ agentId, to: maskNumber(to) });
    let perm: CallPermissionState;
    try {
      perm = await graph.callPermission(phoneNumberId, to);
    } catch (err) {
      const code = err instanceof GraphApiError ? err.metaCode : undefined;
      log.warn({ code, err: (err as Error).message }, 'call permission look-up failed');
      return fail('meta-refused', plainMetaError(code, 'WhatsApp did not answer the permission look-up; try again.'));
    }
    if (perm.status !== 'temporary' && perm.status !== 'permanent') return this.#askPermission(agentId, to, perm);
    if (!perm.canCall) {
      const at = limitFreesAt(perm.callLimits);
      log.info({ retryAt: at }, 'call limit reached');
      return fail('limit-reached', `We have reached the limit of calls to this person; you can call ${when(at)}.`, at);
    }
    if (!opts.place) return { ok: true, callId: '' };
    return this.#place(agentId, to, phoneNumberId);
  }

  async #askPermission(agentId: string, to: string, perm: CallPermissionState): Promise<DialResult> {
    const { graph, config, redis, keys, logger } = this.deps;
    const phoneNumberId = config.whatsapp.phoneNumberIds[0]!;
    if (!perm.canRequest) {
      const at = limitFreesAt(perm.requestLimits);
      return fail(
        'limit-reached',
        `This person has not allowed calls, and we may not ask again yet; you can ask ${when(at)}.`,
        at,
      );
    }
    try {
      await graph.sendPermissionRequest(phoneNumberId, to, config.outbound.permissionText);
    } catch (err) {
      const code = err instanceof GraphApiError ? err.metaCode : undefined;
      logger.warn({ agentId, to: maskNumber(to), code }, 'call permission request refused');
      return fail(code === 138009 ? 'limit-reached' : 'meta-refused', plainMetaError(code));
    }
    await redis.set(keys.outbound.permissionAsk(to), agentId, 'PX', ASK_TTL_MS);
    logger.info({ agentId, to: maskNumber(to) }, 'call permission requested');
    return fail(
      'no-permission',
      'This person has not allowed calls yet. We sent them a call-permission request; you will be told when they answer.',
    );
  }

  async #place(agentId: string, to: string, phoneNumberId: string): Promise<DialResult> {
    const { nodes, presence, deliverer, config } = this.deps;
    const nodeId = await nodes.place();
    if (!nodeId) return fail('no-media-node', 'No media server is available right now; try again shortly.');
    const callId = `out.${randomUUID()}`;
    const claimTtlMs = config.calls.maxCallMs + config.calls.answerDeadlineMs + 60_000;
    if ((await presence.claim(agentId, callId, claimTtlMs)) !== callId)
      return fail('busy', 'You are already on a call.');
    try {
      await deliverer.create(
        {
          callId,
          phoneNumberId,
          businessNumber: '',
          caller: { waId: to },
          at: Date.now(),
          answerDeadlineMs: config.calls.answerDeadlineMs,
          ringTimeoutMs: config.calls.ringTimeoutMs,
          acceptDeadlineMs: config.calls.acceptDeadlineMs,
          maxCallMs: config.calls.maxCallMs,
          direction: 'outbound',
          outbound: { to, agentId, mediaNodeId: nodeId },
          record: this.deps.recordFor?.(phoneNumberId),
        },
        '',
      );
    } catch (err) {
      await presence.unclaim(agentId, callId);
      throw err;
    }
    await nodes.recordPlacement(nodeId, callId);
    this.deps.logger.info({ callId, agentId, to: maskNumber(to) }, 'business-initiated call placed');
    return { ok: true, callId };
  }

  /** A user answered a permission request: the agent who asked hears of it (`call:permission`). */
  async onPermissionReply(e: Extract<IngestEvent, { kind: 'permission-reply' }>): Promise<void> {
    const { redis, keys, broadcaster, logger } = this.deps;
    const agentId = await redis.get(keys.outbound.permissionAsk(e.waId));
    logger.info({ to: maskNumber(e.waId), response: e.response, told: agentId ?? null }, 'call permission reply');
    if (!agentId) return;
    await redis.del(keys.outbound.permissionAsk(e.waId));
    emitTo(broadcaster, agentRoom(agentId), 'call:permission', {
      to: e.waId,
      response: e.response,
      expiresAt: e.expiresAt ?? null,
    });
  }
}

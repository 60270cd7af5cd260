import type { AgentDirectory } from '../agents/directory.js';
import { callOf } from '../events/call-events.js';
import { type HistoryIndex, WRAP_UP_FIELD } from '../history/history.index.js';
import type { CallStore } from '../machines/call.store.js';
import { restore } from '../machines/deliver.js';
import type { CallEventSink } from '../machines/ports.js';
import type { Logger } from '../shared/log.js';
import { type AckError, WRAP_UP_NOTES_MAX, type WrapUp } from '../shared/protocol.js';
import type { WrapUpInfo } from '../shared/rest-types.js';
import type { TeamsConfig } from './teams.config.js';

export type WrapUpResult = { ok: true; wrapUp: WrapUp } | { ok: false; error: AckError; message: string };

/** What the service needs when an agent's wrap-up ends early: announce them and offer them waiting calls. */
export interface AvailabilityPort {
  becameAvailable(agentId: string): Promise<void>;
}

/**
 * After-call work. When a call ends its agent is busy for WRAP_UP_SECONDS (or, with WRAP_UP_REQUIRED, until they
 * submit); `call:wrapup` records the code and notes on the call, ends that time, and tells outside systems. A
 * wrap-up is written once: the same submission again is a no-op success, a different one is refused.
 */
export class WrapUpService {
  constructor(
    readonly deps: {
      store: CallStore;
      directory: AgentDirectory;
      teams: TeamsConfig;
      history: HistoryIndex;
      availability: AvailabilityPort;
      events: CallEventSink;
      logger: Logger;
      required: boolean;
    },
  ) {}

  codesFor(agentId: string): string[] {
    return this.deps.teams.wrapUpCodes(this.deps.directory.get(agentId)?.teams ?? []);
  }

  /** For the console's form: the codes, whether it is required, and the call waiting for a wrap-up. */
  async info(agentId: string, now = Date.now()): Promise<WrapUpInfo> {
    const { redis, keys } = this.deps.store;
    const [callId, until] = await redis.hmget(keys.agent.state(agentId), 'wrapUpCallId', 'wrapUpUntil');
    let pending: WrapUpInfo['pending'] = null;
    if (callId && Number(until) > now && !(await redis.hexists(keys.call.state(callId), WRAP_UP_FIELD))) {
      pending = { callId, until: Number(until) };
    }
    return { codes: this.codesFor(agentId), required: this.deps.required, notesMax: WRAP_UP_NOTES_MAX, pending };
  }

  async submit(agentId: string, callId: string, code: string, notes: string | undefined): Promise<WrapUpResult> {
    const { store, logger } = this.deps;
    const { redis, keys } = store;
    const stored = await store.load(callId);
    if (!stored) return { ok: false, error: 'unknown-call', message: `No call ${callId} (it may have expired).` };
    const ctx = restore(stored.snapshot).context;
    if (ctx.agentId !== agentId) {
      return { ok: false, error: 'not-your-call', message: 'Only the agent who handled a call can wrap it up.' };
    }
    if (stored.state !== 'ended') {
      return { ok: false, error: 'wrong-state', message: 'The call is still going: wrap it up once it has ended.' };
    }
    const codes = this.codesFor(agentId);
    if (!codes.includes(code)) {
      return { ok: false, error: 'unknown-code', message: `"${code}" is not one of your codes: ${codes.join(', ')}.` };
    }
    const wrapUp: WrapUp = { agentId, code, notes: notes?.trim() || null, at: Date.now() };
    const written = await redis.hsetnx(keys.call.state(callId), WRAP_UP_FIELD, JSON.stringify(wrapUp));
    let saved = wrapUp;
    if (written !== 1) {
      saved = JSON.parse((await redis.hget(keys.call.state(callId), WRAP_UP_FIELD)) ?? 'null') as WrapUp;
      if (saved?.code !== wrapUp.code || saved.notes !== wrapUp.notes) {
        return {
          ok: false,
          error: 'already-wrapped-up',
          message: `This call was already wrapped up as "${saved?.code}".`,
        };
      }
    } else {
      const entry = { at: wrapUp.at, event: 'AGENT.WRAP_UP', detail: `agentId=${agentId} code=${code}` };
      await redis.rpush(keys.call.timeline(callId), JSON.stringify(entry));
      logger.info({ callId, agentId, code }, 'call wrapped up');
    }
    // Everything below is idempotent, so a retried submission after a failure here completes it.
    await this.deps.history.wrappedUp(callId, ctx.times.createdAt, saved.code);
    await this.deps.events.raise(
      `${callId}.wrapped-up`,
      'call.wrapped-up',
      callOf(callId, ctx, { wrapUp: saved }),
      saved.at,
    );
    await this.#endWrapUpTime(agentId, callId);
    return { ok: true, wrapUp: saved };
  }

  /** The agent's wrap-up time for this call (if it still runs) ends now: they are free for the next call. */
  async #endWrapUpTime(agentId: string, callId: string): Promise<void> {
    const { redis, keys } = this.deps.store;
    const k = keys.agent.state(agentId);
    if ((await redis.hget(k, 'wrapUpCallId')) !== callId) return;
    const now = Date.now();
    await redis.multi().hset(k, 'wrapUpUntil', String(now), 'idleSince', String(now)).hdel(k, 'wrapUpCallId').exec();
    await this.deps.availability.becameAvailable(agentId);
  }
}

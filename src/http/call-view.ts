import { WRAP_UP_FIELD } from '../history/history.index.js';
import type { CallStore } from '../machines/call.store.js';
import type { CallContext } from '../machines/call.types.js';
import { readable, restore } from '../machines/deliver.js';
import { maskDigits, maskNumber } from '../shared/log.js';
import type { WrapUp } from '../shared/protocol.js';
import type { AudioStatsSample, CallDetail, CallSummary } from '../shared/rest-types.js';

const parseWrapUp = (raw: string | null | undefined): WrapUp | null => (raw ? (JSON.parse(raw) as WrapUp) : null);

function summarize(id: string, state: string, ctx: CallContext): CallSummary {
  return {
    id,
    state,
    reason: ctx.outcome.reason ?? null,
    endedBy: ctx.outcome.endedBy ?? null,
    caller: { name: ctx.caller.name ?? null, number: maskNumber(ctx.caller.waId) },
    businessNumber: ctx.line.businessNumber,
    agentId: ctx.agentId ?? null,
    mediaNodeId: ctx.mediaNodeId ?? null,
    createdAt: ctx.times.createdAt,
    offeredAt: ctx.times.offeredAt ?? null,
    acceptedAt: ctx.times.acceptedAt ?? null,
    liveAt: ctx.times.liveAt ?? null,
    endedAt: ctx.times.endedAt ?? null,
    errorCode: ctx.outcome.errorCode ?? null,
    detail: ctx.outcome.detail ?? null,
  };
}

/** Loads many calls' summaries in one pipeline (they live in different slots; ioredis splits per node). */
export async function loadSummaries(
  store: CallStore,
  ids: string[],
): Promise<{ summary: CallSummary; ctx: CallContext }[]> {
  const [loaded, wrapUps] = await Promise.all([
    Promise.all(ids.map((id) => store.load(id))),
    Promise.all(ids.map((id) => store.redis.hget(store.keys.call.state(id), WRAP_UP_FIELD))),
  ]);
  const out: { summary: CallSummary; ctx: CallContext }[] = [];
  loaded.forEach((s, i) => {
    const snap = s && readable(s.snapshot);
    if (!s || !snap) return;

    const summary = summarize(ids[i]!, s.state, snap.context);
    summary.wrapUp = parseWrapUp(wrapUps[i]);
    out.push({ summary, ctx: snap.context });
  });
  return out;
}

/**
 * One call in full. DTMF keys can be a PIN: unless `showDtmf` (SHOW_DTMF=1) they are masked in the keys pressed and
 * in the timeline.
 */
export async function loadDetail(
  store: CallStore,
  id: string,
  opts: { showDtmf?: boolean } = {},
): Promise<CallDetail | null> {
  const s = await store.load(id);
  if (!s) return null;
  const ctx = restore(s.snapshot).context;
  const [timeline, statsRaw, wrapUp] = await Promise.all([
    store.timeline(id),
    store.redis.lrange(store.keys.call.stats(id), 0, -1),
    store.redis.hget(store.keys.call.state(id), WRAP_UP_FIELD),
  ]);
  return {
    ...summarize(id, s.state, ctx),
    wrapUp: parseWrapUp(wrapUp),
    version: s.version,
    offer: ctx.routing.offer
      ? {
          agentIds: ctx.routing.offer.agentIds,
          policy: ctx.routing.offer.policy,
          tier: ctx.routing.offer.tier,
          expiresAt: ctx.routing.offer.expiresAt ?? null,
        }
      : null,
    declined: ctx.routing.declined,
    offeredAgents: ctx.routing.offeredAgents,
    answerDeadlineAt: ctx.times.answerDeadlineAt,
    flags: {
      preAcceptDone: ctx.bridge.preAcceptDone,
      waConnected: ctx.bridge.waConnected,
      agentConnected: ctx.bridge.agentConnected,
      acceptFallback: ctx.bridge.acceptFallback,
    },
    dtmf: opts.showDtmf ? ctx.caller.dtmf : maskDigits(ctx.caller.dtmf),
    ...queueView(ctx),
    timeline: timeline.map(({ version: _v, ...t }) => {
      const entry = t as CallDetail['timeline'][number];
      return opts.showDtmf || !entry.detail
        ? entry
        : { ...entry, detail: entry.detail.replace(/\bdigit=\S+/g, 'digit=•') };
    }),
    stats: statsRaw.map((r) => JSON.parse(r) as AudioStatsSample),
  };
}

/** The IVR choice, queue wait and hold time of a call (snapshots older than these fields give nulls and zero). */
function queueView(ctx: CallContext, now = Date.now()) {
  const q = ctx.queue;
  const hold = ctx.live.hold;
  return {
    ivrChoice: ctx.ivr?.choice ?? null,
    waitMs: q ? (q.leftAt ?? ctx.times.endedAt ?? now) - q.enteredAt : null,
    queueTeams: q?.teams ?? null,
    holdMs: hold ? hold.totalMs + (hold.since !== undefined ? (ctx.times.endedAt ?? now) - hold.since : 0) : 0,
  };
}

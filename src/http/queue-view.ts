import type { CallStore } from '../machines/call.store.js';
import { readable } from '../machines/deliver.js';
import { queueFigures } from '../routing/figures.js';
import type { QueueStore } from '../routing/queue.store.js';
import { maskNumber } from '../shared/log.js';
import type { QueuesView } from '../shared/rest-types.js';

/** The supervisor's queue view: who waits where, in order, for how long, after which IVR key; and today's figures. */
export async function loadQueues(
  deps: { store: CallStore; callQueue: QueueStore; teams: string[]; serviceLevelSeconds: number },
  day: string,
  now = Date.now(),
): Promise<QueuesView> {
  const teams = await Promise.all(
    deps.teams.map(async (team) => {
      const entries = await deps.callQueue.list(team);
      const loaded = await Promise.all(entries.map((e) => deps.store.load(e.callId)));
      const waiting = entries.flatMap((e, i) => {
        const s = loaded[i];
        const ctx = s && readable(s.snapshot)?.context;
        if (!s || !ctx) return [];

        return [
          {
            callId: e.callId,
            position: e.position,
            state: s.state,
            caller: { name: ctx.caller.name ?? null, number: maskNumber(ctx.caller.waId) },
            waitMs: ctx.queue ? now - ctx.queue.enteredAt : 0,
            ivrChoice: ctx.ivr?.choice ?? null,
            offeredTo: ctx.routing.offer?.agentIds ?? [],
          },
        ];
      });
      return { team, waiting };
    }),
  );
  const figures = queueFigures(await deps.callQueue.outcomes(day), deps.serviceLevelSeconds);
  return { day, teams, figures };
}

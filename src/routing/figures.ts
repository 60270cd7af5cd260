/** Supervisor figures for calls that waited in a queue. Pure: computed from recorded outcomes. */
import type { QueuesView } from '../shared/rest-types.js';

/** One call that waited in a queue, as recorded when it ended. */
export interface QueueOutcome {
  callId: string;
  /** The teams it last waited for. */
  teams: string[];
  /** answered: an agent connected; abandoned: the caller hung up while waiting; timeout: goodbye at maxWait. */
  outcome: 'answered' | 'abandoned' | 'timeout' | 'other';
  /** From queue entry to an agent connecting (answered) or to the end (the others). */
  waitMs: number;
}

/** The figures as the API gives them (`GET /api/queues`): see `QueuesView` for each field's meaning. */
export type QueueFigures = QueuesView['figures'];

const avg = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

export function queueFigures(outcomes: QueueOutcome[], serviceLevelSeconds: number): QueueFigures {
  const slMs = serviceLevelSeconds * 1000;
  const answered = outcomes.filter((o) => o.outcome === 'answered');
  const abandoned = outcomes.filter((o) => o.outcome === 'abandoned');
  const within = answered.filter((o) => o.waitMs <= slMs).length;
  // The usual contact-center definition: short abandons (before the threshold) do not count either way.
  const judged = outcomes.filter((o) => o.outcome === 'answered' || o.waitMs > slMs).length;
  return {
    calls: outcomes.length,
    answered: answered.length,
    abandoned: abandoned.length,
    serviceLevel: judged ? within / judged : null,
    serviceLevelSeconds,
    abandonmentRate: outcomes.length ? abandoned.length / outcomes.length : null,
    avgAbandonWaitMs: avg(abandoned.map((o) => o.waitMs)),
    avgSpeedOfAnswerMs: avg(answered.map((o) => o.waitMs)),
  };
}

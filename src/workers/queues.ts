import os from 'node:os';
import { type JobsOptions, Queue } from 'bullmq';
import { type EventDeliveryJob, eventJobId } from '../events/call-events.js';
import { type GraphAction, graphJobId, type TimerName, timerJobId } from '../machines/call.effects.js';
import type { Keys } from '../shared/keys.js';
import type { RedisClient } from '../shared/redis.js';

export const QUEUE = {
  graph: 'graph',
  timer: 'timer',
  route: 'route',
  maintenance: 'maintenance',
  events: 'events',
} as const;

export interface GraphJob {
  callId: string;
  action: GraphAction;
  /** accept only: the media node to start the agent's audio on when Meta answers 200. */
  startAgentAudioOn?: string;
}
export interface TimerJob {
  callId: string;
  timer: TimerName;
  token: string;
}
export interface RouteJob {
  callId: string;
  seq: number;
  /** Offer the queue heads to free agents (agents were freed by this call's effects). */
  pump?: true;
}

/** This process's name on the jobs it takes (`job.processedBy`): host and pid, for operators and drills. */
export const WORKER_NAME = `${os.hostname()}-${process.pid}`;

/** Options for every worker: its name, and a lock after which a job whose worker died is picked up again. */
export function lockOptions(lockMs = 10_000): { lockDuration: number; stalledInterval: number; name: string } {
  return { lockDuration: lockMs, stalledInterval: Math.max(1000, Math.round(lockMs / 2)), name: WORKER_NAME };
}

function routeJobId(callId: string, seq: number): string {
  return `${callId}.route.${seq}`;
}

/** Completed jobs stay an hour so that a replayed effect with the same job id is recognised and not run again. */
const KEEP = { removeOnComplete: { age: 3600, count: 50_000 }, removeOnFail: { age: 7 * 86_400 } } as const;

/**
 * The producer side of every queue, shared by whichever process dispatches effects. Job ids are deterministic, so
 * adding the same effect twice (an outbox replay, a duplicate webhook) adds one job.
 */
export class Queues {
  readonly graph: Queue<GraphJob>;
  readonly timer: Queue<TimerJob>;
  readonly route: Queue<RouteJob>;
  readonly maintenance: Queue;
  /** Call events for outside systems: one job per delivery (event × URL). */
  readonly events: Queue<EventDeliveryJob>;
  readonly #graphAttempts: number;
  readonly #events: { attempts: number; backoffMs: number };

  constructor(
    connection: RedisClient,
    keys: Keys,
    opts: { graphAttempts: number; events?: { attempts: number; backoffMs: number } },
  ) {
    const common = { connection, prefix: keys.bullPrefix };
    this.graph = new Queue<GraphJob>(QUEUE.graph, common);
    this.timer = new Queue<TimerJob>(QUEUE.timer, common);
    this.route = new Queue<RouteJob>(QUEUE.route, common);
    this.maintenance = new Queue(QUEUE.maintenance, common);
    this.events = new Queue<EventDeliveryJob>(QUEUE.events, common);
    this.#graphAttempts = opts.graphAttempts;
    this.#events = opts.events ?? { attempts: 12, backoffMs: 1000 };
  }

  addGraph(callId: string, action: GraphAction, startAgentAudioOn?: string): Promise<unknown> {
    const opts: JobsOptions = {
      ...KEEP,
      jobId: graphJobId(callId, action),
      // A connect is never sent twice: a retry after a lost answer would start a second call at Meta.
      attempts: action === 'connect' ? 1 : this.#graphAttempts,
      backoff: { type: 'exponential', delay: 250 },
    };
    const data: GraphJob = { callId, action, ...(startAgentAudioOn !== undefined ? { startAgentAudioOn } : {}) };
    return this.graph.add(action, data, opts);
  }

  addTimer(callId: string, timer: TimerName, token: string, delayMs: number): Promise<unknown> {
    return this.timer.add(
      timer,
      { callId, timer, token },
      {
        ...KEEP,
        jobId: timerJobId(callId, timer, token),
        delay: delayMs,
        attempts: 5,
        backoff: { type: 'fixed', delay: 500 },
      },
    );
  }

  async cancelTimer(callId: string, timer: TimerName, token: string): Promise<void> {
    // remove() refuses a job that is running (its lock is held); that timer then fires into a state that ignores it.
    await this.timer.remove(timerJobId(callId, timer, token)).catch(() => 0);
  }

  addRoute(callId: string, seq: number): Promise<unknown> {
    return this.route.add(
      'route',
      { callId, seq },
      { ...KEEP, jobId: routeJobId(callId, seq), attempts: 5, backoff: { type: 'fixed', delay: 300 } },
    );
  }

  /** One delivery, retried with exponential backoff; a failed one is kept a week for Bull Board and a manual retry. */
  addEventDelivery(job: EventDeliveryJob): Promise<unknown> {
    return this.events.add(job.type, job, {
      ...KEEP,
      jobId: eventJobId(job.eventId, job.url),
      attempts: this.#events.attempts,
      backoff: { type: 'exponential', delay: this.#events.backoffMs },
    });
  }

  /** A pass of the queue pump; never deduplicated (a pass is idempotent and cheap when nobody is free). */
  addPump(callId: string): Promise<unknown> {
    return this.route.add(
      'pump',
      { callId, seq: 0, pump: true },
      { ...KEEP, attempts: 3, backoff: { type: 'fixed', delay: 300 } },
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.graph.close(),
      this.timer.close(),
      this.route.close(),
      this.maintenance.close(),
      this.events.close(),
    ]);
  }
}

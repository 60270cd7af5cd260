import type { Queue } from 'bullmq';
import type { Config } from '../shared/config.js';

/** Roles without live media (http, worker, all-in-one) stop within this. */
const SHORT_STOP_MS = 30_000;
/** What a media node may take on top of its drain: ending the calls left over and leaving the registry. */
const AFTER_DRAIN_MS = 15_000;

/**
 * How long SIGTERM may take before the process exits anyway. A dedicated media node drains its live calls for up to
 * MEDIA_DRAIN_TIMEOUT_SECONDS (a fixed hard stop would cut calls off as `media-failed`); every other role, the
 * all-in-one included (it ends its calls at once), gets a short one.
 */
export function shutdownDeadlineMs(config: Pick<Config, 'role' | 'media'>): number {
  return config.role === 'media' ? config.media.drainTimeoutMs + AFTER_DRAIN_MS : SHORT_STOP_MS;
}

/**
 * Waits until the queue has no job waiting or running (the Graph API jobs the ended calls produced), or `timeoutMs`
 * passed. Jobs delayed by a retry backoff are not waited for: another worker (or the next start) runs them.
 * @returns the jobs still left when it gave up (0 when flushed)
 */
export async function flushQueue(queue: Queue, timeoutMs: number, pollMs = 100): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'prioritized');
    const left = (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0);
    if (left === 0 || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { CallContext } from '../machines/call.types.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { MediaCommander } from '../machines/ports.js';
import { errorMessage, GraphApiError } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { CaptureOptIn } from '../shared/meta-capture.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import type { GraphClient } from './graph.client.js';
import { type GraphJob, lockOptions, QUEUE } from './queues.js';

export interface GraphWorkerDeps {
  connection: RedisClient;
  keys: Keys;
  deliverer: Deliverer;
  client: GraphClient;
  logger: Logger;
  metrics?: Metrics | undefined;
  retentionMs: number;
  /** The number's Meta-side recording / transcription opt-in (routing file `metaCapture`), sent with accept and connect. */
  captureFor?: ((phoneNumberId: string) => CaptureOptIn | undefined) | undefined;
  /**
   * Starts agent audio the moment Meta's accept returns 200 when the call asked for it (`startAgentAudioOn`); the
   * call's own `media.startAgentAudio` follows one actor round trip later and finds it started.
   */
  media?: Pick<MediaCommander, 'startAgentAudio'> | undefined;
  /** @default 16 */
  concurrency?: number;
  /** BullMQ lock; a job whose worker died is taken over after this. @default 10000 */
  lockMs?: number;
}

/**
 * What Meta answers when an action it already carried out is sent again. A retry after a lost response (the
 * worker died or timed out while Meta was processing) meets exactly this, and it means the action is done.
 * @see docs/whatsapp-platform.md §2: reject and terminate when the other side was faster
 */
const ALREADY_DONE: Record<string, RegExp> = {
  pre_accept: /already (done|pre[-_ ]?accepted|in progress)/i,
  accept: /already (in progress|accepted)/i,
};

/**
 * Runs pre_accept / accept / reject / terminate against the Graph API and feeds the result back to the call.
 * A result recorded in the call's `graph` hash is never sent again, so a replayed job does not reach Meta twice.
 * Network errors, 429 and 5xx are retried with exponential backoff; other 4xx are final (UnrecoverableError).
 * A terminate or reject that Meta refuses with a 4xx (the caller already hung up) counts as done.
 */
export function createGraphWorker(deps: GraphWorkerDeps): Worker<GraphJob> {
  const { keys, deliverer, client, logger, metrics } = deps;
  const store = deliverer.store;

  /**
   * Business-initiated `connect`: our stored offer goes to Meta once (the job has one attempt), Meta's call id is
   * mapped to ours before the call learns it (its webhooks follow at once). A call that ended while connect was in
   * flight is terminated at Meta here: nobody else knew Meta's id.
   */
  const connect = async (callId: string, ctx: CallContext) => {
    const graphKey = keys.call.graph(callId);
    const known = await store.redis.hget(graphKey, 'connect:id');
    if (known) {
      await deliverer.deliver(callId, { type: 'GRAPH.DONE', action: 'connect', metaCallId: known });
      return 'already-done';
    }
    const { offer } = await store.sdp(callId);
    if (!offer || !ctx.outbound) throw new UnrecoverableError(`call ${callId} has no outbound offer`);
    if ((await store.redis.hsetnx(graphKey, 'connect:sent', String(Date.now()))) === 0)
      throw new UnrecoverableError(`call ${callId}: connect was already sent once`);
    let metaCallId: string;
    try {
      ({ metaCallId } = await client.connect({
        phoneNumberId: ctx.line.phoneNumberId,
        to: ctx.outbound.to,
        sdp: offer,
        capture: deps.captureFor?.(ctx.line.phoneNumberId),
      }));
      metrics?.graphRequests.inc({ action: 'connect', result: 'ok', code: '' });
    } catch (err) {
      const e =
        err instanceof GraphApiError
          ? err
          : new GraphApiError((err as Error).message, { retryable: false, cause: err });
      metrics?.graphRequests.inc({
        action: 'connect',
        result: 'error',
        code: String(e.metaCode ?? e.httpStatus ?? ''),
      });
      logger.warn({ callId, code: e.metaCode, status: e.httpStatus, err: e.message }, 'connect refused');
      await deliverer.deliver(callId, {
        type: 'GRAPH.FAILED',
        action: 'connect',
        metaCode: e.metaCode,
        httpStatus: e.httpStatus,
        message: e.message,
      });
      throw new UnrecoverableError(e.message);
    }
    await store.redis
      .multi()
      .set(keys.outbound.alias(metaCallId), callId, 'PX', deps.retentionMs)
      .hset(graphKey, 'connect', 'ok', 'connect:id', metaCallId)
      .pexpire(graphKey, deps.retentionMs)
      .exec();
    const out = await deliverer.deliver(callId, { type: 'GRAPH.DONE', action: 'connect', metaCallId });
    if (out.status === 'ignored' && out.state === 'ended') {
      logger.info({ callId }, 'the call ended while connect was in flight; terminating it at Meta');
      await client
        .callAction({ phoneNumberId: ctx.line.phoneNumberId, callId: metaCallId, action: 'terminate' })
        .catch((err) => logger.warn({ callId, err: (err as Error).message }, 'terminate after connect failed'));
    }
    return 'ok';
  };

  const process = async (job: Job<GraphJob>) => {
    const { callId, action } = job.data;
    if (action === 'connect') {
      const stored = await store.load(callId);
      if (!stored) throw new UnrecoverableError(`call ${callId} is unknown`);
      return connect(callId, restore(stored.snapshot).context);
    }
    const graphKey = keys.call.graph(callId);
    const prior = await store.redis.hget(graphKey, action);
    if (prior === 'ok') {
      await deliverer.deliver(callId, { type: 'GRAPH.DONE', action });
      return 'already-done';
    }
    const stored = await store.load(callId);
    if (!stored) throw new UnrecoverableError(`call ${callId} is unknown`);
    const ctx: CallContext = restore(stored.snapshot).context;
    // A business-initiated call is known to Meta by Meta's id; before connect returned it there is nothing to end.
    const metaId = ctx.line.direction === 'outbound' ? ctx.outbound?.metaCallId : callId;
    if (!metaId) {
      logger.info({ callId, action }, 'no Meta call id yet; the connect job ends the call at Meta');
      return 'no-meta-call';
    }
    let sdp: string | undefined;
    if (action === 'pre_accept' || action === 'accept') {
      sdp = (await store.sdp(callId)).answer ?? undefined;
      if (!sdp) throw new UnrecoverableError(`call ${callId} has no answer SDP for ${action}`);
    }
    // Remember that this action may reach Meta from now on: a later attempt that meets "already done" is done.
    const sentBefore = (await store.redis.hsetnx(graphKey, `${action}:sent`, String(Date.now()))) === 0;
    const started = performance.now();
    try {
      const capture = action === 'accept' ? deps.captureFor?.(ctx.line.phoneNumberId) : undefined;
      await client.callAction({ phoneNumberId: ctx.line.phoneNumberId, callId: metaId, action, sdp, capture });
      metrics?.graphRequests.inc({ action, result: 'ok', code: '' });
    } catch (err) {
      const e =
        err instanceof GraphApiError ? err : new GraphApiError(errorMessage(err), { retryable: true, cause: err });
      const pattern = ALREADY_DONE[action];
      if (sentBefore && pattern && e.httpStatus !== undefined && e.httpStatus < 500 && pattern.test(e.message)) {
        logger.info({ callId, action }, 'an earlier attempt reached Meta; treating as done');
        metrics?.graphRequests.inc({ action, result: 'ok-earlier', code: String(e.metaCode ?? '') });
        await store.redis.multi().hset(graphKey, action, 'ok').pexpire(graphKey, deps.retentionMs).exec();
        await deliverer.deliver(callId, { type: 'GRAPH.DONE', action });
        return 'ok-earlier';
      }
      metrics?.graphRequests.inc({
        action,
        result: e.retryable ? 'retry' : 'error',
        code: String(e.metaCode ?? e.httpStatus ?? ''),
      });
      const endingAction = action === 'terminate' || action === 'reject';
      if (endingAction && !e.retryable) {
        // Meta refuses to end a call that is already over ("user has already terminated the call"): done.
        logger.info(
          { callId, action, code: e.metaCode, status: e.httpStatus },
          'call already ended at Meta; treating as done',
        );
      } else {
        const attempts = job.opts.attempts ?? 1;
        const final = !e.retryable || job.attemptsMade + 1 >= attempts;
        logger.warn(
          {
            callId,
            action,
            code: e.metaCode,
            status: e.httpStatus,
            attempt: job.attemptsMade + 1,
            final,
            err: e.message,
          },
          'graph api action failed',
        );
        if (!final) throw e;
        await deliverer.deliver(callId, {
          type: 'GRAPH.FAILED',
          action,
          metaCode: e.metaCode,
          httpStatus: e.httpStatus,
          message: e.message,
        });
        throw new UnrecoverableError(e.message);
      }
    } finally {
      metrics?.graphLatency.observe({ action }, (performance.now() - started) / 1000);
    }
    const { startAgentAudioOn } = job.data;
    if (startAgentAudioOn !== undefined) {
      deps.media?.startAgentAudio(startAgentAudioOn, callId).catch((err: unknown) => {
        logger.warn({ callId, err: errorMessage(err) }, 'agent audio could not be started early; the call starts it');
      });
    }
    await store.redis.multi().hset(graphKey, action, 'ok').pexpire(graphKey, deps.retentionMs).exec();
    await deliverer.deliver(callId, { type: 'GRAPH.DONE', action });
    return 'ok';
  };

  const worker = new Worker<GraphJob>(QUEUE.graph, process, {
    connection: deps.connection,
    prefix: keys.bullPrefix,
    concurrency: deps.concurrency ?? 16,
    ...lockOptions(deps.lockMs),
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'graph worker error'));
  worker.on('failed', (job, err) =>
    logger.warn({ callId: job?.data.callId, attempts: job?.attemptsMade, err: err.message }, 'graph job failed'),
  );
  return worker;
}

import type { CallContext } from '../machines/call.types.js';
import type { Deliverer } from '../machines/deliver.js';
import type { Config } from '../shared/config.js';
import { type Logger, maskNumber } from '../shared/log.js';

/** A callback task may wait this long in the queue for an agent. */
const CALLBACK_WAIT_MS = 4 * 3600_000;

/** The callback task's id for the call it came from (replaying the effect creates nothing new). */
const callbackId = (callId: string) => `cb.${callId}`.slice(0, 256);

/**
 * Creates the callback task a caller asked for (`callback.create`): a business-initiated call actor that waits in
 * the caller's queues with their place (priority and entry time), dialled once an agent accepts it.
 */
export class CallbackStarter {
  /** Set once the deliverer exists (it needs the dispatcher that needs this). */
  deliverer: Deliverer | undefined;

  constructor(
    readonly deps: {
      config: Pick<Config, 'calls'>;
      logger: Logger;
      recordFor?: ((phoneNumberId: string) => 'off' | 'all' | 'agent') | undefined;
    },
  ) {}

  async create(callId: string, ctx: CallContext): Promise<void> {
    const { config, logger } = this.deps;
    if (!this.deliverer) throw new Error('the callback starter has no deliverer yet');
    const to = ctx.caller.waId;
    if (!to || !ctx.queue) {
      logger.warn({ callId }, 'callback asked without a caller number or a queue; none created');
      return;
    }
    const out = await this.deliverer.create(
      {
        callId: callbackId(callId),
        phoneNumberId: ctx.line.phoneNumberId,
        businessNumber: ctx.line.businessNumber,
        caller: { waId: to, name: ctx.caller.name },
        at: Date.now(),
        answerDeadlineMs: CALLBACK_WAIT_MS,
        ringTimeoutMs: config.calls.ringTimeoutMs,
        acceptDeadlineMs: config.calls.acceptDeadlineMs,
        maxCallMs: config.calls.maxCallMs,
        direction: 'outbound',
        outbound: undefined,
        callback: {
          fromCallId: callId,
          teams: ctx.queue.teams,
          priority: ctx.queue.priority,
          enteredAt: ctx.queue.enteredAt,
          dialDeadlineMs: config.calls.answerDeadlineMs,
        },
        record: this.deps.recordFor?.(ctx.line.phoneNumberId),
      },
      '',
    );
    if (out.status === 'created')
      logger.info({ callId: callbackId(callId), from: callId, to: maskNumber(to) }, 'callback task queued');
  }
}

import net from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { errorMessage } from '../shared/errors.js';
import { type Logger, maskNumber } from '../shared/log.js';
import { callMachine } from './call.machine.js';
import type { TimelineEntry } from './call.store.js';
import type { CallSnapshot } from './deliver.js';

/** Is something already listening on `port` (another replica's inspector bridge)? */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface CallInspector {
  onTransition(callId: string, entry: TimelineEntry, snapshot: CallSnapshot): void;
  stop(): void;
}

/**
 * Streams call actors to the Stately inspector (XSTATE_INSPECT=1, a development aid): every committed transition
 * becomes an inspection event sent over a WebSocket to the inspector bridge, which the process with the http role
 * starts on XSTATE_INSPECT_PORT (open it in a browser: it embeds https://stately.ai/inspect). Call actors are
 * registered with the machine definition so the inspector draws the state machine. No SDP is ever in a context;
 * the caller's number is masked.
 */
export async function createCallInspector(opts: {
  port: number;
  startBridge: boolean;
  logger: Logger;
}): Promise<CallInspector> {
  let bridge: { stop(): void } | undefined;
  if (opts.startBridge && !(await portTaken(opts.port))) {
    bridge = createInspectorServer({ port: opts.port, autoOpen: false });
    opts.logger.info(
      { url: `http://localhost:${opts.port}` },
      'Stately inspector bridge: open it to watch call actors',
    );
  }
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${opts.port}` });
  inspector.start();
  // The inspector reads the machine definition from `actorRef.logic.config`, so calls are registered as refs.
  const refOf = (callId: string) =>
    ({ sessionId: callId, id: callId, logic: { config: callMachine.config } }) as unknown as Parameters<
      typeof inspector.actor
    >[0];
  const known = new Set<string>();
  const view = (s: CallSnapshot) => ({
    status: s.status,
    value: s.value,
    context: { ...s.context, caller: { ...s.context.caller, waId: maskNumber(s.context.caller.waId) } },
  });
  return {
    onTransition(callId, entry, snapshot) {
      try {
        if (!known.has(callId)) {
          if (known.size > 5000) known.clear();
          known.add(callId);
          inspector.actor(refOf(callId), view(snapshot), { rootId: callId, parentId: callId });
        }
        const event = { type: entry.event, ...(entry.detail ? { detail: entry.detail } : {}) };
        inspector.event(callId, event);
        inspector.snapshot(callId, view(snapshot), { event });
      } catch (err) {
        opts.logger.debug({ err: errorMessage(err) }, 'inspector send failed');
      }
    },
    stop() {
      inspector.stop();
      bridge?.stop();
    },
  };
}

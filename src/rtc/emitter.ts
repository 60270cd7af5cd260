import { EventEmitter } from 'node:events';

/**
 * An EventEmitter with a typed event map (`{ name: [arg1, arg2] }`), in the manner of mediasoup's
 * EnhancedEventEmitter: media code emits through {@link TypedEmitter.safeEmit} so that a throwing listener is
 * reported and never unwinds into wrtc callbacks (which would make it an uncaught exception).
 */
export class TypedEmitter<E extends Record<keyof E, unknown[]>> extends EventEmitter<E> {
  readonly #onListenerError: (event: string, err: unknown) => void;

  constructor(onListenerError: (event: string, err: unknown) => void) {
    super();
    this.#onListenerError = onListenerError;
  }

  /** Emits, catching and reporting a listener's exception; returns whether there were listeners. */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    // rawListeners keeps `once` wrappers, which remove themselves when called.
    const listeners = this.rawListeners(event as never) as unknown as Array<(...a: E[K]) => void>;
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.#onListenerError(event, err);
      }
    }
    return listeners.length > 0;
  }
}

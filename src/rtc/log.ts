/**
 * The logger the media layer accepts: any pino logger fits. SDP bodies are never logged; log
 * {@link summarizeSdp} output instead.
 */
export interface MediaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: Record<string, unknown>): MediaLogger;
}

const noop = (): void => {};

/** Drops everything; the default when no logger is given. */
export const silentMediaLogger: MediaLogger = { debug: noop, info: noop, warn: noop, error: noop };

export function childLogger(logger: MediaLogger, bindings: Record<string, unknown>): MediaLogger {
  return typeof logger.child === 'function' ? logger.child(bindings) : logger;
}

/** The logger of one call's media on one engine: every line carries the component and, when known, the call id. */
export function callLogger(logger: MediaLogger, component: string, callId: string | undefined): MediaLogger {
  return childLogger(logger, callId ? { callId, component } : { component });
}

import { shutdownDeadlineMs } from './roles/shutdown.js';
import { type Config, loadConfig, ROLES } from './shared/config.js';
import { type EmbeddedRedis, resolveRedis } from './shared/embedded-redis.js';
import { ConfigError } from './shared/errors.js';
import { createLogger } from './shared/log.js';

/**
 * Entry point: `npm start` runs every role in one process on the embedded default; `ROLE=http|worker|media|all`
 * (or the first CLI argument) picks one. Each role is stateless apart from Redis (a media node holds its calls'
 * live media).
 */
async function main(): Promise<void> {
  const argRole = process.argv[2];
  const env = { ...process.env };
  if (argRole) {
    if (!(ROLES as readonly string[]).includes(argRole)) {
      console.error(`Unknown role "${argRole}": use one of ${ROLES.join(', ')}.`);
      process.exit(2);
    }
    env.ROLE = argRole;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, name: config.role });
  let embedded: EmbeddedRedis | undefined;
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;

  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // A media node drains for up to MEDIA_DRAIN_TIMEOUT_SECONDS; every other role has a short hard stop.
    const deadlineMs = shutdownDeadlineMs(config);
    const hardStop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown took too long; exiting');
      process.exit(code || 1);
    }, deadlineMs);
    hardStop.unref();
    try {
      await stop?.();
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'error while stopping');
    }
    await embedded?.stop();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) =>
    logger.error({ err: (err as Error)?.message ?? String(err) }, 'unhandled rejection'),
  );
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });

  try {
    const redis = await resolveRedis(config.redis, logger);
    embedded = redis.embedded;
    const { startRoles } = await import('./roles/start.js');
    // Demo mode: the WhatsApp simulator plays Meta in this process; only the entry point brings it in.
    const startDemo = config.demo ? (await import('./sim/demo.js')).startDemoSimulator : undefined;
    stop = await startRoles(config, logger, redis.url, {
      embeddedRedis: embedded !== undefined,
      ...(startDemo ? { startDemo } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      await embedded?.stop();
      process.exit(1);
    }
    logger.fatal({ err: (err as Error).message, stack: (err as Error).stack }, 'failed to start');
    await embedded?.stop();
    process.exit(1);
  }
}

void main();

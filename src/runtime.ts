import { Emitter } from '@socket.io/redis-emitter';
import { AgentActions } from './agents/actions.js';
import { Availability } from './agents/availability.js';
import { AgentDirectory } from './agents/directory.js';
import { agentRoom, SocketAgentNotifier } from './agents/notifier.js';
import { PresenceService } from './agents/presence.js';
import { AgentStore } from './agents/store.js';
import { HistoryIndex } from './history/history.index.js';
import { TokenService } from './http/auth.js';
import { CallIndex } from './machines/call.index.js';
import { CallStore } from './machines/call.store.js';
import { type DeliverDeps, Deliverer } from './machines/deliver.js';
import { RedisMediaCommander } from './media/commands.js';
import { NodeRegistry } from './media/node-registry.js';
import { CallbackStarter } from './outbound/callback.starter.js';
import { DialService } from './outbound/dial.service.js';
import { DirRecordingStore, type RecordingStore, S3RecordingStore } from './recording/recording.store.js';
import { QueueDispatcher } from './routing/queue.dispatch.js';
import { QueueStore } from './routing/queue.store.js';
import { RoutingConfig } from './routing/routing.config.js';
import { REQUIRED_WRAP_UP_MAX_MS } from './shared/config.calls.js';
import type { Config } from './shared/config.js';
import { type Keys, keys as makeKeys } from './shared/keys.js';
import type { Logger } from './shared/log.js';
import { Metrics } from './shared/metrics.js';
import { AGENT_NAMESPACE } from './shared/protocol.js';
import { type RedisClient, RedisFactory } from './shared/redis.js';
import { MonitorActions } from './supervision/monitor.actions.js';
import { TransferActions } from './transfer/transfer.actions.js';
import { Dispatcher } from './workers/dispatcher.js';
import { WebhookEventSink } from './workers/events.worker.js';
import { HttpGraphClient } from './workers/graph.client.js';
import { scheduleWrapUpEnd } from './workers/maintenance.js';
import { Queues } from './workers/queues.js';
import { TeamsConfig } from './wrapup/teams.config.js';
import { WrapUpService } from './wrapup/wrapup.service.js';

/**
 * The pieces every role shares, wired once: Redis connections, the call store and deliverer with its effect
 * dispatcher, queues (producers), presence, media placement. Roles add their servers and workers on top.
 */
export interface Core {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  factory: RedisFactory;
  redis: RedisClient;
  keys: Keys;
  store: CallStore;
  index: CallIndex;
  queues: Queues;
  deliverer: Deliverer;
  directory: AgentDirectory;
  /** Agents and teams in Redis (seeded from AGENTS_FILE); roles that use the directory call `agents.start()`. */
  agents: AgentStore;
  tokens: TokenService;
  presence: PresenceService;
  availability: Availability;
  nodes: NodeRegistry;
  media: RedisMediaCommander;
  actions: AgentActions;
  routing: RoutingConfig;
  callQueue: QueueStore;
  queueDispatcher: QueueDispatcher;
  emitter: Emitter;
  /** Business-initiated calls (`call:dial`) and call-permission replies. */
  dial: DialService;
  /** Finished call recordings (RECORDINGS_DIR or S3). */
  recordings: RecordingStore;
  history: HistoryIndex;
  wrapUps: WrapUpService;
  transfers: TransferActions;
  monitors: MonitorActions;
  close(): Promise<void>;
}

export function createCore(
  config: Config,
  logger: Logger,
  redisUrl: string,
  opts: { metrics?: Metrics; onTransition?: DeliverDeps['onTransition'] } = {},
): Core {
  const factory = new RedisFactory({ url: redisUrl, cluster: config.redis.cluster, logger });
  const redis = factory.create('main');
  const keys = makeKeys(config.redis.keyPrefix);
  const metrics = opts.metrics ?? new Metrics();
  const store = new CallStore(redis, keys);
  const index = new CallIndex(redis, keys, { retentionMs: config.calls.retentionMs });
  const queues = new Queues(factory.create('queues'), keys, {
    graphAttempts: config.graph.maxAttempts,
    events: { attempts: config.events.attempts, backoffMs: config.events.backoffMs },
  });
  const directory = AgentDirectory.fromFile(config.auth.agentsFile);
  const tokens = new TokenService({ secret: config.auth.jwtSecret, ttlSeconds: config.auth.jwtTtlSeconds, directory });
  const presence = new PresenceService({ redis, keys, directory, leaseMs: config.auth.presenceLeaseMs });
  const nodes = new NodeRegistry({ redis, keys, ttlMs: config.media.nodeTtlMs });
  const media = new RedisMediaCommander(redis, keys);
  const emitter = new Emitter(redis, { key: keys.socketKey }).of(AGENT_NAMESPACE);
  const routing = RoutingConfig.fromFile(
    { policy: config.calls.routingPolicy, ringTimeoutMs: config.calls.ringTimeoutMs },
    config.calls.routingFile,
    { knownTeams: directory.all().flatMap((a) => a.teams) },
  );
  const callQueue = new QueueStore({
    redis,
    keys,
    media,
    agentsServing: async (teams) =>
      (await presence.online()).filter((a) => a.presence !== 'away' && a.teams.some((t) => teams.includes(t))).length,
  });
  const notifier = new SocketAgentNotifier({
    broadcaster: emitter,
    presence,
    redis,
    keys,
    logger,
    wrapUpMs: config.calls.wrapUpRequired ? REQUIRED_WRAP_UP_MAX_MS : config.calls.wrapUpMs,
    scheduleWrapUpEnd: scheduleWrapUpEnd(queues),
    retentionMs: config.calls.retentionMs,
  });
  const callbacks = new CallbackStarter({ config, logger, recordFor: (id) => routing.recordFor(id) });
  const events = new WebhookEventSink({ queues, urls: config.events.urls });
  const history = new HistoryIndex({
    redis,
    keys,
    retentionMs: config.calls.retentionMs,
    teamsOf: (ctx) => [
      ...new Set([
        ...(routing.forNumber(ctx.line.phoneNumberId).teams ?? []),
        ...(ctx.agentId ? (directory.get(ctx.agentId)?.teams ?? []) : []),
      ]),
    ],
  });
  const dispatcher = new Dispatcher({
    queues,
    index,
    agents: notifier,
    media,
    callQueue,
    metrics,
    events,
    history,
    callbacks,
  });
  const deliverer = new Deliverer({
    store,
    dispatcher,
    logger,
    metrics,
    retentionMs: config.calls.retentionMs,
    onTransition: opts.onTransition,
  });
  callbacks.deliverer = deliverer;
  const queueDispatcher = new QueueDispatcher({
    redis,
    keys,
    deliverer,
    queue: callQueue,
    online: () => presence.online(),
    routingFor: (id) => routing.forNumber(id),
    logger,
  });
  const availability = new Availability({ deliverer, presence, index, broadcaster: emitter, directory, logger });
  const transfers = new TransferActions({ deliverer, presence, directory });
  const monitors = new MonitorActions({ deliverer, directory, media });
  const actions = new AgentActions({
    transfers,
    deliverer,
    presence,
    nodes,
    media,
    logger,
    claimTtlMs: config.calls.maxCallMs + config.calls.acceptDeadlineMs + 60_000,
    // `dial` is made below; the check runs only when an agent accepts a callback.
    callbackCheck: (agentId, to) => dial.callbackCheck(agentId, to),
  });
  const dial = new DialService({
    deliverer,
    presence,
    nodes,
    graph: new HttpGraphClient(config.graph),
    redis,
    keys,
    config,
    broadcaster: emitter,
    logger,
    recordFor: (id) => routing.recordFor(id),
  });
  const recordings: RecordingStore = config.recordings.s3
    ? new S3RecordingStore(config.recordings.s3)
    : new DirRecordingStore(config.recordings.dir);
  const wrapUps = new WrapUpService({
    store,
    directory,
    teams: TeamsConfig.fromFile(config.calls.teamsFile),
    history,
    availability,
    events,
    logger,
    required: config.calls.wrapUpRequired,
  });
  const agents = new AgentStore({
    redis,
    subscriber: () => factory.create('agents-sub', { blocking: true }),
    keys,
    directory,
    logger,
    async endSessions(agentId, reason) {
      const room = emitter.in(agentRoom(agentId));
      // The console logs out on auth:expired; the socket closes on every replica at once.
      room.emit('auth:expired', {
        message:
          reason === 'disabled'
            ? 'Your account was disabled by a supervisor.'
            : 'Your password was changed: log in again with the new one.',
      });
      room.disconnectSockets(true);
      if (reason === 'disabled') await availability.becameUnavailable(agentId).catch(() => undefined);
    },
  });
  return {
    history,
    wrapUps,
    transfers,
    monitors,
    config,
    logger,
    metrics,
    factory,
    redis,
    keys,
    store,
    index,
    queues,
    deliverer,
    directory,
    agents,
    tokens,
    presence,
    availability,
    nodes,
    media,
    actions,
    routing,
    callQueue,
    queueDispatcher,
    emitter,
    dial,
    recordings,
    async close() {
      await agents.stop();
      await queues.close();
      await factory.closeAll();
    },
  };
}

import os from 'node:os';
import type { Emitter } from '@socket.io/redis-emitter';
import type { CallStore } from '../machines/call.store.js';
import type { Deliverer, IncomingEvent } from '../machines/deliver.js';
import type { CallMedia, MediaEngine, OpusClip, OpusPacketSink } from '../rtc/engine.js';
import type { MediaConfig } from '../shared/config.media.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { RedisClient } from '../shared/redis.js';
import { agentLegId, failureReason, type HostedCall, runCallCommand } from './call-commands.js';
import { recordStats } from './call-stats.js';
import type { MediaCommand } from './commands.js';
import { mediaEngine } from './engines/index.js';
import type { NodeRegistry } from './node-registry.js';

export interface MediaNodeOptions {
  nodeId: string;
  media: MediaConfig;
  redis: RedisClient;
  /** A dedicated connection for the blocking command read. */
  commandConn: RedisClient;
  keys: Keys;
  store: CallStore;
  deliverer: Deliverer;
  registry: NodeRegistry;
  emitter: Emitter;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** How often each call's audio stats are sampled. @default 5000 */
  statsEveryMs?: number;
  /** The engine calls run on. @default the one `media.engine` names */
  engine?: MediaEngine;
  /** Loads a prompt name or an absolute Ogg Opus path as a clip (rejects with a clear error). @default none: call.play is refused */
  clips?: (nameOrPath: string) => Promise<OpusClip>;
  /** Opens the two files of a call's recording. @default none: call.record is refused */
  recorder?: (callId: string) => { caller: OpusPacketSink; agents: OpusPacketSink };
  /** The call's direction files are saved (its media closed): hand them on to be combined and stored. */
  onRecordingSaved?: ((callId: string, paths: string[]) => Promise<void>) | undefined;
}

/** MEDIA.RECORDING_SAVED is in the media contract but not (yet) in the call machine: delivered like every MEDIA.* event. */
type NodeEvent = IncomingEvent | { type: 'MEDIA.RECORDING_SAVED'; paths: string[] };

/**
 * A media node: hosts one {@link CallMedia} per call on its engine, takes commands from its Redis stream, reports
 * leg events back to the call actors (deliver), trickles each browser leg's candidates to its socket, heartbeats its
 * load and engine, and drains on SIGTERM (no new calls; live calls finish; then it exits).
 */
export class MediaNode {
  readonly nodeId: string;
  readonly engine: MediaEngine;
  readonly #o: MediaNodeOptions;
  readonly #calls = new Map<string, HostedCall>();
  readonly #startedAt = Date.now();
  #draining = false;
  #stopped = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #lastCpu = process.cpuUsage();
  #cpuPct = 0;
  #lastCpuAt = Date.now();

  constructor(opts: MediaNodeOptions) {
    this.#o = opts;
    this.nodeId = opts.nodeId;
    this.engine = opts.engine ?? mediaEngine(opts.media.engine);
  }

  get calls(): number {
    return this.#calls.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async start(): Promise<void> {
    const { redis, keys } = this.#o;
    // Calls a previous incarnation of this node id left behind are gone with it.
    for (const callId of await redis.smembers(keys.media.calls(this.nodeId))) {
      await this.#report(callId, { type: 'MEDIA.FAILED', reason: 'the media node restarted' });
    }
    await redis.del(keys.media.calls(this.nodeId));
    // Read commands from the stream's current end: nothing was placed on this node before it registered.
    const last = await redis.xrevrange(keys.media.commands(this.nodeId), '+', '-', 'COUNT', 1);
    const fromId = last[0]?.[0] ?? '0-0';
    await this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat(), this.#o.media.heartbeatMs);
    this.#loop = this.#readCommands(fromId);
    const lacks = [...this.engine.lacks];
    if (!this.#o.clips) lacks.push('player');
    if (!this.#o.recorder) lacks.push('recording');
    const missing = [...new Set(lacks)];
    this.#o.logger.info(
      { capacity: this.#o.media.capacity, engine: this.engine.name, lacks: missing },
      missing.length > 0
        ? `media node ready (${this.engine.name} engine; calls that need ${missing.join(', ')} will be ended with that reason)`
        : `media node ready (${this.engine.name} engine)`,
    );
  }

  /** Stops taking calls; resolves when every hosted call has ended (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    await this.#beat();
    this.#o.logger.info({ calls: this.#calls.size }, 'draining: no new calls, waiting for live calls to end');
    const deadline = Date.now() + timeoutMs;
    while (this.#calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }

  /** Ends every remaining call (media-failed) and leaves the registry. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    for (const h of [...this.#calls.values()]) {
      await this.#report(h.callId, { type: 'MEDIA.FAILED', reason: 'the media node shut down' });
      this.#close(h, 'media node shut down');
    }
    await this.#o.registry.deregister(this.nodeId).catch(() => undefined);
    this.#o.commandConn.disconnect();
    await this.#loop?.catch(() => undefined);
  }

  /**
   * Reports the load at once when a call arrives or leaves (the periodic heartbeat would leave it stale for up to
   * MEDIA_HEARTBEAT_MS, and placement would weigh calls that already ended). Skipped once the node has stopped.
   */
  #loadChanged(): void {
    if (!this.#stopped) void this.#beat();
  }

  async #beat(): Promise<void> {
    const now = Date.now();
    // CPU over at least a second: a beat right after another (a call came or went) reports the last figure.
    if (now - this.#lastCpuAt >= 1000) {
      const cpu = process.cpuUsage(this.#lastCpu);
      this.#cpuPct = ((cpu.user + cpu.system) / 1000 / (now - this.#lastCpuAt)) * 100;
      this.#lastCpu = process.cpuUsage();
      this.#lastCpuAt = now;
    }
    const cpuPct = this.#cpuPct;
    try {
      await this.#o.registry.heartbeat({
        id: this.nodeId,
        capacity: this.#o.media.capacity,
        calls: this.#calls.size,
        draining: this.#draining,
        startedAt: this.#startedAt,
        cpu: Math.round(cpuPct),
        host: os.hostname(),
        engine: this.engine.name,
      });
      this.#o.metrics?.mediaNodeLoad.set({ node: this.nodeId }, this.#calls.size);
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'media heartbeat failed');
    }
  }

  async #readCommands(fromId: string): Promise<void> {
    const key = this.#o.keys.media.commands(this.nodeId);
    let id = fromId;
    while (!this.#stopped) {
      let res: [string, [string, string[]][]][] | null;
      try {
        res = (await this.#o.commandConn.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', key, id)) as typeof res;
      } catch (err) {
        if (this.#stopped) return;
        this.#o.logger.warn({ err: (err as Error).message }, 'reading media commands failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [, entries] of res ?? []) {
        for (const [entryId, fields] of entries) {
          id = entryId;
          const raw = fields[fields.indexOf('c') + 1];
          let cmd: MediaCommand;
          try {
            cmd = JSON.parse(raw ?? '') as MediaCommand;
          } catch {
            this.#o.logger.warn({ entryId }, 'unreadable media command skipped');
            continue;
          }
          // Commands for different calls run concurrently; each call's own commands keep their order.
          void this.#handle(cmd).catch((err) =>
            this.#o.logger.error(
              { callId: cmd.callId, cmd: cmd.type, err: (err as Error).message },
              'media command failed',
            ),
          );
        }
      }
    }
  }

  async #handle(cmd: MediaCommand): Promise<void> {
    const hosted = this.#calls.get(cmd.callId);
    if (cmd.type === 'bridge.create' || cmd.type === 'bridge.createOutbound') {
      if (hosted) return; // a replayed effect
      await this.#create(cmd.callId, cmd.agentId, cmd.type === 'bridge.createOutbound' ? 'outbound' : 'inbound');
      return;
    }
    if (cmd.type === 'bridge.close') {
      if (hosted) {
        await recordStats(this.#o, hosted, true);
        this.#close(hosted, cmd.reason);
      }
      return;
    }
    if (!hosted) {
      this.#o.logger.info({ callId: cmd.callId, cmd: cmd.type }, 'media command for a call this node does not host');
      return;
    }
    if (!hosted.bridge) hosted.pending.push(cmd);
    else await this.#callCommand(hosted, hosted.bridge, cmd);
  }

  async #create(
    callId: string,
    agentId: string | undefined,
    direction: 'inbound' | 'outbound' = 'inbound',
  ): Promise<void> {
    const { store, redis, keys, media, logger } = this.#o;
    const hosted: HostedCall = {
      callId,
      agentId,
      bridge: undefined,
      pending: [],
      legSockets: new Map(),
      recording: undefined,
      statsTimer: undefined,
      samples: 0,
      closing: false,
    };
    this.#calls.set(callId, hosted);
    this.#loadChanged();
    await redis.sadd(keys.media.calls(this.nodeId), callId);
    const { offer } = direction === 'inbound' ? await store.sdp(callId) : { offer: '' };
    if (direction === 'inbound' && !offer) {
      await this.#fail(hosted, 'the call has no offer SDP');
      return;
    }
    const agentLeg = agentId !== undefined ? agentLegId(agentId) : undefined;
    const options = {
      callId,
      ...(agentLeg ? { agentLegId: agentLeg } : {}),
      iceServers: media.iceServers,
      ...(media.portRange ? { portRange: media.portRange } : {}),
      ...(media.allowedNetworks ? { allowedNetworks: media.allowedNetworks } : {}),
      ...(media.announcedIp ? { announcedIp: media.announcedIp } : {}),
      detectDtmf: media.detectDtmf,
      logger, // the bridge adds the call id itself
    };
    let bridge: CallMedia;
    try {
      bridge =
        direction === 'inbound'
          ? await this.engine.createCall({ ...options, offerSdp: offer! })
          : await this.engine.createOutboundCall(options);
    } catch (err) {
      const what = direction === 'inbound' ? "answer WhatsApp's offer" : 'make the WhatsApp offer';
      await this.#fail(hosted, `could not ${what}: ${(err as Error).message}`);
      return;
    }
    if (hosted.closing) {
      bridge.close('closed while being built');
      return;
    }
    hosted.bridge = bridge;
    bridge.on('wa-connected', () => void this.#report(callId, { type: 'MEDIA.WA_CONNECTED' }));
    bridge.on('agent-connected', () => void this.#report(callId, { type: 'MEDIA.AGENT_CONNECTED' }));
    bridge.on('agent-disconnected', () => void this.#report(callId, { type: 'MEDIA.AGENT_LEG_DOWN' }));
    bridge.on('leg-connected', ({ legId }) => {
      if (legId !== agentLeg) void this.#report(callId, { type: 'MEDIA.LEG_CONNECTED', legId });
    });
    bridge.on('leg-down', ({ legId }) => {
      if (legId !== agentLeg) void this.#report(callId, { type: 'MEDIA.LEG_DOWN', legId });
    });
    bridge.on('play-ended', ({ playId }) => void this.#report(callId, { type: 'MEDIA.PLAY_ENDED', playId }));
    bridge.on('failed', ({ leg, reason }) => {
      if (leg === 'whatsapp') void this.#fail(hosted, reason);
    });
    bridge.on('dtmf', ({ digit }) => void this.#report(callId, { type: 'MEDIA.DTMF', digit }));
    bridge.on('leg-candidate', ({ legId, candidate }) => {
      const socketId = hosted.legSockets.get(legId);
      if (socketId) this.#o.emitter.to(socketId).emit('rtc:candidate', { callId, legId, candidate });
    });
    if (bridge.waOfferSdp !== undefined) {
      // Business-initiated: our offer is stored like an answer is (first one wins), then connect may go out.
      if (!(await store.setOfferOnce(callId, bridge.waOfferSdp))) {
        await this.#fail(hosted, 'another offer was already recorded for this call');
        return;
      }
      await this.#report(callId, { type: 'MEDIA.WA_OFFER' });
    } else {
      if (!(await store.setAnswerOnce(callId, bridge.waAnswerSdp))) {
        await this.#fail(hosted, 'another answer was already recorded for this call');
        return;
      }
      await this.#report(callId, { type: 'MEDIA.WA_ANSWER' });
    }
    hosted.statsTimer = setInterval(() => void recordStats(this.#o, hosted, false), this.#o.statsEveryMs ?? 5000);
    for (const c of hosted.pending.splice(0)) await this.#callCommand(hosted, bridge, c);
  }

  /** One command for a hosted call; a failure ends the call with its reason. */
  async #callCommand(hosted: HostedCall, bridge: CallMedia, cmd: MediaCommand): Promise<void> {
    try {
      await runCallCommand(this.#o, hosted, bridge, cmd);
    } catch (err) {
      const reason = failureReason(cmd, err);
      if (reason !== undefined) await this.#fail(hosted, reason);
    }
  }

  async #fail(hosted: HostedCall, reason: string): Promise<void> {
    this.#o.logger.warn({ callId: hosted.callId, reason }, 'media failed');
    await this.#report(hosted.callId, { type: 'MEDIA.FAILED', reason });
    this.#close(hosted, reason);
  }

  #close(hosted: HostedCall, reason: string): void {
    hosted.closing = true;
    clearInterval(hosted.statsTimer);
    hosted.bridge?.close(reason);
    const recording = hosted.recording;
    if (recording) {
      hosted.recording = undefined;
      void Promise.all([recording.caller.close(), recording.agents.close()])
        .then(async (paths) => {
          await this.#o.onRecordingSaved?.(hosted.callId, paths);
          await this.#report(hosted.callId, { type: 'MEDIA.RECORDING_SAVED', paths });
        })
        .catch((err) =>
          this.#o.logger.error(
            { callId: hosted.callId, err: (err as Error).message },
            'a recording could not be saved',
          ),
        );
    }
    this.#calls.delete(hosted.callId);
    this.#loadChanged();
    void this.#o.redis.srem(this.#o.keys.media.calls(this.nodeId), hosted.callId).catch(() => undefined);
  }

  async #report(callId: string, event: NodeEvent): Promise<void> {
    try {
      // The call machine treats an event it does not know (yet) as a logged no-op.
      await this.#o.deliverer.deliver(callId, event as IncomingEvent);
    } catch (err) {
      this.#o.logger.error(
        { callId, event: event.type, err: (err as Error).message },
        'could not report a media event',
      );
    }
  }
}

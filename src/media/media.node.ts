import os from 'node:os';
import type { Emitter } from '@socket.io/redis-emitter';
import type { CallStore } from '../machines/call.store.js';
import type { Deliverer, IncomingEvent } from '../machines/deliver.js';
import type { MediaConfig } from '../shared/config.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { AudioStatsSample, LegStats as ProtocolLegStats } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';
import { type BridgeStats, CallBridge } from './bridge.js';
import type { MediaCommand } from './commands.js';
import type { NodeRegistry } from './node-registry.js';
import type { LegStats } from './stats.js';

interface Hosted {
  callId: string;
  agentId: string;
  /** Set once CallBridge.create resolved. */
  bridge: CallBridge | undefined;
  /** Agent commands that arrived while the bridge was being built. */
  pending: MediaCommand[];
  /** The socket whose offer made the current agent leg: answers and candidates go to it only. */
  agentSocketId: string | undefined;
  statsTimer: NodeJS.Timeout | undefined;
  samples: number;
  closing: boolean;
}

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
}

const STATS_TIMELINE_EVERY = 6; // one timeline entry every 6 samples (30 s by default)

function toProtocol(s: LegStats | null): ProtocolLegStats | null {
  if (!s) return null;
  return {
    rttMs: s.rttMs,
    jitterMs: s.jitterMs,
    packetsLost: s.packetsLost,
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    fractionLost: s.fractionLost,
    mos: s.mos,
  };
}

function statsLine(leg: string, s: ProtocolLegStats | null): string {
  if (!s) return `${leg}: none`;
  const f = (v: number | null, d = 0) => (v === null ? '?' : v.toFixed(d));
  return `${leg}: rtt=${f(s.rttMs)}ms jitter=${f(s.jitterMs, 1)}ms loss=${f((s.fractionLost ?? 0) * 100, 1)}% mos=${f(s.mos, 2)}`;
}

/**
 * A media node: hosts one {@link CallBridge} per call, takes commands from its Redis stream, reports leg events
 * back to the call actors (deliver), trickles the agent leg's candidates to the agent's socket, heartbeats its
 * load, and drains on SIGTERM (no new calls; live calls finish; then it exits).
 */
export class MediaNode {
  readonly nodeId: string;
  readonly #o: MediaNodeOptions;
  readonly #calls = new Map<string, Hosted>();
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
    this.#o.logger.info({ capacity: this.#o.media.capacity }, 'media node ready');
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
    switch (cmd.type) {
      case 'bridge.create':
        if (hosted) return; // a replayed effect
        await this.#create(cmd.callId, cmd.agentId);
        return;
      case 'bridge.createOutbound':
        if (hosted) return;
        await this.#create(cmd.callId, cmd.agentId, 'outbound');
        return;
      case 'bridge.applyAnswer':
        if (!hosted?.bridge) {
          this.#o.logger.info({ callId: cmd.callId }, 'answer for a call this node does not host (yet)');
          return;
        }
        try {
          await hosted.bridge.applyWaAnswer(cmd.sdp);
        } catch (err) {
          if ((err as { code?: string }).code !== 'media-closed')
            await this.#fail(hosted, `could not apply WhatsApp's answer: ${(err as Error).message}`);
        }
        return;
      case 'agent.offer':
      case 'agent.candidate':
        if (!hosted) {
          this.#o.logger.info(
            { callId: cmd.callId, cmd: cmd.type },
            'agent signaling for a call this node does not host',
          );
          return;
        }
        if (!hosted.bridge) hosted.pending.push(cmd);
        else await this.#agentCommand(hosted, cmd);
        return;
      case 'bridge.startAgentAudio':
        hosted?.bridge?.startAgentAudio();
        return;
      case 'bridge.close':
        if (hosted) {
          await this.#recordStats(hosted, true);
          this.#close(hosted, cmd.reason);
        }
        return;
    }
  }

  async #create(callId: string, agentId: string, direction: 'inbound' | 'outbound' = 'inbound'): Promise<void> {
    const { store, redis, keys, media, logger } = this.#o;
    const hosted: Hosted = {
      callId,
      agentId,
      bridge: undefined,
      pending: [],
      agentSocketId: undefined,
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
    const options = {
      callId,
      iceServers: media.iceServers,
      ...(media.portRange ? { portRange: media.portRange } : {}),
      ...(media.allowedNetworks ? { allowedNetworks: media.allowedNetworks } : {}),
      ...(media.announcedIp ? { announcedIp: media.announcedIp } : {}),
      detectDtmf: media.detectDtmf,
      logger, // the bridge adds the call id itself
    };
    let bridge: CallBridge;
    try {
      bridge =
        direction === 'inbound'
          ? await CallBridge.create({ ...options, offerSdp: offer! })
          : await CallBridge.createOutbound(options);
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
    bridge.on('failed', ({ leg, reason }) => {
      if (leg === 'whatsapp') void this.#fail(hosted, reason);
    });
    bridge.on('dtmf', ({ digit }) => void this.#report(callId, { type: 'MEDIA.DTMF', digit }));
    bridge.on('agent-candidate', (c) => {
      if (hosted.agentSocketId)
        this.#o.emitter.to(hosted.agentSocketId).emit('rtc:candidate', { callId, candidate: c });
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
    hosted.statsTimer = setInterval(() => void this.#recordStats(hosted, false), this.#o.statsEveryMs ?? 5000);
    for (const c of hosted.pending.splice(0)) await this.#agentCommand(hosted, c);
  }

  async #agentCommand(hosted: Hosted, cmd: MediaCommand): Promise<void> {
    const bridge = hosted.bridge!;
    if (cmd.type === 'agent.offer') {
      try {
        const answer = await bridge.acceptAgentOffer(cmd.sdp);
        hosted.agentSocketId = cmd.socketId;
        this.#o.emitter.to(cmd.socketId).emit('rtc:answer', { callId: hosted.callId, sdp: answer });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'agent-offer-superseded' || code === 'media-closed') return;
        // The agent's browser sent something no bridge can answer: the call cannot connect.
        await this.#fail(hosted, `the agent's offer is unusable: ${(err as Error).message}`);
      }
    } else if (cmd.type === 'agent.candidate') {
      if (cmd.candidate) await bridge.addAgentCandidate(cmd.candidate);
    }
  }

  async #recordStats(hosted: Hosted, final: boolean): Promise<void> {
    const bridge = hosted.bridge;
    if (!bridge || bridge.closed) return;
    let stats: BridgeStats;
    try {
      stats = await bridge.getStats();
    } catch {
      return;
    }
    const sample: AudioStatsSample = {
      at: Date.now(),
      whatsapp: toProtocol(stats.whatsapp),
      agent: toProtocol(stats.agent),
    };
    const key = this.#o.keys.call.stats(hosted.callId);
    await this.#o.redis.multi().rpush(key, JSON.stringify(sample)).ltrim(key, -200, -1).exec();
    if (sample.whatsapp?.mos != null) this.#o.metrics?.audioMos.observe({ leg: 'whatsapp' }, sample.whatsapp.mos);
    if (sample.agent?.mos != null) this.#o.metrics?.audioMos.observe({ leg: 'agent' }, sample.agent.mos);
    hosted.samples++;
    if (final || hosted.samples % STATS_TIMELINE_EVERY === 1) {
      await this.#o.store.appendTimeline(hosted.callId, {
        at: sample.at,
        event: final ? 'MEDIA.STATS_FINAL' : 'MEDIA.STATS',
        detail: `${statsLine('whatsapp', sample.whatsapp)}; ${statsLine('agent', sample.agent)}`,
      });
    }
  }

  async #fail(hosted: Hosted, reason: string): Promise<void> {
    this.#o.logger.warn({ callId: hosted.callId, reason }, 'media failed');
    await this.#report(hosted.callId, { type: 'MEDIA.FAILED', reason });
    this.#close(hosted, reason);
  }

  #close(hosted: Hosted, reason: string): void {
    hosted.closing = true;
    clearInterval(hosted.statsTimer);
    hosted.bridge?.close(reason);
    this.#calls.delete(hosted.callId);
    this.#loadChanged();
    void this.#o.redis.srem(this.#o.keys.media.calls(this.nodeId), hosted.callId).catch(() => undefined);
  }

  async #report(callId: string, event: IncomingEvent): Promise<void> {
    try {
      await this.#o.deliverer.deliver(callId, event);
    } catch (err) {
      this.#o.logger.error(
        { callId, event: event.type, err: (err as Error).message },
        'could not report a media event',
      );
    }
  }
}

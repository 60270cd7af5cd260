import type { MediaCommander } from '../machines/ports.js';
import type { Keys } from '../shared/keys.js';
import type { RtcCandidateInit } from '../shared/protocol.js';
import type { RedisClient } from '../shared/redis.js';

/** Commands a media node takes, one Redis stream per node (never through an HTTP replica's memory). */
export type MediaCommand =
  /** Answers Meta's offer; with an agent, the default routing table is caller ⇄ `agent:<agentId>`. */
  | { type: 'bridge.create'; callId: string; agentId?: string }
  | { type: 'bridge.startAgentAudio'; callId: string }
  | { type: 'bridge.close'; callId: string; reason: string }
  /** The agent's browser offer for the agent leg; the answer goes back to that one socket. */
  | { type: 'agent.offer'; callId: string; agentId: string; socketId: string; sdp: string }
  | { type: 'agent.candidate'; callId: string; socketId: string; candidate: RtcCandidateInit | null }
  /** Business-initiated: build the WhatsApp leg as the offerer; the node stores the offer, reports MEDIA.WA_OFFER. */
  | { type: 'bridge.createOutbound'; callId: string; agentId: string }
  /** Business-initiated: Meta's answer (from the connect webhook) for the WhatsApp leg. */
  | { type: 'bridge.applyAnswer'; callId: string; sdp: string }
  /**
   * Plays prompt names or absolute Ogg Opus paths in order (replacing what played); MEDIA.PLAY_ENDED unless looped.
   * `thenLoop`: when the clips end, the player goes straight on to loop these (a prompt, then the music, no gap).
   */
  | { type: 'call.play'; callId: string; playId: string; clips: string[]; loop?: boolean; thenLoop?: string[] }
  | { type: 'call.stopPlay'; callId: string }
  /** The whole routing table (sink → sources), replacing the previous one. */
  | { type: 'call.route'; callId: string; routes: Record<string, string[]> }
  /** A browser leg's offer (`agent:<id>`, `sup:<id>`); the answer and candidates go to that socket only. */
  | { type: 'leg.offer'; callId: string; legId: string; agentId: string; socketId: string; sdp: string }
  | { type: 'leg.candidate'; callId: string; legId: string; socketId: string; candidate: RtcCandidateInit | null }
  | { type: 'leg.close'; callId: string; legId: string }
  /** Recording tap on or off (pause = off); the files are reported with MEDIA.RECORDING_SAVED at close. */
  | { type: 'call.record'; callId: string; on: boolean };

const MAX_LEN = 10_000;

/** The member of the recent-placements set for one call on one node (see NodeRegistry). */
export function placementMember(nodeId: string, callId: string): string {
  return `${nodeId}|${callId}`;
}

/** Appends commands to a node's stream. */
export class RedisMediaCommander implements MediaCommander {
  readonly #redis: RedisClient;
  readonly #keys: Keys;

  constructor(redis: RedisClient, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async send(nodeId: string, cmd: MediaCommand): Promise<void> {
    await this.#redis.xadd(this.#keys.media.commands(nodeId), 'MAXLEN', '~', MAX_LEN, '*', 'c', JSON.stringify(cmd));
  }

  createBridge(nodeId: string, callId: string, agentId?: string): Promise<void> {
    return this.send(nodeId, { type: 'bridge.create', callId, ...(agentId !== undefined ? { agentId } : {}) });
  }
  play(
    nodeId: string,
    callId: string,
    playId: string,
    clips: string[],
    loop = false,
    thenLoop?: string[],
  ): Promise<void> {
    return this.send(nodeId, {
      type: 'call.play',
      callId,
      playId,
      clips,
      loop,
      ...(thenLoop?.length ? { thenLoop } : {}),
    });
  }
  stopPlay(nodeId: string, callId: string): Promise<void> {
    return this.send(nodeId, { type: 'call.stopPlay', callId });
  }
  route(nodeId: string, callId: string, routes: Record<string, string[]>): Promise<void> {
    return this.send(nodeId, { type: 'call.route', callId, routes });
  }
  legOffer(
    nodeId: string,
    callId: string,
    leg: { legId: string; agentId: string; socketId: string; sdp: string },
  ): Promise<void> {
    return this.send(nodeId, { type: 'leg.offer', callId, ...leg });
  }
  legCandidate(
    nodeId: string,
    callId: string,
    leg: { legId: string; socketId: string; candidate: RtcCandidateInit | null },
  ): Promise<void> {
    return this.send(nodeId, { type: 'leg.candidate', callId, ...leg });
  }
  closeLeg(nodeId: string, callId: string, legId: string): Promise<void> {
    return this.send(nodeId, { type: 'leg.close', callId, legId });
  }
  record(nodeId: string, callId: string, on: boolean): Promise<void> {
    return this.send(nodeId, { type: 'call.record', callId, on });
  }
  createOutbound(nodeId: string, callId: string, agentId: string): Promise<void> {
    return this.send(nodeId, { type: 'bridge.createOutbound', callId, agentId });
  }
  /** Sends Meta's stored answer (the command carries it: the node need not read the call's keys). */
  async applyAnswer(nodeId: string, callId: string): Promise<void> {
    const sdp = await this.#redis.hget(this.#keys.call.sdp(callId), 'answer');
    if (!sdp) throw new Error(`call ${callId} has no stored answer from Meta`);
    await this.send(nodeId, { type: 'bridge.applyAnswer', callId, sdp });
  }
  startAgentAudio(nodeId: string, callId: string): Promise<void> {
    return this.send(nodeId, { type: 'bridge.startAgentAudio', callId });
  }
  /**
   * Closes the call's bridge and releases its placement: a call that ends before the node's next heartbeat no longer
   * counts against the node (otherwise quick calls in one heartbeat interval would fill it).
   */
  async close(nodeId: string, callId: string, reason: string): Promise<void> {
    await this.send(nodeId, { type: 'bridge.close', callId, reason });
    await this.#redis.zrem(this.#keys.media.recentPlacements, placementMember(nodeId, callId));
  }
}

import type { CallContext } from '../machines/call.types.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { RedisMediaCommander } from '../media/commands.js';
import type { NodeRegistry } from '../media/node-registry.js';
import type { Logger } from '../shared/log.js';
import type { AckError, RtcCandidateInit } from '../shared/protocol.js';
import type { PresenceService } from './presence.js';

export type ActionResult = { ok: true; state?: string } | { ok: false; error: AckError; message: string };

const fail = (error: AckError, message: string): ActionResult => ({ ok: false, error, message });

const ON_CALL_STATES = [
  'bridging',
  'pre-accepted',
  'live',
  'on-hold',
  'transferring',
  'consulting',
  'dialing',
  'calling',
];
/** States in which a call rings agents: `queued` is a business-answered call offered from its queue. */
const OFFERED_STATES = ['agent-offered', 'queued', 'callback-queued'];

/**
 * What an agent can do to a call, for the socket handlers and the pagehide beacon. Every answer is an ack: late,
 * double or foreign actions get a clear error and change nothing.
 */
export class AgentActions {
  constructor(
    readonly deps: {
      deliverer: Deliverer;
      presence: PresenceService;
      nodes: NodeRegistry;
      media: RedisMediaCommander;
      logger: Logger;
      /** How long an agent's claim on a call may last at most (a safety net; released when the call ends). */
      claimTtlMs: number;
      /**
       * Before a callback is dialled: the user's call permission and Meta's limits (undefined = may call; else the
       * refusal for the agent, e.g. `no-permission` after a request went out).
       */
      callbackCheck?: ((agentId: string, to: string) => Promise<ActionResult | undefined>) | undefined;
      /** Accepting a call that is being transferred. */
      transfers?: { accept(agentId: string, callId: string, claimTtlMs: number): Promise<ActionResult> } | undefined;
    },
  ) {}

  async #load(callId: string): Promise<{ state: string; ctx: CallContext } | undefined> {
    const stored = await this.deps.deliverer.store.load(callId);
    return stored ? { state: stored.state, ctx: restore(stored.snapshot).context } : undefined;
  }

  /**
   * First accept wins. The agent is claimed first (one agent, one call), a media node is chosen, then
   * AGENT.ACCEPT goes to the call actor; whoever's accept is applied first wins, the others get `already-taken`.
   */
  async accept(agentId: string, callId: string): Promise<ActionResult> {
    const { deliverer, presence, nodes, logger } = this.deps;
    const call = await this.#load(callId);
    if (!call) return fail('unknown-call', 'That call does not exist (any more).');
    if (call.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if ((call.state === 'transferring' || call.state === 'consulting') && this.deps.transfers) {
      return this.deps.transfers.accept(agentId, callId, this.deps.claimTtlMs);
    }
    if (!OFFERED_STATES.includes(call.state) || (call.state !== 'agent-offered' && !call.ctx.routing.offer)) {
      if (call.ctx.agentId === agentId) return { ok: true, state: call.state };
      return call.ctx.agentId
        ? fail('already-taken', 'Another agent answered this call first.')
        : fail('wrong-state', 'This call is not ringing for anyone right now.');
    }
    if (!call.ctx.routing.offer?.agentIds.includes(agentId)) {
      return call.ctx.routing.offeredAgents.includes(agentId)
        ? fail('not-offered', 'This call is no longer offered to you.')
        : fail('not-offered', 'This call was never offered to you.');
    }
    if (call.state === 'callback-queued' && this.deps.callbackCheck) {
      const refused = await this.deps.callbackCheck(agentId, call.ctx.outbound?.to ?? call.ctx.caller.waId ?? '');
      if (refused) return refused;
    }
    const claimed = await presence.claim(agentId, callId, this.deps.claimTtlMs);
    if (claimed !== callId) return fail('busy', 'You are already on another call.');
    let won = false;
    try {
      // A business-answered call is already bridged: the agent joins it on its node.
      const nodeId = call.ctx.mediaNodeId ?? (await nodes.place());
      if (!nodeId) {
        logger.error({ callId }, 'no media node can take the call');
        return fail('no-media-node', 'No media server is available right now; the call keeps ringing, try again.');
      }
      const out = await deliverer.deliver(callId, { type: 'AGENT.ACCEPT', agentId, mediaNodeId: nodeId });
      if (out.status === 'applied' && out.context.agentId === agentId) {
        won = true;
        if (!call.ctx.mediaNodeId) await nodes.recordPlacement(nodeId, callId);
        return { ok: true, state: out.state };
      }
      if (out.status === 'ignored' && out.context.agentId === agentId) {
        won = true; // a second tab of the winner
        return { ok: true, state: out.state };
      }
      if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
      if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
      if (out.status === 'ignored' && out.context.agentId)
        return fail('already-taken', 'Another agent answered this call first.');
      return fail('not-offered', 'This call is no longer offered to you.');
    } finally {
      if (!won) await presence.unclaim(agentId, callId);
    }
  }

  async decline(agentId: string, callId: string): Promise<ActionResult> {
    const out = await this.deps.deliverer.deliver(callId, { type: 'AGENT.DECLINE', agentId });
    if (out.status === 'applied') return { ok: true, state: out.state };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (out.status === 'ignored' && out.context.agentId) {
      return out.context.agentId === agentId
        ? fail('wrong-state', 'You already answered this call; hang up instead.')
        : fail('already-taken', 'Another agent answered this call first.');
    }
    return fail('not-offered', 'This call is not ringing for you.');
  }

  async hangup(agentId: string, callId: string): Promise<ActionResult> {
    const out = await this.deps.deliverer.deliver(callId, { type: 'AGENT.HANGUP', agentId });
    if (out.status === 'applied') return { ok: true, state: out.state };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (out.status === 'ignored' && out.context.agentId !== agentId)
      return fail('not-your-call', 'You are not on this call.');
    return fail('wrong-state', `This call cannot be hung up in state ${out.status === 'ignored' ? out.state : '?'}.`);
  }

  /** Hold: the caller hears music and the agent's microphone is not forwarded. Only the agent on the call. */
  hold(agentId: string, callId: string): Promise<ActionResult> {
    return this.#holdOrResume(agentId, callId, 'AGENT.HOLD', 'live');
  }

  resume(agentId: string, callId: string): Promise<ActionResult> {
    return this.#holdOrResume(agentId, callId, 'AGENT.RESUME', 'on-hold');
  }

  async #holdOrResume(
    agentId: string,
    callId: string,
    type: 'AGENT.HOLD' | 'AGENT.RESUME',
    from: string,
  ): Promise<ActionResult> {
    const out = await this.deps.deliverer.deliver(callId, { type, agentId });
    if (out.status === 'applied') return { ok: true, state: out.state };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (out.status === 'ignored' && out.context.agentId !== agentId)
      return fail('not-your-call', 'You are not on this call.');
    const what = type === 'AGENT.HOLD' ? 'held' : 'resumed';
    return fail('wrong-state', `Only a call that is ${from} can be ${what}.`);
  }

  /**
   * The agent's tab is going away (pagehide): the call ends after a short grace unless the agent's media comes
   * back (a reload re-offers). Only the bridged agent can leave a call.
   */
  async leave(agentId: string, callId: string): Promise<ActionResult> {
    const out = await this.deps.deliverer.deliver(callId, { type: 'AGENT.LEFT', agentId });
    if (out.status === 'applied') return { ok: true, state: out.state };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (out.status === 'ignored' && out.context.agentId !== agentId)
      return fail('not-your-call', 'You are not on this call.');
    return fail('wrong-state', 'Nothing to leave in this state.');
  }

  /** Pauses, resumes or (where the number allows) starts the call's recording. */
  async record(agentId: string, callId: string, on: boolean): Promise<ActionResult> {
    const out = await this.deps.deliverer.deliver(callId, { type: 'AGENT.RECORD', agentId, on });
    if (out.status === 'applied') return { ok: true, state: out.context.live.recording?.state ?? 'off' };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (out.status === 'ignored' && out.context.agentId !== agentId)
      return fail('not-your-call', 'You are not on this call.');
    const rec = out.status === 'ignored' ? out.context.live.recording : undefined;
    if (!rec || rec.policy === 'off' || (rec.policy === 'agent' && rec.state === 'off' && !on))
      return fail('wrong-state', 'Calls to this number are not recorded.');
    if (rec.state === 'announcing')
      return fail('wrong-state', 'The recording notice is still playing; try again in a moment.');
    return fail('wrong-state', on ? 'The recording is already on.' : 'The recording is already paused.');
  }

  /** Relays the agent's browser offer to the media node holding the call's bridge. */
  async rtcOffer(agentId: string, callId: string, socketId: string, sdp: string): Promise<ActionResult> {
    const call = await this.#load(callId);
    const check = this.#onCall(call, agentId);
    if (check) return check;
    const nodeId = call!.ctx.mediaNodeId!;
    // By leg id, always: a business-answered call's bridge has no agent leg of its own, and an agent who took a call
    // over by transfer or consultation gets their own leg.
    await this.deps.media.legOffer(nodeId, callId, { legId: `agent:${agentId}`, agentId, socketId, sdp });
    return { ok: true, state: call!.state };
  }

  async rtcCandidate(
    agentId: string,
    callId: string,
    socketId: string,
    candidate: RtcCandidateInit | null,
  ): Promise<ActionResult> {
    const call = await this.#load(callId);
    const check = this.#onCall(call, agentId);
    if (check) return check;
    const nodeId = call!.ctx.mediaNodeId!;
    await this.deps.media.legCandidate(nodeId, callId, { legId: `agent:${agentId}`, socketId, candidate });
    return { ok: true };
  }

  #onCall(call: { state: string; ctx: CallContext } | undefined, agentId: string): ActionResult | undefined {
    if (!call) return fail('unknown-call', 'That call does not exist (any more).');
    if (call.state === 'ended') return fail('call-ended', 'That call has already ended.');
    // The agent being consulted is on the call too (their own leg).
    const consulted = call.ctx.live.consult?.with === agentId && call.ctx.live.consult.connected;
    if (call.ctx.agentId !== agentId && !consulted) return fail('not-your-call', 'You are not on this call.');
    if (!ON_CALL_STATES.includes(call.state) || !call.ctx.mediaNodeId)
      return fail('wrong-state', 'This call has no media yet.');
    return undefined;
  }
}

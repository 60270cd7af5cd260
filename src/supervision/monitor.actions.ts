import type { ActionResult } from '../agents/actions.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { MonitorMode } from '../machines/call.types.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { MediaCommand } from '../media/commands.js';
import type { AckError, RtcCandidateInit } from '../shared/protocol.js';

const fail = (error: AckError, message: string): ActionResult => ({ ok: false, error, message });

/**
 * Supervisor listen and whisper. Who may monitor whom is the supervisor role: any supervisor, any live call. The
 * supervisor's console opens one browser leg, `sup:<id>`, with two audio m-lines (their microphone and what they
 * hear on the first, the second track on the other); the call's routing table says who hears whom.
 */
export class MonitorActions {
  constructor(
    readonly deps: {
      deliverer: Deliverer;
      directory: AgentDirectory;
      media: { send(nodeId: string, cmd: MediaCommand): Promise<void> };
    },
  ) {}

  async monitor(supervisorId: string, callId: string, mode: MonitorMode | 'stop'): Promise<ActionResult> {
    const { deliverer, directory } = this.deps;
    if (directory.get(supervisorId)?.role !== 'supervisor') {
      return fail('forbidden', 'Only supervisors can listen to or whisper on calls.');
    }
    const stored = await deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    if (stored.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (stored.state !== 'live') return fail('wrong-state', 'Only a connected call can be monitored.');
    const engine = await deliverer.store.redis.hget(deliverer.store.keys.media.node(ctx.mediaNodeId!), 'engine');
    if (engine !== 'forward') {
      return fail('not-supported', 'Monitoring needs the forwarding media engine (MEDIA_ENGINE=forward).');
    }
    if (ctx.live.monitors?.[supervisorId] === (mode === 'stop' ? undefined : mode)) return { ok: true, state: 'live' };
    const out = await deliverer.deliver(callId, { type: 'SUP.MONITOR', by: supervisorId, mode });
    if (out.status === 'applied') return { ok: true, state: out.state };
    return fail('wrong-state', 'The call changed meanwhile; try again.');
  }

  /** Relays the supervisor's browser offer for their own leg, while they monitor the call. */
  async legOffer(supervisorId: string, callId: string, socketId: string, sdp: string): Promise<ActionResult> {
    const checked = await this.#monitoring(supervisorId, callId);
    if ('ok' in checked) return checked;
    const legId = `sup:${supervisorId}`;
    await this.deps.media.send(checked.nodeId, {
      type: 'leg.offer',
      callId,
      legId,
      agentId: supervisorId,
      socketId,
      sdp,
    });
    return { ok: true, state: 'live' };
  }

  async legCandidate(
    supervisorId: string,
    callId: string,
    socketId: string,
    candidate: RtcCandidateInit | null,
  ): Promise<ActionResult> {
    const checked = await this.#monitoring(supervisorId, callId);
    if ('ok' in checked) return checked;
    const legId = `sup:${supervisorId}`;
    await this.deps.media.send(checked.nodeId, { type: 'leg.candidate', callId, legId, socketId, candidate });
    return { ok: true };
  }

  async #monitoring(supervisorId: string, callId: string): Promise<ActionResult | { nodeId: string }> {
    const stored = await this.deps.deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    if (stored.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (!ctx.live.monitors?.[supervisorId] || !ctx.mediaNodeId) {
      return fail('wrong-state', 'Start listening (call:monitor) before opening the audio.');
    }
    return { nodeId: ctx.mediaNodeId };
  }
}

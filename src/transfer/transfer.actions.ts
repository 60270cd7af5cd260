import type { ActionResult } from '../agents/actions.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { PresenceService } from '../agents/presence.js';
import type { TransferTarget } from '../machines/call.effects.js';
import { type Deliverer, restore } from '../machines/deliver.js';
import type { AckError } from '../shared/protocol.js';

const fail = (error: AckError, message: string): ActionResult => ({ ok: false, error, message });

/**
 * `call:transfer`: checks the request (the caller of it holds the live call; the target exists, is not them, and
 * can take a call now) and hands the call actor the agents to offer. A refused request changes nothing.
 */
export class TransferActions {
  constructor(readonly deps: { deliverer: Deliverer; presence: PresenceService; directory: AgentDirectory }) {}

  async transfer(agentId: string, callId: string, to: TransferTarget): Promise<ActionResult> {
    const { deliverer, presence, directory } = this.deps;
    const stored = await deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    if (stored.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (ctx.agentId !== agentId) return fail('not-your-call', 'You can only transfer a call you are on.');
    if (stored.state === 'transferring') return fail('wrong-state', 'A transfer of this call is already ringing.');
    if (stored.state !== 'live') return fail('wrong-state', 'Only a connected call can be transferred.');
    // The wrtc engine has one browser leg per call and no routing table: a transfer would end the call there.
    const engine = await deliverer.store.redis.hget(deliverer.store.keys.media.node(ctx.mediaNodeId!), 'engine');
    if (engine !== 'forward') {
      return fail(
        'not-supported',
        'Transfers need the forwarding media engine (MEDIA_ENGINE=forward) on the media node that holds this call.',
      );
    }

    let targets: string[];
    let team: string | undefined;
    if ('agentId' in to) {
      if (to.agentId === agentId) return fail('bad-target', 'You cannot transfer a call to yourself.');
      const target = directory.get(to.agentId);
      if (!target?.takesCalls) return fail('unknown-agent', `There is no agent "${to.agentId}" who takes calls.`);
      const a = await presence.availability(to.agentId);
      if (!a || a.presence === 'offline') return fail('agent-offline', `${target.name} is offline.`);
      if (!a.available) return fail('agent-busy', `${target.name} is ${a.presence} and cannot take a call now.`);
      targets = [to.agentId];
      team = target.teams[0];
    } else {
      if (!directory.all().some((a) => a.teams.includes(to.team))) {
        return fail('unknown-team', `There is no team "${to.team}".`);
      }
      const online = await presence.online();
      targets = online.filter((a) => a.available && a.teams.includes(to.team) && a.id !== agentId).map((a) => a.id);
      if (targets.length === 0) return fail('no-agents', `Nobody in team ${to.team} is available right now.`);
      team = to.team;
    }
    const out = await deliverer.deliver(callId, { type: 'AGENT.TRANSFER', agentId, to, targets, team });
    if (out.status === 'applied') return { ok: true, state: out.state };
    if (out.status === 'unknown-call') return fail('unknown-call', 'That call does not exist (any more).');
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    return fail('wrong-state', 'The call changed meanwhile; it was not transferred.');
  }

  /** Consult transfer: B is asked first; the caller holds. Same checks as a transfer to an agent. */
  async consult(agentId: string, callId: string, to: string): Promise<ActionResult> {
    const { deliverer, presence, directory } = this.deps;
    const stored = await deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    if (stored.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (ctx.agentId !== agentId) return fail('not-your-call', 'You can only consult on a call you are on.');
    if (stored.state !== 'live') return fail('wrong-state', 'Only a connected call can be consulted on.');
    const engine = await deliverer.store.redis.hget(deliverer.store.keys.media.node(ctx.mediaNodeId!), 'engine');
    if (engine !== 'forward') {
      return fail('not-supported', 'Consulting needs the forwarding media engine (MEDIA_ENGINE=forward).');
    }
    if (to === agentId) return fail('bad-target', 'You cannot consult yourself.');
    const target = directory.get(to);
    if (!target?.takesCalls) return fail('unknown-agent', `There is no agent "${to}" who takes calls.`);
    const a = await presence.availability(to);
    if (!a || a.presence === 'offline') return fail('agent-offline', `${target.name} is offline.`);
    if (!a.available) return fail('agent-busy', `${target.name} is ${a.presence} and cannot take a call now.`);
    const out = await deliverer.deliver(callId, { type: 'AGENT.CONSULT', agentId, to });
    if (out.status === 'applied') return { ok: true, state: out.state };
    return fail('wrong-state', 'The call changed meanwhile; nothing was done.');
  }

  /** Ends the consultation: `complete` hands the caller to the consulted agent, `cancel` takes the caller back. */
  async endConsult(agentId: string, callId: string, how: 'complete' | 'cancel'): Promise<ActionResult> {
    const { deliverer } = this.deps;
    const stored = await deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    if (stored.state === 'ended') return fail('call-ended', 'That call has already ended.');
    if (stored.state !== 'consulting' || ctx.live.consult?.from !== agentId) {
      return fail('wrong-state', 'You are not consulting on this call.');
    }
    if (how === 'complete' && !ctx.live.consult.connected) {
      return fail('wrong-state', 'The agent you consult has not answered yet; cancel instead.');
    }
    const type = how === 'complete' ? 'AGENT.CONSULT_COMPLETE' : 'AGENT.CONSULT_CANCEL';
    const out = await deliverer.deliver(callId, { type, agentId });
    if (out.status === 'applied') return { ok: true, state: out.state };
    return fail('wrong-state', 'The call changed meanwhile; nothing was done.');
  }

  /** A transfer target accepts: the call's media node stays the same. */
  async accept(agentId: string, callId: string, claimTtlMs: number): Promise<ActionResult> {
    const { deliverer, presence } = this.deps;
    const stored = await deliverer.store.load(callId);
    if (!stored) return fail('unknown-call', 'That call does not exist (any more).');
    const ctx = restore(stored.snapshot).context;
    const ringing = stored.state === 'transferring' || stored.state === 'consulting';
    if (!ringing || !ctx.routing.offer?.agentIds.includes(agentId)) {
      return ctx.agentId === agentId && stored.state === 'live'
        ? { ok: true, state: stored.state }
        : fail('not-offered', 'This call is no longer offered to you.');
    }
    const claimed = await presence.claim(agentId, callId, claimTtlMs);
    if (claimed !== callId) return fail('busy', 'You are already on another call.');
    const out = await deliverer.deliver(callId, { type: 'AGENT.ACCEPT', agentId, mediaNodeId: ctx.mediaNodeId! });
    const on =
      out.status === 'applied' && (out.context.agentId === agentId || out.context.live.consult?.with === agentId);
    if (on) return { ok: true, state: out.state };
    await presence.unclaim(agentId, callId);
    if (out.status === 'ignored' && out.state === 'ended') return fail('call-ended', 'That call has already ended.');
    return fail('already-taken', 'Someone else took this call first.');
  }
}

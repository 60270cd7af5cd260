import type { CallIndex } from '../machines/call.index.js';
import type { Deliverer } from '../machines/deliver.js';
import type { Logger } from '../shared/log.js';
import type { PresenceState } from '../shared/protocol.js';
import type { AgentDirectory } from './directory.js';
import { agentRoom, type Broadcaster, emitTo, supervisorsRoom } from './notifier.js';
import type { PresenceService } from './presence.js';

/**
 * What happens when an agent's availability changes: calls waiting for an agent are routed again when one
 * becomes free; calls ringing for an agent who went offline, away or busy skip them at once.
 */
export class Availability {
  constructor(
    readonly deps: {
      deliverer: Deliverer;
      presence: PresenceService;
      index: CallIndex;
      broadcaster: Broadcaster;
      directory: AgentDirectory;
      logger: Logger;
    },
  ) {}

  async announce(agentId: string, presence?: PresenceState): Promise<PresenceState> {
    const p = presence ?? (await this.deps.presence.effective(agentId));
    emitTo(this.deps.broadcaster, agentRoom(agentId), 'agent:presence', { agentId, presence: p });
    emitTo(this.deps.broadcaster, supervisorsRoom, 'floor:agent', { agentId, presence: p });
    return p;
  }

  /** The agent may take calls now: offer them the waiting ones (oldest first). */
  async becameAvailable(agentId: string): Promise<void> {
    const p = await this.announce(agentId);
    if (p !== 'online' || !this.deps.directory.get(agentId)?.takesCalls) return;
    const waiting = await this.deps.index.waiting(50);
    for (const callId of waiting) {
      await this.deps.deliverer.deliver(callId, { type: 'CALL.REROUTE' });
    }
  }

  /** The agent cannot take calls now: every call ringing for them moves on. */
  async becameUnavailable(agentId: string, exceptCallId?: string): Promise<void> {
    await this.announce(agentId);
    const offers = await this.deps.presence.offersOf(agentId);
    for (const callId of offers) {
      if (callId === exceptCallId) continue;
      const out = await this.deps.deliverer.deliver(callId, { type: 'AGENT.UNAVAILABLE', agentId });
      if (out.status !== 'applied') await this.deps.presence.dropOffer(agentId, callId);
    }
  }
}

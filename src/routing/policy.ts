import type { RoutingPolicy } from '../machines/call.types.js';

export const TIERS = ['assigned', 'team', 'anyone'] as const;
type Tier = (typeof TIERS)[number];

/** How calls to one business number are routed. */
export interface NumberRouting {
  policy: RoutingPolicy;
  /** Teams that take this number's calls; undefined = every agent is on the team. */
  teams: string[] | undefined;
  /** Tried in order; a later tier joins when the earlier ones are exhausted or time out. */
  tiers: Tier[];
  ringTimeoutMs: number;
}

export interface Candidate {
  id: string;
  teams: string[];
  available: boolean;
  idleSince: number;
  offers: number;
}

export interface RoutingRequest {
  routing: NumberRouting;
  candidates: Candidate[];
  /** Agents this call was already offered to and who declined: never again. */
  declined: string[];
  /** Agents already tried (ring-one rotation, or tiers already rung). */
  tried: string[];
  /** Currently ringing for this call (ring-all extension adds only new ones). */
  ringing: string[];
  /** The caller's assigned agent, if any. */
  assignedAgentId: string | undefined;
}

export type RoutingDecision =
  | {
      kind: 'offer';
      agentIds: string[];
      policy: RoutingPolicy;
      tier: Tier;
      /** Set when the offer should time out (ring-one always; ring-all when a later tier is waiting). */
      ringTimeoutMs: number | undefined;
      resetTried: boolean;
      note: string;
    }
  | { kind: 'none'; note: string };

function inTier(tier: Tier, c: Candidate, r: RoutingRequest): boolean {
  if (tier === 'assigned') return c.id === r.assignedAgentId;
  if (tier === 'team') return r.routing.teams === undefined || c.teams.some((t) => r.routing.teams!.includes(t));
  return true;
}

/**
 * Pure routing policy.
 * - ring-all: everyone eligible in the first tier that still has untried agents, plus everyone already rung;
 *   the offer times out (to let the next tier join) only when a later tier has someone untried.
 * - ring-one: the longest-idle eligible agent not yet tried, tier by tier; when everyone was tried, start over.
 * Eligible = available (online, not busy, not in wrap-up) and never declined this call. Ring-one also skips agents
 * already ringing for another call.
 */
export function decide(r: RoutingRequest): RoutingDecision {
  const eligible = r.candidates.filter((c) => c.available && !r.declined.includes(c.id));
  const tiers = r.routing.tiers.length ? r.routing.tiers : (['anyone'] as Tier[]);
  const byTier = tiers.map((t) => ({ tier: t, agents: eligible.filter((c) => inTier(t, c, r)) }));
  const untried = (list: Candidate[]) => list.filter((c) => !r.tried.includes(c.id));

  if (r.routing.policy === 'ring-all') {
    const idx = byTier.findIndex((t) => untried(t.agents).length > 0);
    if (idx === -1) {
      // Everyone has been rung already: keep ringing all eligible ones in the tiers until the deadline.
      const all = unique(byTier.flatMap((t) => t.agents.map((a) => a.id)));
      if (all.length === 0) return { kind: 'none', note: 'no eligible agent online' };
      const tier = byTier.find((t) => t.agents.length)!.tier;
      return {
        kind: 'offer',
        agentIds: all,
        policy: 'ring-all',
        tier,
        ringTimeoutMs: undefined,
        resetTried: false,
        note: `ring-all ${all.length} (all tiers)`,
      };
    }
    const upTo = byTier.slice(0, idx + 1).flatMap((t) => t.agents.map((a) => a.id));
    const agentIds = unique(upTo);
    const laterWaiting = byTier.slice(idx + 1).some((t) => untried(t.agents).some((a) => !agentIds.includes(a.id)));
    return {
      kind: 'offer',
      agentIds,
      policy: 'ring-all',
      tier: byTier[idx]!.tier,
      ringTimeoutMs: laterWaiting ? r.routing.ringTimeoutMs : undefined,
      resetTried: false,
      note: `ring-all tier ${byTier[idx]!.tier}: ${agentIds.length} agent(s)`,
    };
  }

  // ring-one
  const free = (list: Candidate[]) => list.filter((c) => c.offers === 0 || r.ringing.includes(c.id));
  const pick = (list: Candidate[]) =>
    [...list].sort((a, b) => a.idleSince - b.idleSince || a.id.localeCompare(b.id))[0];
  const ringOne = (c: Candidate, tier: Tier, resetTried: boolean, why: string): RoutingDecision => ({
    kind: 'offer',
    agentIds: [c.id],
    policy: 'ring-one',
    tier,
    ringTimeoutMs: r.routing.ringTimeoutMs,
    resetTried,
    note: `ring-one tier ${tier}: ${why}`,
  });
  for (const t of byTier) {
    const c = pick(untried(free(t.agents)));
    if (c) return ringOne(c, t.tier, false, 'longest idle');
  }
  // Everyone tried once: a new round, avoiding the agent who just let it ring out if anyone else can take it.
  const last = r.tried[r.tried.length - 1];
  for (const t of byTier) {
    const pool = free(t.agents);
    const c = pick(pool.filter((a) => a.id !== last)) ?? pick(pool);
    if (c) return ringOne(c, t.tier, true, 'new round');
  }
  return {
    kind: 'none',
    note: eligible.length ? 'every eligible agent is ringing for another call' : 'no eligible agent online',
  };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

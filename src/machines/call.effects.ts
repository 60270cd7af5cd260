/**
 * Effects are data: the call machine returns them from a transition, `deliver()` stores them in the call's outbox
 * with the new snapshot and then dispatches them (BullMQ jobs, socket emits, media commands). The machine itself
 * never does I/O.
 */

export const TIMERS = [
  /** Unanswered by CALL_ANSWER_DEADLINE_SECONDS → missed, rejected at Meta. */
  'answer-deadline',
  /** A ring-one (or tier) offer to an agent expired → offer the next one. */
  'ring-expired',
  /** No eligible agent was found; look again. */
  'reroute',
  /** Accepted by an agent but not live in time → fallback accept or media failure. */
  'accept-deadline',
  /** A live call may not last longer than MAX_CALL_SECONDS. */
  'max-duration',
  /** The bridged agent's media leg went down; they have this long to come back. */
  'agent-grace',
  /** A transfer's targets did not answer in time: back to the agent who asked, or to the team. */
  'transfer-ring',
  /** The consulted agent did not answer in time: back to the agent who asked. */
  'consult-ring',
  /** The IVR menu was played and no key came in time. */
  'ivr-timeout',
  /** Time for the next position / expected-wait announcement. */
  'announce',
  /** The caller has waited `maxWaitSeconds`: overflow, or goodbye. */
  'max-wait',
  /** The goodbye prompt did not report its end: terminate anyway. */
  'goodbye',
  /** The caller has been on hold longer than the limit: alert the agent (again). */
  'hold-alert',
] as const;
export type TimerName = (typeof TIMERS)[number];

export const GRAPH_ACTIONS = ['pre_accept', 'accept', 'reject', 'terminate', 'connect'] as const;
export type GraphAction = (typeof GRAPH_ACTIONS)[number];

export type WithdrawReason = 'taken' | 'declined' | 'expired' | 'unavailable' | 'ended';

/** Where a transfer goes: one agent, or a team's queue. */
export type TransferTarget = { agentId: string } | { team: string };

export type Effect =
  /** A delayed BullMQ job that delivers `TIMER.*` back to the call; job id `${callId}.${timer}.${token}`. */
  | { type: 'timer.schedule'; timer: TimerName; delayMs: number; token: string }
  | { type: 'timer.cancel'; timer: TimerName; token: string }
  /** Ask the router for agents; it answers with ROUTING.OFFER or ROUTING.NO_AGENTS carrying `seq`. */
  | { type: 'routing.request'; seq: number }
  /** The call waits for an agent: listed where agents becoming available look for work. */
  | { type: 'queue.join' }
  | { type: 'queue.leave' }
  /** `call:offered` to these agents (every tab). */
  | { type: 'agents.offer'; agentIds: string[]; deadlineAt: number }
  /** Stop ringing for these agents: `call:taken` when someone won, else `call:ended`-less withdrawal. */
  | { type: 'agents.withdraw'; agentIds: string[]; reason: WithdrawReason; takenBy?: string }
  /** `call:ended` to these agents (every tab). */
  | { type: 'agents.ended'; agentIds: string[]; reason: string }
  /** The bridged agent is on the call: presence busy (their claim is already held). */
  | { type: 'agents.live'; agentId: string }
  /** The bridged agent is free again (after wrap-up). */
  | { type: 'agents.release'; agentId: string }
  /**
   * A transfer was answered: `from` leaves the call (as `agents.leave`, if not gone already) and `to` is on it now.
   * Outside systems hear `call.transferred`.
   */
  | { type: 'agents.handover'; from: string; to: string; target: TransferTarget }
  /** An agent leaves a call that goes on without them (`call:ended` reason `transferred`); free at once, no wrap-up. */
  | { type: 'agents.leave'; agentId: string; reason?: string }
  /** Tells the agent who asked how their transfer goes (`call:transfer`). */
  | { type: 'agents.transferStatus'; agentId: string; status: 'ringing' | 'returned' | 'queued'; targets: string[] }
  /**
   * Create the bridge on a media node: it answers Meta's offer and reports MEDIA.WA_ANSWER. No agent = answered by
   * the business (the caller hears the player until an agent is routed in).
   */
  | { type: 'media.createBridge'; nodeId: string; agentId?: string }
  /**
   * The call's player plays these clips (replacing what it played); MEDIA.PLAY_ENDED when a non-loop ends. With
   * `thenLoop`, the media node then loops those clips itself (a prompt runs into the music with no round trip).
   */
  | { type: 'media.play'; nodeId: string; playId: string; clips: string[]; loop?: boolean; thenLoop?: string[] }
  | { type: 'media.stopPlay'; nodeId: string }
  /** The whole routing table of who hears what (sink → sources), replacing the previous one. */
  | { type: 'media.route'; nodeId: string; routes: Record<string, string[]> }
  /** Close one browser leg (an agent who accepted but never connected, or who handed the call on). */
  | { type: 'media.closeLeg'; nodeId: string; legId: string }
  /** The call waits in these teams' queues, ordered by priority then `enteredAt`; agents free look here first. */
  | { type: 'queue.enter'; teams: string[]; priority: number; enteredAt: number }
  | { type: 'queue.exit'; teams: string[] }
  /** Agents were freed (ring-all losers, an ended offer): offer the queue heads to free agents again. */
  | { type: 'queue.pump' }
  /** Play the caller's position and expected wait (computed from the queues), then MEDIA.PLAY_ENDED and `thenLoop`. */
  | { type: 'queue.announce'; nodeId: string; playId: string; teams: string[]; thenLoop?: string[] }
  /** The caller has been on hold a long time: tell the agent. */
  | { type: 'agents.holdAlert'; agentId: string; heldMs: number }
  /** The caller asked to be called back: a callback task takes their place in the queue (`cb.<callId>`). */
  | { type: 'callback.create' }
  /** Recording tap on or off (pause = off); the media node saves the files when the call's media closes. */
  | { type: 'media.record'; nodeId: string; on: boolean }
  /** Business-initiated: the WhatsApp leg makes a complete offer; the node reports MEDIA.WA_OFFER. */
  | { type: 'media.createOutbound'; nodeId: string; agentId: string }
  /** Business-initiated: apply Meta's stored answer to the WhatsApp leg. */
  | { type: 'media.applyAnswer'; nodeId: string }
  /** Business-initiated: how the call is going, for the dialing agent (`call:progress`). */
  | {
      type: 'agents.progress';
      agentId: string;
      status: 'dialing' | 'ringing' | 'answered' | 'failed';
      message?: string;
    }
  /** Meta's accept returned 200: the agent's audio may now flow to the caller. */
  | { type: 'media.startAgentAudio'; nodeId: string }
  | { type: 'media.close'; nodeId: string; reason: string }
  /** Graph API actions; job id `${callId}.${action}`; the answer SDP is read from Redis by the worker. */
  | { type: 'graph.preAccept' }
  /**
   * `startAgentAudioOn`: the media node to start the agent's audio on the moment Meta's 200 arrives, one actor round
   * trip before the call's own `media.startAgentAudio` (what the agent says then would otherwise be lost).
   */
  | { type: 'graph.accept'; startAgentAudioOn?: string }
  | { type: 'graph.reject' }
  | { type: 'graph.terminate' }
  /** Business-initiated: Graph `connect` with our stored offer; never retried (Meta would see two calls). */
  | { type: 'graph.connect' }
  /** The call exists: listed for the API and the stranded-call sweep. */
  | { type: 'call.created' }
  /** The call reached `ended`: indexes, daily figures, metrics. */
  | { type: 'call.ended'; reason: string };

export type EffectType = Effect['type'];

/** Deterministic BullMQ job id for a timer (no `:` allowed in BullMQ ids). */
export function timerJobId(callId: string, timer: TimerName, token: string): string {
  return `${callId}.${timer}.${token}`;
}

/** Deterministic BullMQ job id for a Graph API action: the same effect replayed is the same job. */
export function graphJobId(callId: string, action: GraphAction): string {
  return `${callId}.${action}`;
}

interface ActionLike {
  type: string;
  params?: unknown;
}

/**
 * Turns the actions a transition returned into effects. Every effect goes through the one machine action named
 * `effect` whose params are the effect; XState's own built-ins (assign, …) are already applied to the snapshot.
 */
export function actionsToEffects(actions: readonly ActionLike[]): Effect[] {
  const out: Effect[] = [];
  for (const a of actions) {
    if (a.type !== 'effect' || !a.params || typeof a.params !== 'object') continue;
    const p = a.params as Effect | Effect[];
    if (Array.isArray(p)) out.push(...p);
    else out.push(p);
  }
  return out;
}

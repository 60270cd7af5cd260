import path from 'node:path';
import { z } from 'zod';
import { bool, int } from './config.fields.js';

/** How calls are timed, routed, queued and wrapped up. @see config.ts */
export const CallsEnv = z.object({
  CALL_ANSWER_DEADLINE_SECONDS: int(5, 600).default(45),
  AGENT_RING_TIMEOUT_SECONDS: int(3, 300).default(15),
  ACCEPT_DEADLINE_SECONDS: int(1, 120).default(10),
  MAX_CALL_SECONDS: int(30, 86_400).default(4 * 3600),
  WRAP_UP_SECONDS: int(0, 3600).default(5),
  WRAP_UP_REQUIRED: bool.default(false),
  TEAMS_FILE: z.string().optional(),
  HOLD_ALERT_SECONDS: int(5, 3600).default(60),
  QUEUE_SERVICE_LEVEL_SECONDS: int(1, 3600).default(20),
  CALL_RETENTION_SECONDS: int(60, 90 * 86_400).default(7 * 86_400),
  ROUTING_POLICY: z.enum(['ring-all', 'ring-one']).default('ring-all'),
  ROUTING_FILE: z.string().optional(),
});

/** With WRAP_UP_REQUIRED, an agent who never submits is freed after this anyway (every wait has a deadline). */
export const REQUIRED_WRAP_UP_MAX_MS = 8 * 3600_000;

export interface CallsConfig {
  answerDeadlineMs: number;
  ringTimeoutMs: number;
  acceptDeadlineMs: number;
  maxCallMs: number;
  wrapUpMs: number;
  /** The agent stays busy until they submit a wrap-up (bounded by {@link REQUIRED_WRAP_UP_MAX_MS}). */
  wrapUpRequired: boolean;
  /** Per-team settings (wrap-up codes); unset = the default codes for everyone. */
  teamsFile: string | undefined;
  /** A caller on hold longer than this alerts the agent (and again after every further period). */
  holdAlertMs: number;
  /** Service level: the share of queued calls answered within this many seconds of entering the queue. */
  serviceLevelSeconds: number;
  retentionMs: number;
  routingPolicy: 'ring-all' | 'ring-one';
  routingFile: string | undefined;
}

export function callsConfig(e: z.infer<typeof CallsEnv>): CallsConfig {
  return {
    answerDeadlineMs: e.CALL_ANSWER_DEADLINE_SECONDS * 1000,
    ringTimeoutMs: e.AGENT_RING_TIMEOUT_SECONDS * 1000,
    acceptDeadlineMs: e.ACCEPT_DEADLINE_SECONDS * 1000,
    maxCallMs: e.MAX_CALL_SECONDS * 1000,
    wrapUpMs: e.WRAP_UP_SECONDS * 1000,
    wrapUpRequired: e.WRAP_UP_REQUIRED,
    teamsFile: e.TEAMS_FILE ? path.resolve(e.TEAMS_FILE) : undefined,
    holdAlertMs: e.HOLD_ALERT_SECONDS * 1000,
    serviceLevelSeconds: e.QUEUE_SERVICE_LEVEL_SECONDS,
    retentionMs: e.CALL_RETENTION_SECONDS * 1000,
    routingPolicy: e.ROUTING_POLICY,
    routingFile: e.ROUTING_FILE ? path.resolve(e.ROUTING_FILE) : undefined,
  };
}

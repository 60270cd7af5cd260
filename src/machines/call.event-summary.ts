/** The timeline's one-line summary of an event: only fields that are safe to log. */
import type { CallEvent } from './call.types.js';

const SAFE_FIELDS = [
  'status',
  'errorCode',
  'policy',
  'tier',
  'agentIds',
  'agentId',
  'mediaNodeId',
  'action',
  'metaCode',
  'httpStatus',
  'timer',
  'reason',
  'by',
  'note',
  'digit',
  'mode',
  'playId',
  'legId',
] as const;

/** A one-line, log-safe summary of an event for the timeline. */
export function summarizeEvent(event: CallEvent): string | undefined {
  const parts: string[] = [];
  const e = event as Record<string, unknown>;
  for (const f of SAFE_FIELDS) {
    const v = e[f];
    if (v === undefined) continue;
    parts.push(`${f}=${Array.isArray(v) ? v.join(',') : String(v).slice(0, 120)}`);
  }
  if (typeof e.message === 'string') parts.push(`message=${e.message.slice(0, 160)}`);
  return parts.length ? parts.join(' ') : undefined;
}

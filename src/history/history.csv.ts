import type { HistoryRow } from '../shared/rest-types.js';

const CSV_COLUMNS = [
  'call_id',
  'started_at',
  'answered_at',
  'ended_at',
  'caller_name',
  'caller_number',
  'business_number',
  'agent',
  'teams',
  'outcome',
  'ended_by',
  'wait_seconds',
  'talk_seconds',
  'wrap_up_code',
  'wrap_up_notes',
] as const;

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
const secs = (ms: number | null) => (ms === null ? '' : (ms / 1000).toFixed(1));

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A value a spreadsheet would run as
 * a formula (`=`, `+`, `-`, `@` first: agents' notes are free text) is prefixed with `'`.
 */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(row: HistoryRow): string {
  return [
    row.id,
    iso(row.createdAt),
    iso(row.liveAt),
    iso(row.endedAt),
    row.caller.name ?? '',
    row.caller.number,
    row.businessNumber,
    row.agentId ?? '',
    row.teams.join(';'),
    row.outcome,
    row.endedBy ?? '',
    secs(row.waitMs),
    secs(row.talkMs),
    row.wrapUp?.code ?? '',
    row.wrapUp?.notes ?? '',
  ]
    .map(csvField)
    .join(',');
}

export const csvHeader = () => CSV_COLUMNS.join(',');

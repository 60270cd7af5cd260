/** mm:ss, or h:mm:ss past an hour. Negative durations show as 0. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** "12 s", "3 min 5 s" for figures like average speed of answer. */
export function formatSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function formatTime(at: number | null | undefined): string {
  return at ? timeFmt.format(at) : '—';
}

/** Time of day for today, with the date for older entries. */
export function formatWhen(at: number | null | undefined, now = Date.now()): string {
  if (!at) return '—';
  return new Date(at).toDateString() === new Date(now).toDateString() ? timeFmt.format(at) : dateTimeFmt.format(at);
}

export function formatPercent(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;
}

/** Why a call ended, in words (the stable reason codes of the call machine, plus the console's own). */
const REASONS: Record<string, string> = {
  completed: 'The call was completed',
  missed: 'Nobody answered in time',
  rejected: 'The call was rejected before it connected',
  'caller-hung-up': 'The caller hung up before being connected',
  declined: 'They declined the call',
  'not-answered': 'They did not answer',
  'media-failed': 'The audio connection failed',
  'graph-failed': 'WhatsApp did not accept the answer',
  'no-media-received': "The caller's WhatsApp received no audio",
  'no-media-sent': "The caller's WhatsApp could not send audio",
  'media-unknown': 'WhatsApp saw no media connection',
  'answer-timeout': 'WhatsApp gave up waiting for the answer',
  'meta-error': 'WhatsApp ended the call with an error',
  'agent-disconnected': 'Your connection to the call was lost',
  'max-duration': 'The call reached its maximum length',
  'microphone-unavailable': 'Your microphone could not be used',
  transferred: 'You transferred the call',
  'consult-ended': 'The consultation ended; the caller stayed with your colleague',
  abandoned: 'The caller hung up while waiting',
  'no-choice': 'The caller chose nothing in the menu',
  'queue-timeout': 'The caller waited too long and was told goodbye',
};

export function reasonText(reason: string | null | undefined): string {
  if (!reason) return 'Unknown reason';
  return REASONS[reason] ?? reason.replaceAll('-', ' ');
}

const ENDED_BY: Record<string, string> = {
  caller: 'by the caller',
  agent: 'by the agent',
  supervisor: 'by a supervisor',
  system: 'by the system',
  meta: 'by WhatsApp',
};

function endedByText(endedBy: string | null | undefined): string {
  return endedBy ? (ENDED_BY[endedBy] ?? `by ${endedBy}`) : '';
}

/**
 * Why a call ended, with who ended it where that adds something ("completed by the agent"); other reasons already
 * say who (never "The caller hung up … by the caller").
 */
export function outcomeText(reason: string | null | undefined, endedBy: string | null | undefined): string {
  const text = reasonText(reason);
  const by = reason === 'completed' || reason === 'rejected' ? endedByText(endedBy) : '';
  return by ? `${text} ${by}` : text;
}

/** Labels for the call machine's states. */
const STATES: Record<string, string> = {
  ringing: 'Waiting',
  ivr: 'In the menu',
  queued: 'In the queue',
  'agent-offered': 'Ringing',
  bridging: 'Connecting',
  'pre-accepted': 'Connecting',
  live: 'Live',
  'on-hold': 'On hold',
  ended: 'Ended',
  dialing: 'Calling',
  calling: 'Calling',
};

export function stateLabel(state: string): string {
  return STATES[state] ?? state;
}

export function callerLabel(from: { name: string | null; number: string }): string {
  return from.name?.trim() || from.number;
}

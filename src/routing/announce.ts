/**
 * The queue announcement, composed from shipped clips: "you are number N in the queue; the expected wait is
 * M minutes". Pure.
 */

/** Numbers with a shipped clip (`n0` … `n20`). */
const MAX_SPOKEN = 20;

/** Expected wait: the callers ahead share the agents serving the queue, each taking a recent average handle time. */
export function expectedWaitMs(position: number, agents: number, avgHandleMs: number): number {
  return Math.ceil(position / Math.max(1, agents)) * avgHandleMs;
}

export function announcementClips(position: number, waitMs: number | undefined): string[] {
  const clips: string[] = [];
  if (position >= 1 && position <= MAX_SPOKEN) clips.push('you-are-number', `n${position}`, 'in-the-queue');
  else clips.push('please-hold');
  if (waitMs === undefined) return clips;
  const minutes = Math.round(waitMs / 60_000);
  clips.push('expected-wait');
  if (minutes < 1) clips.push('less-than-a-minute');
  else clips.push(`n${Math.min(minutes, MAX_SPOKEN)}`, minutes === 1 ? 'minute' : 'minutes');
  return clips;
}

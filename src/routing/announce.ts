/** Expected wait: the callers ahead share the agents serving the queue, each taking a recent average handle time. */
export function expectedWaitMs(position: number, agents: number, avgHandleMs: number): number {
  return Math.ceil(position / Math.max(1, agents)) * avgHandleMs;
}

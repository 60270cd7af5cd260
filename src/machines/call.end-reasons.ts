/** Why calls end: the reasons recorded in `ended`, and Meta's error codes mapped to them. */

/**
 * Why a call ended. Stable strings: the API, the console, the agent protocol (`call:ended.reason`) and the metrics
 * use them.
 */
export const END_REASONS = [
  /** A live call hung up normally by either side (see `endedBy`). */
  'completed',
  /** Nobody answered by the answer deadline; rejected at Meta. */
  'missed',
  /** The business rejected it (supervisor) before answer. */
  'rejected',
  /** The caller hung up before an agent was connected. */
  'caller-hung-up',
  /** The bridge could not connect or failed mid-call. */
  'media-failed',
  /** A Graph API action (pre_accept/accept) failed for good. */
  'graph-failed',
  /** Meta ended the call: the caller's WhatsApp client received no media (138021). */
  'no-media-received',
  /** Meta ended the call: the caller's WhatsApp client could not send media (138022). */
  'no-media-sent',
  /** Meta ended the call: accepted but no media connection signals (138023). */
  'media-unknown',
  /** Meta ended the call: our answer came too late (138007). */
  'answer-timeout',
  /** Meta ended the call with another error (see `errorCode`). */
  'meta-error',
  /** The bridged agent's media did not come back within the grace period. */
  'agent-disconnected',
  /** The call reached MAX_CALL_SECONDS. */
  'max-duration',
  /** Business-initiated: the user declined the call (REJECTED). */
  'declined',
  /** Business-initiated: the user did not answer in time. */
  'not-answered',
  /** The caller asked to be called back from the queue (a callback task took their place). */
  'callback-requested',
  /** Answered by the business (IVR or queue); the caller hung up before reaching an agent. */
  'abandoned',
  /** The IVR got no usable key after every retry and has no default option: goodbye. */
  'no-choice',
  /** The caller waited `maxWaitSeconds` (after any overflow) and was told goodbye. */
  'queue-timeout',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** Meta error codes on a FAILED terminate → our reason. */
export function reasonForMetaError(code: number | undefined): EndReason {
  switch (code) {
    case 138021:
      return 'no-media-received';
    case 138022:
      return 'no-media-sent';
    case 138023:
      return 'media-unknown';
    case 138019:
    case 138020:
      return 'media-failed';
    case 138007:
      return 'answer-timeout';
    default:
      return 'meta-error';
  }
}

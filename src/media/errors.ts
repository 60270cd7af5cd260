import { AppError } from '../shared/errors.js';

/**
 * Stable codes of {@link MediaError}:
 * - `sdp-invalid`: an offer or answer failed validation or was refused by WebRTC (400: the sender must fix it);
 * - `no-usable-candidates`: nothing in the offer is reachable within `allowedNetworks`;
 * - `media-closed`: the bridge or leg was closed while the operation ran;
 * - `agent-offer-superseded`: a newer agent offer replaced this one before it was answered;
 * - `webrtc-failed`: the WebRTC library refused an operation for another reason (500);
 * - `unsupported`: this media engine cannot do what was asked (e.g. a player on `wrtc`; 501);
 * - `unknown-leg`: no leg with that id on this call (404).
 */
export type MediaErrorCode =
  | 'sdp-invalid'
  | 'no-usable-candidates'
  | 'media-closed'
  | 'agent-offer-superseded'
  | 'webrtc-failed'
  | 'unsupported'
  | 'unknown-leg';

const STATUS: Record<MediaErrorCode, number> = {
  'sdp-invalid': 400,
  'no-usable-candidates': 400,
  'media-closed': 409,
  'agent-offer-superseded': 409,
  'webrtc-failed': 500,
  unsupported: 501,
  'unknown-leg': 404,
};

/** A media-layer failure with a stable `code`; `details` lists individual validation problems. */
export class MediaError extends AppError {
  declare readonly code: MediaErrorCode;
  readonly details: readonly string[];

  constructor(code: MediaErrorCode, message: string, opts: { details?: readonly string[]; cause?: unknown } = {}) {
    super(code, message, { status: STATUS[code], retryable: false, cause: opts.cause });
    this.details = opts.details ?? [];
  }
}

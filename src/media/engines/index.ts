import type { MediaEngine, MediaEngineName } from '../../rtc/engine.js';
import { ForwardCall } from './forward/call.js';
import { CallBridge, WRTC_LACKS } from './wrtc/bridge.js';

/** `wrtc`: libwebrtc decodes and re-encodes (caller ⇄ one agent only). */
const wrtcEngine: MediaEngine = {
  name: 'wrtc',
  lacks: WRTC_LACKS,
  createCall: (opts) => CallBridge.create(opts),
  createOutboundCall: (opts) => CallBridge.createOutbound(opts),
};

/** `forward`: Opus RTP forwarded without decoding, with players, routing, RFC 4733 DTMF and recording. */
const forwardEngine: MediaEngine = {
  name: 'forward',
  lacks: [],
  createCall: (opts) => ForwardCall.create(opts),
  createOutboundCall: (opts) => ForwardCall.createOutbound(opts),
};

export function mediaEngine(name: MediaEngineName): MediaEngine {
  return name === 'forward' ? forwardEngine : wrtcEngine;
}

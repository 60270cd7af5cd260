import type { IceCandidateMessage } from './engine.js';

/** Accepts `{candidate, sdpMid?, sdpMLineIndex?}` (RTCIceCandidateInit) or a bare candidate string. */
export function toCandidateMessage(input: unknown): IceCandidateMessage | 'end' | undefined {
  // null, undefined and an empty candidate are the W3C end-of-candidates forms: nothing to add.
  if (input === null || input === undefined) return 'end';
  if (typeof input === 'string') return input === '' ? 'end' : { candidate: input, sdpMid: null, sdpMLineIndex: null };
  if (typeof input !== 'object') return undefined;
  const o = input as Record<string, unknown>;
  if (o.candidate === '' || o.candidate === null) return 'end';
  if (typeof o.candidate !== 'string' || o.candidate.length > 1024) return undefined;
  const mid = typeof o.sdpMid === 'string' ? o.sdpMid : null;
  const index =
    typeof o.sdpMLineIndex === 'number' && Number.isInteger(o.sdpMLineIndex) && o.sdpMLineIndex >= 0
      ? o.sdpMLineIndex
      : null;
  return { candidate: o.candidate, sdpMid: mid, sdpMLineIndex: index };
}

import { LOOPBACK_NETWORKS } from '../rtc/cidr.js';
import type { MediaLogger } from '../rtc/log.js';
import { CallerPeer } from './caller-peer.js';
import type { CallerFactory } from './simulator.js';

/** Simulated callers with real audio: a wrtc peer that speaks a tone and listens (see caller-peer.ts). */
export function createCallerFactory(opts: {
  logger?: MediaLogger;
  allowedNetworks?: readonly string[] | undefined;
  toneHz?: number;
  markers?: boolean;
  watchHz?: readonly number[];
}): CallerFactory {
  return (callId) =>
    CallerPeer.create({
      toneHz: opts.toneHz ?? 440,
      markers: opts.markers ?? false,
      watchHz: opts.watchHz ?? [],
      allowedNetworks: opts.allowedNetworks ?? LOOPBACK_NETWORKS,
      name: callId.slice(0, 16),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
}

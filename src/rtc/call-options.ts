import { isIP } from 'node:net';
import { NetworkFilter } from './cidr.js';
import type { CallMediaOptions } from './engine.js';
import type { MediaLogger } from './log.js';
import { silentMediaLogger } from './log.js';
import type { WrtcIceServer } from './wrtc.js';

/** The least {@link ResolvedCallOptions.outboundGatherTimeoutMs}. */
const OUTBOUND_GATHER_MS = 8000;

/** What every leg of a call is built with, whatever the engine. */
export interface CallLegOptions {
  iceServers: WrtcIceServer[];
  portRange?: { min: number; max: number };
  networks: NetworkFilter;
  announcedIp?: string;
}

/** {@link CallMediaOptions} checked, with their defaults filled in. */
export interface ResolvedCallOptions {
  agentLegId: string;
  networks: NetworkFilter;
  announcedIp: string | undefined;
  gatherTimeoutMs: number;
  /**
   * The longest wait for the WhatsApp leg's candidates before a business-initiated offer goes out: the user's phone
   * has not rung yet, and a loaded host may take longer to gather than an answer may wait.
   */
  outboundGatherTimeoutMs: number;
  silenceBeforeAccept: boolean;
  logger: MediaLogger;
  legOptions: CallLegOptions;
}

/**
 * Checks the options both media engines share and fills in their defaults. Throws a TypeError whose message starts
 * with `who` (the engine's factory) for the first bad option.
 */
export function resolveCallOptions(opts: CallMediaOptions, who: string): ResolvedCallOptions {
  if (typeof opts.offerSdp !== 'string') throw new TypeError(`${who}: offerSdp must be a string`);
  const networks = new NetworkFilter(opts.allowedNetworks);
  if (opts.announcedIp !== undefined && isIP(opts.announcedIp) === 0) {
    throw new TypeError(`${who}: announcedIp "${opts.announcedIp}" is not an IP address`);
  }
  const range = opts.portRange;
  if (
    range &&
    !(
      Number.isInteger(range.min) &&
      Number.isInteger(range.max) &&
      range.min >= 1 &&
      range.min <= range.max &&
      range.max <= 65535
    )
  ) {
    throw new TypeError(`${who}: portRange needs integers 1 <= min <= max <= 65535`);
  }
  const gatherTimeoutMs = opts.gatherTimeoutMs ?? 2000;
  if (!(gatherTimeoutMs > 0)) throw new TypeError(`${who}: gatherTimeoutMs must be positive`);
  return {
    agentLegId: opts.agentLegId ?? 'agent',
    networks,
    announcedIp: opts.announcedIp,
    gatherTimeoutMs,
    outboundGatherTimeoutMs: Math.max(gatherTimeoutMs, OUTBOUND_GATHER_MS),
    silenceBeforeAccept: opts.silenceBeforeAccept ?? true,
    logger: opts.logger ?? silentMediaLogger,
    legOptions: {
      iceServers: opts.iceServers ?? [],
      ...(range ? { portRange: { min: range.min, max: range.max } } : {}),
      networks,
      ...(opts.announcedIp ? { announcedIp: opts.announcedIp } : {}),
    },
  };
}

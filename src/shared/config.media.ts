import { z } from 'zod';
import { bool, bothOrNeither, csv, int, type Problems } from './config.fields.js';

/** The media nodes' variables (MEDIA_*) and the ICE servers handed to agents' browsers. @see config.ts */
export const MediaEnv = z.object({
  MEDIA_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  MEDIA_CAPACITY: int(1, 1000).optional(),
  MEDIA_ICE_SERVERS: z.string().optional(),
  AGENT_ICE_SERVERS: z.string().optional(),
  MEDIA_ANNOUNCED_IP: z.string().optional(),
  MEDIA_PORT_MIN: int(1024, 65535).optional(),
  MEDIA_PORT_MAX: int(1024, 65535).optional(),
  MEDIA_ALLOWED_NETWORKS: csv().optional(),
  MEDIA_HEARTBEAT_MS: int(200, 60_000).default(2000),
  MEDIA_NODE_TTL_MS: int(1000, 120_000).default(6000),
  MEDIA_DRAIN_TIMEOUT_SECONDS: int(0, 86_400).default(4 * 3600),
  MEDIA_DETECT_DTMF: bool.default(true),
  MEDIA_ENGINE: z.enum(['forward', 'wrtc']).default('forward'),
  MEDIA_RECORDINGS_DIR: z.string().default('data/recordings/parts'),
});

const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServer>;

export interface MediaConfig {
  nodeId: string | undefined;
  capacity: number;
  iceServers: IceServer[];
  announcedIp: string | undefined;
  portRange: { min: number; max: number } | undefined;
  allowedNetworks: string[] | undefined;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** SIGTERM waits this long for live calls to end before ending the rest. */
  drainTimeoutMs: number;
  /** Detect the caller's DTMF keys (played in-band by libwebrtc) and report them as call events. */
  detectDtmf: boolean;
  /** `forward` (RTP forwarding, node-datachannel) or `wrtc` (libwebrtc decodes and re-encodes). */
  engine: 'forward' | 'wrtc';
  /** Where a media node writes `<callId>.caller.ogg` and `<callId>.agents.ogg` (created at start). */
  recordingsDir: string;
}

/**
 * Calls per media process when MEDIA_CAPACITY is unset, from measurements on a 2-core machine (README, Media):
 * forward carried 100 calls at 40 % of a core (0.4 % per call); wrtc ≈ 5–7 % per call, ≈ 13 per core.
 */
const MEDIA_CAPACITY_DEFAULT = { forward: 100, wrtc: 10 } as const;

/** The media section and the agents' ICE servers; what is wrong goes to `problems`. */
export function mediaConfig(
  e: z.infer<typeof MediaEnv>,
  problems: Problems,
): { media: MediaConfig; agentIceServers: IceServer[] } {
  bothOrNeither(problems, ['MEDIA_PORT_MIN', e.MEDIA_PORT_MIN], ['MEDIA_PORT_MAX', e.MEDIA_PORT_MAX]);
  const portRange =
    e.MEDIA_PORT_MIN !== undefined && e.MEDIA_PORT_MAX !== undefined
      ? { min: e.MEDIA_PORT_MIN, max: e.MEDIA_PORT_MAX }
      : undefined;
  if (portRange && portRange.min > portRange.max) {
    problems.push('MEDIA_PORT_MIN must not be greater than MEDIA_PORT_MAX.');
  }
  return {
    media: {
      nodeId: e.MEDIA_NODE_ID,
      capacity: e.MEDIA_CAPACITY ?? MEDIA_CAPACITY_DEFAULT[e.MEDIA_ENGINE],
      iceServers: parseIceServers('MEDIA_ICE_SERVERS', e.MEDIA_ICE_SERVERS, problems),
      announcedIp: e.MEDIA_ANNOUNCED_IP,
      portRange,
      allowedNetworks: e.MEDIA_ALLOWED_NETWORKS,
      heartbeatMs: e.MEDIA_HEARTBEAT_MS,
      nodeTtlMs: e.MEDIA_NODE_TTL_MS,
      drainTimeoutMs: e.MEDIA_DRAIN_TIMEOUT_SECONDS * 1000,
      detectDtmf: e.MEDIA_DETECT_DTMF,
      engine: e.MEDIA_ENGINE,
      recordingsDir: e.MEDIA_RECORDINGS_DIR,
    },
    agentIceServers: parseIceServers('AGENT_ICE_SERVERS', e.AGENT_ICE_SERVERS, problems),
  };
}

function parseIceServers(name: string, value: string | undefined, problems: Problems): IceServer[] {
  if (!value) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    problems.push(
      `${name} is not JSON: set it like [{"urls":"turn:turn.example.com:3478","username":"u","credential":"p"}].`,
    );
    return [];
  }
  const servers = z.array(iceServer).safeParse(raw);
  if (servers.success) return servers.data;
  problems.push(`${name} must be a JSON array of {urls, username?, credential?} objects.`);
  return [];
}

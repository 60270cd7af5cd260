/**
 * Every Redis key the service uses. Keys that belong to one call or one agent carry a `{…}` hash tag so that the
 * multi-key scripts touching them stay inside one Redis Cluster slot.
 */

/** Call ids are Meta's opaque `wacid.…` strings: base64 plus `.`, never `{`, `}` or `:`. */
export const CALL_ID_RE = /^[A-Za-z0-9._=+/-]{1,256}$/;
export const AGENT_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function keys(prefix: string) {
  const call = (id: string) => `${prefix}:call:{${id}}`;
  const agent = (id: string) => `${prefix}:agent:{${id}}`;
  const node = (id: string) => `${prefix}:media:{${id}}`;
  return {
    prefix,
    call: {
      /** hash: snapshot, version, state, createdAt, updatedAt */
      state: call,
      /** hash: effect id → effect JSON, written with the snapshot, deleted once dispatched */
      outbox: (id: string) => `${call(id)}:outbox`,
      /** list of timeline entries (JSON), newest last, bounded */
      timeline: (id: string) => `${call(id)}:timeline`,
      /** hash: offer (Meta's), answer (ours, identical for pre_accept and accept) */
      sdp: (id: string) => `${call(id)}:sdp`,
      /** string: a terminate that arrived before its connect */
      tombstone: (id: string) => `${call(id)}:tomb`,
      /** hash: Graph API action → result, so a replayed job never reaches Meta twice */
      graph: (id: string) => `${call(id)}:graph`,
      /** list of audio stats samples (JSON), bounded */
      stats: (id: string) => `${call(id)}:stats`,
      /** hash: the call's stored recording (bytes, storedAt, store); expires with the call */
      recording: (id: string) => `${call(id)}:rec`,
      /** hash: Meta-side recording and transcript (`<kind>:status|mediaId|bytes|mime|error`); expires with the call */
      metaCapture: (id: string) => `${call(id)}:meta`,
      /** string: set once per Meta media id, so a repeated webhook fetches once */
      metaMediaSeen: (id: string, mediaId: string) => `${call(id)}:meta:${mediaId}`,
      /** string lock held while a sweeper dispatches this call's outbox */
      sweepLock: (id: string) => `${call(id)}:sweep`,
    },
    /** zset callId → createdAt ms (listing) */
    callsRecent: `${prefix}:calls:recent`,
    /** zset callId → createdAt ms, for calls not yet ended (stranded-call sweep, live view) */
    callsActive: `${prefix}:calls:active`,
    /** zset callId → createdAt ms, for calls waiting for an agent (ringing or offered) */
    callsWaiting: `${prefix}:calls:waiting`,
    /** zset callId → ms when its outbox was last written (crash recovery) */
    outboxPending: `${prefix}:outbox:pending`,
    /** Business-answered calls waiting for an agent: one zset per team, callId → priority then entry time. */
    queue: {
      team: (team: string) => `${prefix}:queue:{${team}}`,
      /** list of recent handle times (ms) of this team's calls, newest first (expected wait) */
      handle: (team: string) => `${prefix}:queue:{${team}}:handle`,
      /** list of JSON outcomes of calls that waited in a queue that day (supervisor figures) */
      outcomes: (day: string) => `${prefix}:queue-outcomes:{${day}}`,
      /** string lock held while one process offers queue heads to free agents */
      pumpLock: `${prefix}:queue-pump`,
      /** string: another pass was asked for while the pump was held */
      pumpAgain: `${prefix}:queue-pump:again`,
    },
    /** hash day → JSON counters for supervisor figures */
    statsDaily: (day: string) => `${prefix}:stats:{${day}}`,
    agent: {
      /** hash: status (chosen), callId, wrapUpUntil, idleSince, name */
      state: agent,
      /** zset socketId → lease expiry ms */
      sockets: (id: string) => `${agent(id)}:sockets`,
      /** set of callIds currently offered to this agent */
      offers: (id: string) => `${agent(id)}:offers`,
      /** string: callId this agent is claimed by (accept in progress or on the call) */
      claim: (id: string) => `${agent(id)}:claim`,
    },
    /** zset agentId → lease expiry ms of their freshest socket */
    agentsOnline: `${prefix}:agents:online`,
    outbound: {
      /** string: our call id for Meta's id of a business-initiated call (Meta names the call only at connect) */
      alias: (metaCallId: string) => `${prefix}:wacall:{${metaCallId}}`,
      /** string: the agent whose dial sent a call-permission request to this user (told of the reply) */
      permissionAsk: (waId: string) => `${prefix}:permask:{${waId}}`,
      /** string: held while an agent's dial is being checked and placed (one dial at a time) */
      dialLock: (agentId: string) => `${agent(agentId)}:dial`,
    },
    /** string: the agent who last answered this caller (sticky routing) */
    callerAgent: (waId: string) => `${prefix}:caller:{${waId}}`,
    /** stream of validated webhook events, consumed by the workers (group `ingest`) */
    ingest: `${prefix}:ingest`,
    /** stream of ingest events that failed again and again (kept for inspection) */
    ingestDead: `${prefix}:ingest:dead`,
    /** string counter for login attempts */
    loginAttempts: (who: string) => `${prefix}:login:{${who}}`,
    /** hash agentId → JSON agent record (records, teams and the seeded flag share a hash slot: one MULTI) (name, passwordHash, teams, role, takesCalls, disabled, sessionVersion) */
    agentRecords: `${prefix}:{${prefix}-agents}:records`,
    /** set of team names agents belong to */
    teams: `${prefix}:{${prefix}-agents}:teams`,
    /** string: set once AGENTS_FILE has seeded the records */
    agentsSeeded: `${prefix}:{${prefix}-agents}:seeded`,
    /** string: demo mode's token-signing secret, random, shared by the http replicas on this Redis */
    demoJwtSecret: `${prefix}:demo:jwt-secret`,
    /** pub/sub channel: an agent record changed (message: the agent id) */
    agentsChanged: `${prefix}:agents:changed`,
    media: {
      /** zset nodeId → heartbeat expiry ms */
      nodes: `${prefix}:media:nodes`,
      /** hash: capacity, load, draining, startedAt, url… */
      node: node,
      /** stream of commands for this node */
      commands: (id: string) => `${node(id)}:cmds`,
      /** set of callIds bridged on this node */
      calls: (id: string) => `${node(id)}:calls`,
      /** zset nodeId → placements in the last few seconds (ramp-up penalty) */
      recentPlacements: `${prefix}:media:recent`,
    },
    /**
     * Call history for supervisors: zsets callId → createdAt ms, one for all ended calls and one per filter value,
     * trimmed to the retention. One hash tag, so a query intersects them in one slot.
     */
    history: {
      all: `{${prefix}-hist}:all`,
      by: (field: 'agent' | 'team' | 'outcome' | 'code' | 'number', value: string) =>
        `{${prefix}-hist}:${field}:${value}`,
      /** scratch keys for one query's intersection, expiring in seconds */
      scratch: (id: string) => `{${prefix}-hist}:q:${id}`,
    },
    /** BullMQ prefix; the hash tag keeps each queue's keys in one cluster slot. */
    bullPrefix: `{${prefix}-bull}`,
    /** Socket.IO adapter / emitter channel prefix */
    socketKey: `${prefix}-sio`,
  };
}

export type Keys = ReturnType<typeof keys>;

/** The SCAN patterns that cover everything stored under a prefix: its own keys, BullMQ queues, Socket.IO channels. */
function prefixPatterns(prefix: string): string[] {
  const k = keys(prefix);
  return [`${prefix}:*`, `${k.bullPrefix}*`, `${k.socketKey}*`, `{${prefix}-hist}*`];
}

/**
 * Deletes every key stored under `prefix` (see {@link prefixPatterns}) with SCAN + UNLINK, for tests and benchmarks
 * that own their prefix; returns how many were deleted. Single-node Redis (SCAN sees one node).
 */
export async function deletePrefix(
  redis: {
    scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]>;
    unlink(...keys: string[]): Promise<number>;
  },
  prefix: string,
): Promise<number> {
  let deleted = 0;
  for (const pattern of prefixPatterns(prefix)) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length) deleted += await redis.unlink(...found);
    } while (cursor !== '0');
  }
  return deleted;
}

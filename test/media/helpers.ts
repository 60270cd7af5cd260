import type { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { mediaEngine } from '../../src/media/engines/index.js';
import { isLoopbackAddress, LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import { nowMs } from '../../src/rtc/clock.js';
import type { CallMedia, CallMediaOptions, MediaEngineName } from '../../src/rtc/engine.js';
import type { LegStats } from '../../src/rtc/stats.js';
import { CallerPeer, type CallerPeerOptions } from '../../src/sim/caller-peer.js';
import { NodeAgentPeer, type NodeAgentPeerOptions } from '../../src/testing/node-agent-peer.js';

export const CALLER_HZ = 440;
export const AGENT_HZ = 660;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` every 20 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!(await predicate())) {
    if (nowMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves with the event's first argument; rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(emitter: EventEmitter, event: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (arg: T): void => {
      clearTimeout(timer);
      resolve(arg);
    };
    emitter.once(event, on);
  });
}

export interface CallSetup {
  caller: CallerPeer;
  bridge: CallMedia;
  agent: NodeAgentPeer;
  /** Epoch ms when create() started, when the WhatsApp answer existed, when wa-connected fired. */
  times: { start: number; answered: number; waConnected: number; agentConnected: number };
  close(): void;
}

/** Connects a Node agent to an existing bridge (offer → answer → trickle both ways) and waits for both sides. */
export async function connectAgent(
  bridge: CallMedia,
  opts: NodeAgentPeerOptions = {},
  timeoutMs = 10_000,
): Promise<NodeAgentPeer> {
  const agent = await NodeAgentPeer.create({ toneHz: AGENT_HZ, watchHz: [CALLER_HZ, AGENT_HZ], ...opts });
  try {
    const onCandidate = (c: Parameters<NodeAgentPeer['addCandidate']>[0]): void => void agent.addCandidate(c);
    bridge.on('agent-candidate', onCandidate);
    const connected = nextEvent(bridge, 'agent-connected', timeoutMs);
    const answer = await bridge.acceptAgentOffer(agent.offerSdp);
    agent.trickle((c) => void bridge.addAgentCandidate(c));
    await agent.applyAnswer(answer);
    await Promise.all([connected, agent.waitConnected(timeoutMs)]);
    // The listener stays until the bridge closes; once this agent is closed its addCandidate() is a no-op.
    return agent;
  } catch (err) {
    agent.close();
    throw err;
  }
}

/** A caller, a bridge and a Node agent, all connected (loopback only). Caller audio flows; agent audio not yet. */
export async function setupCall(
  opts: {
    caller?: CallerPeerOptions;
    agent?: NodeAgentPeerOptions;
    bridge?: Partial<CallMediaOptions>;
    /** @default 'wrtc' */
    engine?: MediaEngineName;
    timeoutMs?: number;
  } = {},
): Promise<CallSetup> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const caller = await CallerPeer.create({ toneHz: CALLER_HZ, watchHz: [CALLER_HZ, AGENT_HZ], ...opts.caller });
  let bridge: CallMedia | undefined;
  let agent: NodeAgentPeer | undefined;
  try {
    const start = nowMs();
    bridge = await mediaEngine(opts.engine ?? 'wrtc').createCall({
      offerSdp: caller.offerSdp,
      allowedNetworks: LOOPBACK_NETWORKS,
      ...opts.bridge,
    });
    const answered = nowMs();
    const waConnected = nextEvent(bridge, 'wa-connected', timeoutMs).then(() => nowMs());
    await caller.applyAnswer(bridge.waAnswerSdp);
    await caller.waitConnected(timeoutMs);
    const waAt = await waConnected;
    agent = await connectAgent(bridge, opts.agent, timeoutMs);
    const agentAt = nowMs();
    const b = bridge;
    const a = agent;
    return {
      caller,
      bridge: b,
      agent: a,
      times: { start, answered, waConnected: waAt, agentConnected: agentAt },
      close: () => {
        b.close();
        a.close();
        caller.close();
      },
    };
  } catch (err) {
    bridge?.close();
    agent?.close();
    caller.close();
    throw err;
  }
}

/** Addresses of this host: loopback plus every interface address. Traffic between them never leaves the machine. */
export function hostAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(i.address);
  return out;
}

/**
 * The selected candidate pair of a leg stays on this host. The remote side is one of: a loopback candidate we
 * signalled; an address of this host; or a peer-reflexive candidate, whose address libwebrtc hides in stats — it
 * was learned from a connectivity check that reached one of our loopback sockets, so it is a local address too.
 * The local side may be a non-loopback address of this host: wrtc binds every interface and has no option not to.
 */
export function expectHostLocalPair(stats: LegStats): void {
  const pair = stats.candidatePair;
  if (!pair) throw new Error('no selected candidate pair');
  const ip = (hostPort: string): string => hostPort.slice(0, hostPort.lastIndexOf(':'));
  const local = hostAddresses();
  if (!local.has(ip(pair.local))) throw new Error(`local address ${pair.local} is not on this host`);
  const remote = ip(pair.remote);
  if (pair.remoteType === 'prflx' && remote === '?') return;
  if (!isLoopbackAddress(remote) && !local.has(remote))
    throw new Error(`remote address ${pair.remote} is not on this host`);
}

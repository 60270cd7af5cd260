/**
 * 4 media (engines): the two media engines side by side in one run, each in its own media process driven over
 * IPC (signalling only; media is loopback UDP between this process's peers and the engine's).
 *
 * - forward: this process runs the load rig that does not decode (src/testing/opus-peer.ts): per call a
 *   WhatsApp-shaped caller and a browser-shaped agent sending numbered, pre-encoded Opus and checking it byte for
 *   byte (loss, clipping, order, latency), plus a few real libwebrtc calls (tone + markers) as the reference. Then
 *   waiting callers: callers that hear only the player's music, checked frame by frame.
 * - wrtc: libwebrtc re-encodes, so numbered payloads cannot survive it: its calls use the wrtc peers (tone +
 *   markers), which cost this process ≈ 5 % of a core per peer, so its ramp is short.
 * - Baselines in the same run: the rig peer to peer (forward's added latency) and wrtc peer to peer (measureDirect).
 */
import path from 'node:path';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { reportBothWays } from '../../src/audio/audio-peer.js';
import { ClipCache } from '../../src/media/opus/clips.js';
import { nowMs } from '../../src/rtc/clock.js';
import type { IceCandidateMessage } from '../../src/rtc/engine.js';
import { CallerPeer } from '../../src/sim/caller-peer.js';
import { NodeAgentPeer } from '../../src/testing/node-agent-peer.js';
import { epochMs, type NumberedReport } from '../../src/testing/numbered-opus.js';
import { encodeToneFrames } from '../../src/testing/opus-fixtures.js';
import { OpusRigPeer } from '../../src/testing/opus-peer.js';
import type { HostMessage, HostRequest } from '../engine-host.js';
import { CpuMeter, otherShare, processRssBytes, type QuietGate } from '../lib/cpu.js';
import { measureDirect } from '../lib/direct.js';
import { type Child, ROOT, spawnNode } from '../lib/procs.js';
import type { Row } from '../lib/table.js';
import { fmt, log, sleep } from '../lib/util.js';
import { runServiceForward, type ServiceForwardResult } from './service-forward.js';

const CALLER_HZ = 440;
const AGENT_HZ = 660;

export interface EnginesOptions {
  forwardRamp: readonly number[];
  wrtcRamp: readonly number[];
  /** Real libwebrtc calls (tone + markers) among the forward engine's calls, as the reference. */
  references: number;
  /** Callers hearing only the player, on one forward media process. */
  waiting: number;
  /** Calls through the whole service (http, worker, forward media node) with rig peers; 0 to skip. */
  serviceCalls: number;
  settleMs: number;
  windowMs: number;
  gate: QuietGate;
  redisUrl: string;
  redisPid: number | undefined;
}

export interface EngineStep {
  calls: number;
  verified: number;
  /** Reference (libwebrtc) calls among them, and how many of those were verified. */
  references: number;
  referencesVerified: number;
  /** Packets (forward) or 100 ms markers (wrtc) lost, both directions, % of expected. */
  lossPct: number;
  /** Worst audio lost at the start of a call after it was bridged, ms. */
  clippedMaxMs: number;
  hostCpuPct: number;
  cpuPerCallPct: number;
  rssBytes: number;
  rssPerCallBytes: number;
  /** This process (the peers), % of one core. */
  rigCpuPct: number;
  machineBusyPct: number;
  otherPct: number;
  /** Median over calls of each call's median one-way latency, both directions pooled. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  failures: string[];
}

export interface WaitingStep {
  callers: number;
  hostCpuPct: number;
  cpuPerCallerPct: number;
  rssPerCallerBytes: number;
  /** Music frames that arrived in the window, and frames skipped between them. */
  framesReceived: number;
  framesLost: number;
  /** Callers that got music in order (no frame skipped) all through the window. */
  verified: number;
  otherPct: number;
}

export interface EngineRun {
  idleCpuPct: number;
  idleRssBytes: number;
  steps: EngineStep[];
}

export interface EnginesResult {
  forward: EngineRun & { waiting: WaitingStep | null; directP50Ms: number | null };
  wrtc: EngineRun & { directP50Ms: number | null };
  service: ServiceForwardResult | { error: string } | null;
  failures: string[];
}

/** One engine's media process, driven over IPC. */
class EngineHost {
  readonly #child: Child;
  readonly #pending = new Map<number, { resolve: (v: string | undefined) => void; reject: (e: Error) => void }>();
  readonly #candidates = new Map<string, (c: IceCandidateMessage) => void>();
  #next = 1;

  static async start(engine: 'forward' | 'wrtc'): Promise<EngineHost> {
    const child = await spawnNode(`engine-${engine}`, [path.join(ROOT, 'bench', 'engine-host.ts')], {
      env: { BENCH_ENGINE: engine },
      ipc: true,
      ready: /engine host ready/,
    });
    return new EngineHost(child);
  }

  private constructor(child: Child) {
    this.#child = child;
    child.proc.on('message', (m: HostMessage) => {
      if ('event' in m) {
        if (m.event === 'agent-candidate') this.#candidates.get(m.callId)?.(m.candidate as IceCandidateMessage);
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.answer);
      else p.reject(new Error(m.error));
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  request(req: DistributiveOmit<HostRequest, 'id'>, timeoutMs = 15_000): Promise<string | undefined> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`engine host: no reply to ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.proc.send({ ...req, id });
    });
  }

  onCandidate(callId: string, sink: (c: IceCandidateMessage) => void): void {
    this.#candidates.set(callId, sink);
  }

  async stop(): Promise<void> {
    await this.#child.stop(5000);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface LiveCall {
  callId: string;
  kind: 'rig' | 'wrtc';
  /** Epoch ms when the host confirmed the bridge (the agent's audio to the caller starts). */
  bridgedAt: number;
  rig?: { caller: OpusRigPeer; agent: OpusRigPeer };
  wrtc?: { caller: CallerPeer; agent: NodeAgentPeer };
  close(): void;
}

let callSeq = 0;

/** What bridgeOnHost() needs of the caller's peer (the agent's also takes the host's candidates). */
interface HostPeer {
  readonly offerSdp: string;
  applyAnswer(sdp: string): Promise<void>;
  waitConnected(timeoutMs: number): Promise<unknown>;
  close(): void;
}
interface HostAgentPeer extends HostPeer {
  addCandidate(c: IceCandidateMessage): Promise<boolean>;
}

/**
 * Creates the call on the host from `caller`'s offer, connects the agent from `createAgent` and bridges them;
 * `bridgedAt` is read from `clock` once the host confirms. `agentOffered` runs before the agent applies the host's
 * answer, `connected` once both peers are connected (before the bridge). On failure both peers and the host's call
 * are closed.
 */
async function bridgeOnHost<A extends HostAgentPeer>(
  host: EngineHost,
  callId: string,
  caller: HostPeer,
  createAgent: () => Promise<A>,
  hooks: { clock: () => number; agentOffered?: (agent: A) => void; connected?: (agent: A) => void },
): Promise<{ agent: A; bridgedAt: number; close: () => void }> {
  let agent: A | undefined;
  try {
    const answer = await host.request({ op: 'create', callId, offerSdp: caller.offerSdp });
    await caller.applyAnswer(answer ?? '');
    const a = await createAgent();
    agent = a;
    host.onCandidate(callId, (c) => void a.addCandidate(c));
    const agentAnswer = await host.request({ op: 'agentOffer', callId, sdp: a.offerSdp });
    hooks.agentOffered?.(a);
    await a.applyAnswer(agentAnswer ?? '');
    await Promise.all([caller.waitConnected(10_000), a.waitConnected(10_000)]);
    hooks.connected?.(a);
    await host.request({ op: 'bridge', callId });
    const bridgedAt = hooks.clock();
    return {
      agent: a,
      bridgedAt,
      close: () => {
        caller.close();
        a.close();
        void host.request({ op: 'close', callId }).catch(() => undefined);
      },
    };
  } catch (err) {
    caller.close();
    agent?.close();
    void host.request({ op: 'close', callId }).catch(() => undefined);
    throw err;
  }
}

async function openRigCall(host: EngineHost, frames: { caller: Buffer[]; agent: Buffer[] }): Promise<LiveCall> {
  const callId = `bench-rig-${++callSeq}`;
  const caller = await OpusRigPeer.offer('caller', { frames: frames.caller, name: callId });
  const { agent, bridgedAt, close } = await bridgeOnHost(
    host,
    callId,
    caller,
    () => OpusRigPeer.offer('agent', { frames: frames.agent, name: `${callId}-agent` }),
    {
      clock: epochMs,
      connected: (a) => {
        a.expect(caller.sender);
        caller.expect(a.sender);
      },
    },
  );
  caller.markAccepted(bridgedAt);
  return { callId, kind: 'rig', bridgedAt, rig: { caller, agent }, close };
}

async function openWrtcCall(host: EngineHost): Promise<LiveCall> {
  const callId = `bench-wrtc-${++callSeq}`;
  const caller = await CallerPeer.create({ toneHz: CALLER_HZ, markers: true, watchHz: [AGENT_HZ], name: callId });
  const { agent, bridgedAt, close } = await bridgeOnHost(
    host,
    callId,
    caller,
    () => NodeAgentPeer.create({ toneHz: AGENT_HZ, markers: true, watchHz: [CALLER_HZ], name: callId }),
    {
      clock: nowMs,
      agentOffered: (a) =>
        a.trickle((c) => void host.request({ op: 'agentCandidate', callId, candidate: c }).catch(() => undefined)),
    },
  );
  caller.markAccepted(bridgedAt);
  return { callId, kind: 'wrtc', bridgedAt, wrtc: { caller, agent }, close };
}

/** Opens calls until `live` holds `target`, ten at a time; failures are recorded, not thrown (up to a limit). */
async function fill(
  live: LiveCall[],
  target: number,
  open: () => Promise<LiveCall>,
  failures: string[],
): Promise<void> {
  while (live.length < target) {
    const batch = Math.min(10, target - live.length);
    const results = await Promise.allSettled(Array.from({ length: batch }, open));
    for (const r of results) {
      if (r.status === 'fulfilled') live.push(r.value);
      else failures.push(`opening a call: ${(r.reason as Error).message}`);
    }
    if (failures.length > 10) throw new Error(`too many calls failed to open: ${failures.slice(0, 3).join('; ')}`);
  }
}

const near = (hz: number | null, want: number) => hz !== null && Math.abs(hz - want) <= 5;
const median = (v: number[]): number | null => {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
};

/** Measures one window over the live calls. */
async function measureStep(
  host: EngineHost,
  live: LiveCall[],
  opts: EnginesOptions,
  idle: EngineRun,
): Promise<EngineStep> {
  await opts.gate.wait(`engines N=${live.length}`, { host: host.pid, rig: process.pid });
  const meter = new CpuMeter({ host: host.pid, rig: process.pid }).start();
  const since = epochMs();
  let rss = Number.POSITIVE_INFINITY;
  const sampler = setInterval(() => {
    rss = Math.min(rss, processRssBytes(host.pid) ?? rss);
  }, 250);
  await sleep(opts.windowMs);
  clearInterval(sampler);
  const until = epochMs();
  await sleep(400);
  await drainAnalysis();
  const cpu = meter.stop();
  if (!Number.isFinite(rss)) rss = processRssBytes(host.pid) ?? Number.NaN;
  let expected = 0;
  let lost = 0;
  let verified = 0;
  let references = 0;
  let referencesVerified = 0;
  let clippedMax = 0;
  // Latency from the rig's calls (byte-exact, sub-ms clock); the libwebrtc references' markers only when there are
  // no rig calls (their figure includes decoding and a jitter buffer).
  const p50s: number[] = [];
  const p99s: number[] = [];
  const refP50s: number[] = [];
  const failures: string[] = [];
  for (const c of live) {
    if (c.rig) {
      const { caller, agent } = c.rig;
      const ways: NumberedReport[] = [
        agent.report(caller.sender, { since, until }),
        caller.report(agent.sender, { since, until }),
      ];
      const fromBridge = [
        agent.report(caller.sender, { since: c.bridgedAt, until }),
        caller.report(agent.sender, { since: c.bridgedAt, until }),
      ];
      const clipped = Math.max(...fromBridge.map((r) => r.clippedMs));
      clippedMax = Math.max(clippedMax, clipped);
      let ok = clipped === 0;
      for (const r of ways) {
        expected += r.expected;
        lost += r.lost;
        if (r.latencyP50Ms !== null) p50s.push(r.latencyP50Ms);
        if (r.latencyP99Ms !== null) p99s.push(r.latencyP99Ms);
        ok &&= r.expected > 0 && r.lossPct < 0.1 && r.corrupted === 0;
      }
      if (ok) verified++;
      else
        failures.push(
          `${c.callId}: c→a ${ways[0]?.lost}/${ways[0]?.expected} lost, a→c ${ways[1]?.lost}/${ways[1]?.expected}, clipped ${clipped} ms`,
        );
    } else if (c.wrtc) {
      references++;
      const { atAgent, atCaller } = reportBothWays(c.wrtc.caller, c.wrtc.agent, { since, until });
      const m = [atAgent.markers, atCaller.markers];
      for (const r of m) {
        expected += r?.expected ?? 0;
        lost += r?.missing.length ?? 0;
        if (r?.latencyMs) refP50s.push(r.latencyMs.median);
      }
      const ok =
        near(atAgent.dominantHz, CALLER_HZ) &&
        near(atCaller.dominantHz, AGENT_HZ) &&
        m.every((r) => r !== undefined && r.expected > 0 && r.missing.length / r.expected < 0.01);
      if (ok) {
        verified++;
        referencesVerified++;
      } else
        failures.push(
          `${c.callId} (libwebrtc): heard ${atAgent.dominantHz}/${atCaller.dominantHz} Hz, markers lost ${m.map((r) => `${r?.missing.length}/${r?.expected}`).join(', ')}`,
        );
    }
  }
  const hostCpu = cpu.byPid.host ?? Number.NaN;
  const rigCpu = cpu.byPid.rig ?? Number.NaN;
  const n = live.length;
  return {
    calls: n,
    verified,
    references,
    referencesVerified,
    lossPct: expected > 0 ? (lost / expected) * 100 : Number.NaN,
    clippedMaxMs: clippedMax,
    hostCpuPct: hostCpu,
    cpuPerCallPct: n > 0 ? (hostCpu - idle.idleCpuPct) / n : Number.NaN,
    rssBytes: rss,
    rssPerCallBytes: n > 0 ? (rss - idle.idleRssBytes) / n : Number.NaN,
    rigCpuPct: rigCpu,
    machineBusyPct: cpu.machineBusyPct,
    otherPct: otherShare(cpu, hostCpu + rigCpu),
    latencyP50Ms: median(p50s.length ? p50s : refP50s),
    latencyP99Ms: p99s.length ? Math.max(...p99s) : null,
    failures,
  };
}

async function idleOf(host: EngineHost): Promise<{ idleCpuPct: number; idleRssBytes: number }> {
  await sleep(500);
  const m = new CpuMeter({ host: host.pid }).start();
  await sleep(1500);
  return { idleCpuPct: m.stop().byPid.host ?? Number.NaN, idleRssBytes: processRssBytes(host.pid) ?? Number.NaN };
}

function stepLog(engine: string, s: EngineStep): void {
  log(
    `  ${engine} N=${s.calls}: verified ${s.verified}/${s.calls}${s.references ? ` (libwebrtc ${s.referencesVerified}/${s.references})` : ''}, loss ${s.lossPct.toFixed(3)} %, clipped ≤ ${s.clippedMaxMs} ms, media CPU ${s.hostCpuPct.toFixed(1)} % (${s.cpuPerCallPct.toFixed(2)} %/call), RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MB, latency p50 ${s.latencyP50Ms?.toFixed(1)} ms${s.latencyP99Ms !== null ? ` p99 ${s.latencyP99Ms.toFixed(1)} ms` : ''}, rig ${s.rigCpuPct.toFixed(0)} %, others ${s.otherPct.toFixed(0)} %${s.failures.length ? `; ${s.failures.slice(0, 3).join('; ')}` : ''}`,
  );
}

/** The rig peer to peer: the latency forward's figures are compared with. */
async function rigDirect(frames: { caller: Buffer[]; agent: Buffer[] }, windowMs: number): Promise<number | null> {
  const caller = await OpusRigPeer.offer('caller', { frames: frames.caller });
  const { peer: agent, answerSdp } = await OpusRigPeer.answer(caller.offerSdp, { frames: frames.agent });
  try {
    agent.expect(caller.sender);
    caller.expect(agent.sender);
    await caller.applyAnswer(answerSdp);
    await Promise.all([caller.waitConnected(), agent.waitConnected()]);
    await sleep(500);
    const since = epochMs();
    await sleep(windowMs);
    const until = epochMs();
    await sleep(400);
    return median(
      [agent.report(caller.sender, { since, until }), caller.report(agent.sender, { since, until })]
        .map((r) => r.latencyP50Ms)
        .filter((v): v is number => v !== null),
    );
  } finally {
    caller.close();
    agent.close();
  }
}

async function runForward(opts: EnginesOptions, frames: { caller: Buffer[]; agent: Buffer[] }, failures: string[]) {
  const directP50Ms = await rigDirect(frames, Math.min(3000, opts.windowMs));
  log(`  rig peer to peer: one-way latency p50 ${directP50Ms?.toFixed(2)} ms`);
  const host = await EngineHost.start('forward');
  const live: LiveCall[] = [];
  const run: EnginesResult['forward'] = { idleCpuPct: 0, idleRssBytes: 0, steps: [], waiting: null, directP50Ms };
  try {
    Object.assign(run, await idleOf(host));
    await fill(live, opts.references, () => openWrtcCall(host), failures);
    for (const target of opts.forwardRamp) {
      await fill(live, target, () => openRigCall(host, frames), failures);
      await sleep(opts.settleMs);
      const step = await measureStep(host, live, opts, run);
      stepLog('forward', step);
      run.steps.push(step);
    }
    for (const c of live.splice(0)) c.close();
    await sleep(1000);
    // Waiting callers: music from the player, nothing else.
    if (opts.waiting > 0) run.waiting = await measureWaiting(host, opts, frames, run, failures);
  } finally {
    for (const c of live) c.close();
    await host.stop();
  }
  return run;
}

async function measureWaiting(
  host: EngineHost,
  opts: EnginesOptions,
  frames: { caller: Buffer[] },
  idle: EngineRun,
  failures: string[],
): Promise<WaitingStep> {
  const music = await ClipCache.shared.load('music');
  const callers: OpusRigPeer[] = [];
  try {
    while (callers.length < opts.waiting) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(10, opts.waiting - callers.length) }, async () => {
          const callId = `bench-wait-${++callSeq}`;
          const caller = await OpusRigPeer.offer('caller', { frames: frames.caller, name: callId });
          try {
            caller.inbox.expectClip(music.frames);
            await caller.applyAnswer((await host.request({ op: 'create', callId, offerSdp: caller.offerSdp })) ?? '');
            await caller.waitConnected(10_000);
            await host.request({ op: 'wait', callId });
            return caller;
          } catch (err) {
            caller.close();
            throw err;
          }
        }),
      );
      for (const r of batch) {
        if (r.status === 'fulfilled') callers.push(r.value);
        else failures.push(`opening a waiting caller: ${(r.reason as Error).message}`);
      }
      if (failures.length > 10) throw new Error('too many waiting callers failed to open');
    }
    await sleep(opts.settleMs);
    await opts.gate.wait(`waiting callers N=${callers.length}`, { host: host.pid, rig: process.pid });
    const before = callers.map((c) => ({ ...snapshot(c) }));
    const meter = new CpuMeter({ host: host.pid, rig: process.pid }).start();
    await sleep(opts.windowMs);
    const cpu = meter.stop();
    const rss = processRssBytes(host.pid) ?? Number.NaN;
    let framesReceived = 0;
    let framesLost = 0;
    let verified = 0;
    callers.forEach((c, i) => {
      const a = snapshot(c);
      const b = before[i] as { received: number; lost: number };
      const got = a.received - b.received;
      const lost = a.lost - b.lost;
      framesReceived += got;
      framesLost += lost;
      if (got >= (opts.windowMs / 20) * 0.9 && lost === 0) verified++;
    });
    const hostCpu = cpu.byPid.host ?? Number.NaN;
    const step: WaitingStep = {
      callers: callers.length,
      hostCpuPct: hostCpu,
      cpuPerCallerPct: (hostCpu - idle.idleCpuPct) / callers.length,
      rssPerCallerBytes: (rss - idle.idleRssBytes) / callers.length,
      framesReceived,
      framesLost,
      verified,
      otherPct: otherShare(cpu, hostCpu + (cpu.byPid.rig ?? 0)),
    };
    log(
      `  forward waiting callers N=${step.callers}: music in order at ${verified}, ${framesReceived} frames (${framesLost} skipped), media CPU ${hostCpu.toFixed(1)} % (${step.cpuPerCallerPct.toFixed(2)} %/caller)`,
    );
    return step;
  } finally {
    for (const c of callers) c.close();
  }
}

function snapshot(c: OpusRigPeer): { received: number; lost: number } {
  const clip = c.inbox.clipReceiver;
  return { received: clip?.received ?? 0, lost: clip?.lost ?? 0 };
}

async function runWrtc(opts: EnginesOptions, failures: string[]) {
  const direct = await measureDirect({
    windowMs: Math.min(3000, opts.windowMs),
    settleMs: 500,
    callerHz: CALLER_HZ,
    agentHz: AGENT_HZ,
  });
  const directP50Ms = median([direct.callerToAgentMs, direct.agentToCallerMs].filter((v): v is number => v !== null));
  log(`  wrtc peer to peer: one-way latency p50 ${directP50Ms?.toFixed(1)} ms (markers)`);
  const host = await EngineHost.start('wrtc');
  const live: LiveCall[] = [];
  const run: EnginesResult['wrtc'] = { idleCpuPct: 0, idleRssBytes: 0, steps: [], directP50Ms };
  try {
    Object.assign(run, await idleOf(host));
    for (const target of opts.wrtcRamp) {
      await fill(live, target, () => openWrtcCall(host), failures);
      await sleep(opts.settleMs);
      const step = await measureStep(host, live, opts, run);
      // Every call here is a libwebrtc call: they are the step's calls, not references.
      step.references = 0;
      step.referencesVerified = 0;
      stepLog('wrtc', step);
      run.steps.push(step);
      if (step.verified < step.calls) {
        log(`  wrtc: not every call verified at N=${step.calls}: its ramp stops here`);
        break;
      }
    }
  } finally {
    for (const c of live) c.close();
    await host.stop();
  }
  return run;
}

export async function runEngines(opts: EnginesOptions): Promise<EnginesResult> {
  const failures: string[] = [];
  const [caller, agent] = await Promise.all([encodeToneFrames(CALLER_HZ), encodeToneFrames(AGENT_HZ)]);
  const frames = { caller, agent };
  log('4 media (engines): forward');
  const forward = await runForward(opts, frames, failures);
  log('4 media (engines): wrtc');
  const wrtc = await runWrtc(opts, failures);
  let service: EnginesResult['service'] = null;
  if (opts.serviceCalls > 0) {
    log('4 media (engines): forward through the whole service');
    service = await runServiceForward({ ...opts, calls: opts.serviceCalls, frames }).catch((err: unknown) => ({
      error: String(err),
    }));
  }
  return { forward, wrtc, service, failures };
}

/** The forward engine's goals (the README's Performance table shows them). */
export const ENGINE_GOALS = {
  forwardCallsPerCore: 100,
  forwardCpuPerCallPct: 1,
  forwardToWrtcCpuRatio: 0.2,
  addedLatencyMs: 20,
  clippedMs: 0,
  lossPct: 0.1,
} as const;

const stepClean = (s: EngineStep) => s.verified === s.calls && s.lossPct < ENGINE_GOALS.lossPct;

export function engineRows(r: EnginesResult): Row[] {
  const rows: Row[] = [];
  const f = r.forward;
  const w = r.wrtc;
  const ok = (b: boolean) => (b ? 'ok' : 'MISS');
  const pct = (v: number, d = 2) => (Number.isFinite(v) ? `${fmt(v, d)} %` : '—');
  const msv = (v: number | null, d = 1) => (v === null || !Number.isFinite(v) ? '—' : `${fmt(v, d)} ms`);
  const others = (steps: { otherPct: number }[]) => {
    const v = steps.map((s) => s.otherPct).filter(Number.isFinite);
    return v.length ? `${Math.round(Math.max(...v))} %` : '';
  };
  const fLast = f.steps[f.steps.length - 1];
  const fFirst = f.steps[0];
  const fClean = [...f.steps].reverse().find(stepClean);
  const wClean = [...w.steps].reverse().find(stepClean);
  const wFirst = w.steps[0];
  const maxTried = Math.max(0, ...f.steps.map((s) => s.calls));
  rows.push({
    item: '4 media',
    what: `forward engine: calls verified byte for byte on 1 media process (N:verified ${f.steps.map((s) => `${s.calls}:${s.verified}`).join(' ')}; ${fLast?.references ?? 0} libwebrtc reference calls among them)`,
    value: `${fClean?.calls ?? 0} of ${maxTried} tried`,
    baseline: `wrtc engine ${wClean?.calls ?? 0} of ${Math.max(0, ...w.steps.map((s) => s.calls))} tried`,
    ratio: '—',
    goal: `≥ ${ENGINE_GOALS.forwardCallsPerCore}`,
    status: ok((fClean?.calls ?? 0) >= ENGINE_GOALS.forwardCallsPerCore && (fClean?.hostCpuPct ?? 1e9) <= 100),
    others: others(f.steps),
  });
  if (fLast && wClean) {
    const ratio = fLast.cpuPerCallPct / wClean.cpuPerCallPct;
    rows.push({
      item: '4 media',
      what: `media process CPU per call, % of a core: forward at N=${fLast.calls} (${pct(fLast.hostCpuPct, 0)} in all; rig ${pct(fLast.rigCpuPct, 0)}) vs wrtc at N=${wClean.calls}`,
      value: pct(fLast.cpuPerCallPct),
      baseline: `wrtc ${pct(wClean.cpuPerCallPct)}`,
      ratio: fmt(ratio, 3),
      goal: `≤ ${ENGINE_GOALS.forwardCpuPerCallPct} % and ≤ ${ENGINE_GOALS.forwardToWrtcCpuRatio}×`,
      status: ok(
        fLast.cpuPerCallPct <= ENGINE_GOALS.forwardCpuPerCallPct && ratio <= ENGINE_GOALS.forwardToWrtcCpuRatio,
      ),
      others: others([fLast, wClean]),
    });
    const perCore = (100 - f.idleCpuPct) / fLast.cpuPerCallPct;
    const wPerCore = (100 - w.idleCpuPct) / wClean.cpuPerCallPct;
    rows.push({
      item: '4 media',
      what: `projected calls per core (a core to the media process, CPU per call at N=${fLast.calls} / wrtc N=${wClean.calls})`,
      value: `≈ ${Math.floor(perCore)}`,
      baseline: `wrtc ≈ ${Math.floor(wPerCore)}`,
      ratio: fmt(perCore / wPerCore, 1),
      goal: `≥ ${ENGINE_GOALS.forwardCallsPerCore}`,
      status: ok(perCore >= ENGINE_GOALS.forwardCallsPerCore),
      others: others([fLast, wClean]),
    });
    rows.push({
      item: '4 media',
      what: `media process RSS per call: forward N=${fLast.calls} / wrtc N=${wClean.calls}`,
      value: `${fmt(fLast.rssPerCallBytes / 2 ** 20, 2)} MB`,
      baseline: `wrtc ${fmt(wClean.rssPerCallBytes / 2 ** 20, 2)} MB`,
      ratio: '—',
      goal: '',
      status: '',
      others: '',
    });
  }
  if (fFirst) {
    const added = fFirst.latencyP50Ms !== null && f.directP50Ms !== null ? fFirst.latencyP50Ms - f.directP50Ms : null;
    rows.push({
      item: '4 media',
      what: `forward: one-way latency p50 at N=${fFirst.calls} (p99 worst call ${msv(fFirst.latencyP99Ms)}), added vs the rig peer to peer`,
      value: msv(fFirst.latencyP50Ms, 2),
      baseline: `direct ${msv(f.directP50Ms, 2)}`,
      ratio: added === null ? '—' : `+${fmt(added, 2)} ms`,
      goal: `≤ ${ENGINE_GOALS.addedLatencyMs} ms`,
      status: ok(added !== null && added <= ENGINE_GOALS.addedLatencyMs),
      others: others([fFirst]),
    });
  }
  if (wFirst) {
    const added = wFirst.latencyP50Ms !== null && w.directP50Ms !== null ? wFirst.latencyP50Ms - w.directP50Ms : null;
    rows.push({
      item: '4 media',
      what: `wrtc: one-way latency p50 at N=${wFirst.calls} (markers), added vs wrtc peer to peer`,
      value: msv(wFirst.latencyP50Ms, 0),
      baseline: `direct ${msv(w.directP50Ms, 0)}`,
      ratio: added === null ? '—' : `+${fmt(added, 0)} ms`,
      goal: '',
      status: '',
      others: others([wFirst]),
    });
  }
  const clipped = Math.max(0, ...f.steps.map((s) => s.clippedMaxMs));
  const lossAll = f.steps.length ? Math.max(...f.steps.map((s) => s.lossPct)) : Number.NaN;
  rows.push({
    item: '4 media',
    what: 'forward: worst audio clipped after bridging / worst loss of any step (packets, both ways)',
    value: `${clipped} ms / ${pct(lossAll, 3)}`,
    baseline: '—',
    ratio: '—',
    goal: `${ENGINE_GOALS.clippedMs} ms / < ${ENGINE_GOALS.lossPct} %`,
    status: ok(clipped === ENGINE_GOALS.clippedMs && lossAll < ENGINE_GOALS.lossPct),
    others: others(f.steps),
  });
  if (f.waiting) {
    const q = f.waiting;
    rows.push({
      item: '4 media',
      what: `forward: waiting callers (player's music → caller only) on 1 media process, music frame by frame in order (${q.framesLost} frames skipped of ${q.framesReceived})`,
      value: `${q.verified} of ${q.callers}; ${pct(q.cpuPerCallerPct)} CPU, ${fmt(q.rssPerCallerBytes / 2 ** 20, 2)} MB per caller`,
      baseline: fLast ? `bridged call ${pct(fLast.cpuPerCallPct)}` : '—',
      ratio: fLast ? fmt(q.cpuPerCallerPct / fLast.cpuPerCallPct, 2) : '—',
      goal: `${q.callers} of ${q.callers}`,
      status: ok(q.verified === q.callers),
      others: others([q]),
    });
  }
  const svc = r.service;
  if (svc && 'error' in svc) {
    rows.push({
      item: '4 media',
      what: `forward through the whole service: FAILED ${svc.error.slice(0, 120)}`,
      value: '—',
      baseline: '—',
      ratio: '—',
      goal: '',
      status: 'MISS',
      others: '',
    });
  } else if (svc) {
    rows.push({
      item: '4 media',
      what: `forward through the whole service (http + worker + media + Redis), rig callers via the simulator and rig agent legs: calls whose window arrived whole / service CPU per call (media ${pct(svc.mediaPerCallPct)}) / loss`,
      value: `${svc.verified} of ${svc.placed} placed; ${pct(svc.servicePerCallPct)}; ${pct(svc.lossPct, 3)}`,
      baseline: '—',
      ratio: '—',
      goal: `${svc.placed} of ${svc.placed}; ≤ ${ENGINE_GOALS.forwardCpuPerCallPct} %; < ${ENGINE_GOALS.lossPct} %`,
      status: ok(
        svc.verified === svc.placed &&
          svc.servicePerCallPct <= ENGINE_GOALS.forwardCpuPerCallPct &&
          svc.lossPct < ENGINE_GOALS.lossPct,
      ),
      others: Number.isFinite(svc.otherPct) ? `${Math.round(svc.otherPct)} %` : '',
    });
    rows.push({
      item: '4 media',
      what: "forward through the whole service: worst audio clipped after Meta's accept, caller→agent / agent→caller (20 ms packets)",
      value: `${svc.clippedMaxC2AMs} ms / ${svc.clippedMaxA2CMs} ms`,
      baseline: '—',
      ratio: '—',
      goal: '0 ms',
      status: ok(svc.clippedMaxC2AMs === 0 && svc.clippedMaxA2CMs === 0),
      others: Number.isFinite(svc.otherPct) ? `${Math.round(svc.otherPct)} %` : '',
    });
  }
  if (r.failures.length) {
    rows.push({
      item: '4 media',
      what: `engines: ${r.failures.length} call(s) failed to open: ${r.failures[0]?.slice(0, 100)}`,
      value: '—',
      baseline: '—',
      ratio: '—',
      goal: '',
      status: '',
      others: '',
    });
  }
  return rows;
}

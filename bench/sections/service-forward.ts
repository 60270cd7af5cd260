/**
 * 4 media (engines), through the whole service: the simulator's callers and the agents' legs are rig peers that do
 * not decode (src/testing/opus-peer.ts); the http role, a worker and a forward media node run in their own
 * processes. Calls are placed one after another (webhook, ring, accept, agent leg, Meta's accept) up to N, then one
 * window measures every process's CPU and checks every call byte for byte.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { epochMs } from '../../src/testing/numbered-opus.js';
import { OpusRigPeer } from '../../src/testing/opus-peer.js';
import { createRigCallerFactory } from '../../src/testing/rig-caller.js';
import { CpuMeter, otherShare, processRssBytes, type QuietGate } from '../lib/cpu.js';
import { type Child, RESULTS_DIR, stopAll } from '../lib/procs.js';
import { benchSimulator, startServiceRoles } from '../lib/service.js';
import { benchPrefix, cleanupPrefix, log, sleep } from '../lib/util.js';

export interface ServiceForwardResult {
  /** Calls placed, and those that got through to a measured window. */
  placed: number;
  calls: number;
  verified: number;
  lossPct: number;
  /** Worst audio missing after Meta's accept, per direction. */
  clippedMaxC2AMs: number;
  clippedMaxA2CMs: number;
  /** % of one core over the window, per process. */
  cpuPct: { media: number; http: number; worker: number; redis: number; rig: number };
  /** (media + http + worker + Redis) / calls. */
  servicePerCallPct: number;
  mediaPerCallPct: number;
  mediaRssBytes: number;
  otherPct: number;
  failures: string[];
}

export async function runServiceForward(opts: {
  redisUrl: string;
  redisPid: number | undefined;
  calls: number;
  frames: { caller: Buffer[]; agent: Buffer[] };
  settleMs: number;
  windowMs: number;
  gate: QuietGate;
}): Promise<ServiceForwardResult> {
  const prefix = benchPrefix('f');
  const agentsFile = path.join(RESULTS_DIR, `agents-${prefix}.json`);
  const ids = Array.from({ length: opts.calls }, (_, i) => `rig${String(i + 1).padStart(3, '0')}`);
  writeFileSync(
    agentsFile,
    JSON.stringify(ids.map((id) => ({ id, name: `Rig ${id}`, password: 'demo', teams: ['support'], role: 'agent' }))),
  );
  const rig = createRigCallerFactory(opts.frames.caller);
  const sim = benchSimulator(rig.factory);
  const children: (Child | undefined)[] = [];
  const agents: TestAgent[] = [];
  const live: { callId: string; caller: OpusRigPeer; agent: OpusRigPeer; acceptedAt: number }[] = [];
  const failures: string[] = [];
  try {
    await sim.start();
    const env = {
      GRAPH_API_BASE_URL: sim.baseUrl,
      GRAPH_TIMEOUT_MS: '5000',
      AGENTS_FILE: agentsFile,
      WRAP_UP_SECONDS: '0',
      MEDIA_ENGINE: 'forward',
      MEDIA_CAPACITY: String(opts.calls * 2),
      ACCEPT_DEADLINE_SECONDS: '20',
      JWT_SECRET: 'bench-jwt-secret-0123456789abcdef',
    };
    log(`service (forward): http, worker and a forward media node; ${opts.calls} rig agents`);
    const { http, worker, media } = await startServiceRoles('svc-fw', opts.redisUrl, prefix, env, sim, children);
    for (const id of ids) agents.push(await TestAgent.connect(http.url, id));
    const busy = new Set<string>();
    for (let i = 0; i < opts.calls; i++) {
      try {
        const { call } = await sim.placeCall({ name: 'Rig Caller' });
        const deadline = Date.now() + 10_000;
        let agent: TestAgent | undefined;
        while (!agent) {
          agent = agents.find((a) => !busy.has(a.id) && a.offers.some((o) => o.callId === call.callId));
          if (!agent) {
            if (Date.now() > deadline) throw new Error(`no idle agent was offered ${call.callId}`);
            await sleep(10);
          }
        }
        busy.add(agent.id);
        const ack = await agent.client.accept(call.callId);
        if (!ack.ok) throw new Error(`accept refused: ${JSON.stringify(ack)}`);
        const peer = await OpusRigPeer.offer('agent', { frames: opts.frames.agent, name: agent.id });
        await agent.attachPeer(call.callId, peer);
        await call.waitFor('accepted', 20_000).catch((err: Error) => {
          throw new Error(
            `${err.message}; caller ${rig.peers.get(call.callId)?.state}, agent leg ${peer.state}, ended by ${call.endedBy}`,
          );
        });
        const caller = rig.peers.get(call.callId);
        if (!caller) throw new Error('no rig caller');
        peer.expect(caller.sender);
        caller.expect(peer.sender);
        live.push({ callId: call.callId, caller, agent: peer, acceptedAt: call.acceptedAt ?? epochMs() });
      } catch (err) {
        failures.push(`call ${i + 1}: ${(err as Error).message}`);
        if (failures.length > 10) throw new Error(`too many calls failed: ${failures.slice(0, 3).join('; ')}`);
      }
    }
    await sleep(opts.settleMs);
    const pids = { media: media.pid, http: http.pid, worker: worker.pid, redis: opts.redisPid, rig: process.pid };
    await opts.gate.wait(`service forward N=${live.length}`, pids);
    const meter = new CpuMeter(pids).start();
    const since = epochMs();
    await sleep(opts.windowMs);
    const until = epochMs();
    const rss = processRssBytes(media.pid) ?? Number.NaN;
    await sleep(400);
    const cpu = meter.stop();
    let expected = 0;
    let lost = 0;
    let verified = 0;
    let clippedMaxC2A = 0;
    let clippedMaxA2C = 0;
    for (const c of live) {
      const ways = [
        c.agent.report(c.caller.sender, { since, until }),
        c.caller.report(c.agent.sender, { since, until }),
      ];
      const clippedC2A = c.agent.report(c.caller.sender, { since: c.acceptedAt, until }).clippedMs;
      const clippedA2C = c.caller.report(c.agent.sender, { since: c.acceptedAt, until }).clippedMs;
      clippedMaxC2A = Math.max(clippedMaxC2A, clippedC2A);
      clippedMaxA2C = Math.max(clippedMaxA2C, clippedA2C);
      // Clipping after accept is reported on its own row: a call counts when its window arrived whole.
      let ok = true;
      for (const r of ways) {
        expected += r.expected;
        lost += r.lost;
        ok &&= r.expected > 0 && r.lossPct < 0.1 && r.corrupted === 0;
      }
      const state = sim.calls.get(c.callId)?.state;
      if (state !== 'accepted') {
        failures.push(`${c.callId}: the call is ${state} at Meta (ended by ${sim.calls.get(c.callId)?.endedBy})`);
      }
      if (ok) verified++;
      if (!ok || clippedC2A > 0 || clippedA2C > 0)
        failures.push(
          `${c.callId}: lost ${ways.map((r) => `${r.lost}/${r.expected}`).join(', ')}, clipped ${clippedC2A} ms c→a, ${clippedA2C} ms a→c`,
        );
    }
    const p = (k: string) => cpu.byPid[k] ?? 0;
    const service = p('media') + p('http') + p('worker') + p('redis');
    const result: ServiceForwardResult = {
      placed: opts.calls,
      calls: live.length,
      verified,
      lossPct: expected > 0 ? (lost / expected) * 100 : Number.NaN,
      clippedMaxC2AMs: clippedMaxC2A,
      clippedMaxA2CMs: clippedMaxA2C,
      cpuPct: { media: p('media'), http: p('http'), worker: p('worker'), redis: p('redis'), rig: p('rig') },
      servicePerCallPct: live.length ? service / live.length : Number.NaN,
      mediaPerCallPct: live.length ? p('media') / live.length : Number.NaN,
      mediaRssBytes: rss,
      otherPct: otherShare(cpu, service + p('rig')),
      failures,
    };
    log(
      `  service forward N=${result.calls}: verified ${verified}, loss ${result.lossPct.toFixed(3)} %, clipped ≤ ${clippedMaxC2A} ms c→a / ${clippedMaxA2C} ms a→c, CPU media ${p('media').toFixed(1)} % http ${p('http').toFixed(1)} % worker ${p('worker').toFixed(1)} % redis ${p('redis').toFixed(1)} % (service ${result.servicePerCallPct.toFixed(2)} %/call), rig ${p('rig').toFixed(0)} %, others ${result.otherPct.toFixed(0)} %${failures.length ? `; ${failures.slice(0, 3).join('; ')}` : ''}`,
    );
    return result;
  } finally {
    for (const c of live) {
      c.caller.close();
      c.agent.close();
    }
    for (const p of rig.peers.values()) p.close();
    for (const a of agents) a.close();
    await sim.stop().catch(() => undefined);
    await stopAll(children);
    await cleanupPrefix(opts.redisUrl, prefix).catch(() => 0);
    try {
      unlinkSync(agentsFile);
    } catch {
      // already gone
    }
  }
}

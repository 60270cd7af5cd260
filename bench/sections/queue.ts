/**
 * 5 queue: business-answered callers waiting on one forward media process (greeting, then music and announcements
 * from the player), and the time from an agent becoming free to the next caller in the queue hearing them.
 *
 * Rig: the simulator's callers (wrtc peers that listen for the agent's 660 Hz) and one Node agent, with http,
 * worker and a forward media node in their own processes. Waiting: N callers are answered by the business and wait
 * (nobody online); the media process's CPU over a window gives CPU per waiting caller. Hand-over: the agent comes
 * online, takes the head of the queue, talks briefly, hangs up (wrap-up 0), and so on; for each caller, from the
 * agent's free moment (coming online, or their previous hang-up acknowledged) to the caller's first frame of 660 Hz.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO } from '../../src/shared/config.js';
import { silentLogger } from '../../src/shared/log.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import { type SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { CpuMeter, otherShare, type QuietGate } from '../lib/cpu.js';
import { type Child, RESULTS_DIR, spawnRole, stopAll } from '../lib/procs.js';
import type { Row } from '../lib/table.js';
import { benchPrefix, cleanupPrefix, fmt, log, type Summary, sleep, summarize } from '../lib/util.js';

const AGENT_HZ = 660;

export interface QueueOptions {
  redisUrl: string;
  redisPid: number | undefined;
  /** Callers waiting at once on one media process. */
  waiting: number;
  /** CPU window while they wait. */
  windowMs: number;
  /** How many of them are then handed to the agent, one after another. */
  handovers: number;
  talkMs: number;
  gate: QuietGate;
}

export interface QueueResult {
  waiting: number;
  answeredWithinMs: Summary;
  mediaCpuPct: number;
  cpuPerCallerPct: number;
  otherPct: number;
  freeToHeardMs: Summary;
}

export async function runQueue(opts: QueueOptions): Promise<QueueResult> {
  const prefix = benchPrefix('q');
  const files = {
    agents: path.join(RESULTS_DIR, `agents-${prefix}.json`),
    routing: path.join(RESULTS_DIR, `routing-${prefix}.json`),
  };
  writeFileSync(
    files.agents,
    JSON.stringify([{ id: 'qagent', name: 'Queue Agent', password: 'demo', teams: ['support'], role: 'agent' }]),
  );
  writeFileSync(
    files.routing,
    JSON.stringify({
      default: {
        answer: 'business',
        teams: ['support'],
        policy: 'ring-one',
        greeting: 'greeting',
        queue: { announceEverySeconds: 15, maxWaitSeconds: 3600 },
      },
    }),
  );
  const sim = new WhatsAppSimulator({
    webhookUrl: 'http://127.0.0.1:9/unset',
    appSecret: DEMO.appSecret,
    accessToken: DEMO.accessToken,
    business: { phoneNumberId: DEMO.phoneNumberId, displayPhoneNumber: DEMO.displayPhoneNumber, wabaId: '2' },
    callerFactory: createCallerFactory({ watchHz: [AGENT_HZ] }),
    answerWindowMs: 600_000,
    mediaWatchdogMs: 0,
    logger: silentLogger,
  });
  const children: (Child | undefined)[] = [];
  let agent: TestAgent | undefined;
  try {
    await sim.start();
    const env = {
      GRAPH_API_BASE_URL: sim.baseUrl,
      AGENTS_FILE: files.agents,
      ROUTING_FILE: files.routing,
      MEDIA_ENGINE: 'forward',
      MEDIA_CAPACITY: String(opts.waiting + 10),
      WRAP_UP_SECONDS: '0',
      JWT_SECRET: 'bench-jwt-secret-0123456789abcdef',
    };
    await opts.gate.wait('queue', { redis: opts.redisPid });
    log('queue: starting http, worker and a forward media node');
    const [http, worker, media] = await Promise.all([
      spawnRole('http', 'queue-http', opts.redisUrl, prefix, env),
      spawnRole('worker', 'queue-worker', opts.redisUrl, prefix, env),
      spawnRole('media', 'queue-media', opts.redisUrl, prefix, env),
    ]);
    children.push(http, worker, media);
    sim.setWebhookUrl(`${http.url}/webhooks/whatsapp`);

    const calls: SimCall[] = [];
    for (let i = 0; i < opts.waiting; i++) {
      calls.push((await sim.placeCall({ name: `Waiting ${i}` })).call);
      await sleep(100);
    }
    for (const c of calls) await c.waitFor('accepted', 30_000);
    const answeredWithinMs = summarize(calls.map((c) => c.acceptedAt! - c.createdAt));
    await sleep(2000); // past the greeting: music and announcements
    await opts.gate.wait(`queue waiting N=${calls.length}`, { media: media.pid });
    const meter = new CpuMeter({ media: media.pid, sims: process.pid, http: http.pid, worker: worker.pid }).start();
    await sleep(opts.windowMs);
    const cpu = meter.stop();
    const mediaCpuPct = cpu.byPid.media ?? Number.NaN;
    log(
      `  queue: ${calls.length} callers waiting, media CPU ${fmt(mediaCpuPct, 1)} % (${fmt(mediaCpuPct / calls.length, 2)} %/caller)`,
    );

    // Hand-over: the agent serves the head of the queue, one caller after another.
    const served = calls.slice(0, opts.handovers);
    const freeToHeard: number[] = [];
    let freeAt = Date.now();
    agent = await TestAgent.connect(http.url, 'qagent');
    for (let i = 0; i < served.length; i++) {
      const offer = await waitFor(() => agent!.offers[i], 20_000, 'an offer');
      const call = calls.find((c) => c.callId === offer.callId)!;
      const ack = await agent.client.accept(offer.callId);
      if (!ack.ok) throw new Error(`accept refused: ${ack.error}`);
      await agent.startMedia(offer.callId, { markers: false, watchHz: [] });
      const heardAt = await waitFor(
        () => (call.caller as CallerPeer).report().inbound.tones[String(AGENT_HZ)]?.firstSeenAt ?? undefined,
        20_000,
        'the caller to hear the agent',
      );
      freeToHeard.push(heardAt - freeAt);
      await sleep(opts.talkMs);
      await agent.client.hangup(offer.callId);
      agent.peer?.close();
      freeAt = Date.now();
    }
    const freeToHeardMs = summarize(freeToHeard);
    log(
      `  queue: agent free → next caller hears them p50 ${fmt(freeToHeardMs.p50, 0)} ms (max ${fmt(freeToHeardMs.max, 0)} ms)`,
    );
    return {
      waiting: calls.length,
      answeredWithinMs,
      mediaCpuPct,
      cpuPerCallerPct: mediaCpuPct / calls.length,
      otherPct: otherShare(
        cpu,
        Object.values(cpu.byPid).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0),
      ),
      freeToHeardMs,
    };
  } finally {
    agent?.close();
    await sim.stop().catch(() => undefined);
    await stopAll(children);
    await cleanupPrefix(opts.redisUrl, prefix).catch(() => 0);
    for (const f of Object.values(files)) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
  }
}

async function waitFor<T>(fn: () => T | undefined | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`queue bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function queueRows(r: QueueResult): Row[] {
  const others = Number.isFinite(r.otherPct) ? `${Math.round(r.otherPct)} %` : '';
  return [
    {
      item: '5 queue',
      what: `business-answered callers waiting on 1 forward media process (music, announcements): CPU per caller`,
      value: `${r.waiting} callers, ${fmt(r.cpuPerCallerPct, 2)} %/caller`,
      baseline: `media process ${fmt(r.mediaCpuPct, 1)} %`,
      ratio: '',
      goal: '',
      status: '',
      others,
    },
    {
      item: '5 queue',
      what: `connect webhook → business accept at Meta, p50 (max), ${r.answeredWithinMs.n} callers`,
      value: `${fmt(r.answeredWithinMs.p50, 0)} ms (${fmt(r.answeredWithinMs.max, 0)} ms)`,
      baseline: '',
      ratio: '',
      goal: '< 2000 ms',
      status: r.answeredWithinMs.max < 2000 ? 'ok' : 'MISS',
      others,
    },
    {
      item: '5 queue',
      what: `agent free → next caller in the queue hears them, p50 (max), ${r.freeToHeardMs.n} hand-overs`,
      value: `${fmt(r.freeToHeardMs.p50, 0)} ms (${fmt(r.freeToHeardMs.max, 0)} ms)`,
      baseline: '',
      ratio: '',
      goal: '',
      status: '',
      others,
    },
  ];
}

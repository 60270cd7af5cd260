/**
 * Business answer end to end with real parts: simulated WhatsApp callers (wrtc peers that listen), a media node
 * in its own process on the forward engine, the http and worker roles, and Node agents with real media legs.
 * Twenty callers, two agents: every caller is answered by the business at once, waits with audio (never more than
 * a second of silence at the caller), is served in order of entry, reaches an agent (hears their tone), and no agent
 * is ever offered a second call while one rings or is on. Then, with tones for prompts: the greeting runs straight
 * into the queue music, without the silence a round trip through the call's state used to leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { type InProcessService, startStack, type TestStack } from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';
import { autoAnswer } from '../queue-agents.js';
import { toneRouting } from '../tone-routing.js';

const CALLERS = Number(process.env.QUEUE_E2E_CALLERS ?? 20);
const MAX_WAIT_MS = 120_000;

describe(`business answer: ${CALLERS} callers, 2 agents, forward engine`, () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let stack: TestStack;
  const agents: TestAgent[] = [];
  let boss: string;

  beforeAll(async () => {
    prefix = testPrefix();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      ROUTING_FILE: 'test/fixtures/routing.queue.json',
      WRAP_UP_SECONDS: '0',
    };
    stack = await startStack(prefix, {
      sim: { callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 0 },
      env,
      mediaEnv: { ...env, MEDIA_ENGINE: 'forward', MEDIA_CAPACITY: '40' },
    });
    ({ sim, svc } = stack);
    await waitUntil(async () => (await svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    boss = await loginToken(svc.url, 'boss', 'pw');
  });
  afterAll(async () => {
    for (const a of agents) a.close();
    await stack?.stop();
    await cleanupPrefix(prefix);
  });

  it('answers at once, keeps every caller hearing audio, serves them in order of entry, never double-offers', async () => {
    const violations: string[] = [];
    const served: string[] = [];
    for (const id of ['a1', 'a2']) {
      const agent = await TestAgent.connect(svc.url, id, { password: 'pw' });
      autoAnswer(agent, violations, served);
      agents.push(agent);
    }
    const calls: SimCall[] = [];
    for (let i = 0; i < CALLERS; i++) {
      calls.push((await sim.placeCall({ name: `Caller ${i}` })).call);
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const c of calls) await c.waitFor('ended', CALLERS * 15_000);
    await drainAnalysis();
    expect(violations).toEqual([]);

    const details: CallDetail[] = [];
    for (const c of calls) {
      const res = await fetch(`${svc.url}/api/calls/${encodeURIComponent(c.callId)}`, {
        headers: { authorization: `Bearer ${boss}` },
      });
      details.push((await res.json()) as CallDetail);
    }
    let longestSilence = 0;
    for (const [i, c] of calls.entries()) {
      const d = details[i]!;
      // Answered by the business within 2 s of the connect webhook; Meta saw one pre_accept and one accept.
      expect(c.acceptedAt! - c.createdAt, c.callId).toBeLessThanOrEqual(2000);
      expect(sim.actionsFor(c.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
        'pre_accept:200',
        'accept:200',
        'terminate:200',
      ]);
      expect(d.reason, c.callId).toBe('completed');
      expect(d.waitMs!, c.callId).toBeLessThanOrEqual(MAX_WAIT_MS);
      // Waiting, the caller always heard something (greeting, music, announcements): never a second of silence.
      const caller = c.caller as CallerPeer;
      const silence = caller.analyzer.longestSilenceMs(c.acceptedAt!, d.liveAt!);
      longestSilence = Math.max(longestSilence, silence);
      expect(silence, c.callId).toBeLessThanOrEqual(1000);
      // Then the agent (their 660 Hz tone), after the switch from the player.
      expect(caller.report().inbound.tones['660']?.firstSeenAt ?? 0, c.callId).toBeGreaterThanOrEqual(d.liveAt! - 100);
    }
    console.info(`[queue] longest silence a waiting caller heard: ${longestSilence} ms (${CALLERS} callers)`);
    // Served in order of entry: every call was first offered after every call that entered before it.
    const byEntry = [...details].sort((a, b) => a.createdAt - b.createdAt);
    const offered = byEntry.map((d) => d.offeredAt!);
    expect(offered).toEqual([...offered].sort((a, b) => a - b));
    expect(served).toHaveLength(CALLERS);
  });
});

describe('business answer: the greeting runs straight into the queue music, forward engine', () => {
  // Tones for prompts, so the caller can tell the greeting from the music and time the hand-over between them.
  const GREETING_HZ = 500;
  const MUSIC_HZ = 300;
  let prefix: string;
  let routing: { file: string; remove(): void } | undefined;
  let stack: TestStack;

  beforeAll(async () => {
    prefix = testPrefix();
    routing = await toneRouting(async (clip) => ({
      answer: 'business',
      teams: ['support'],
      greeting: await clip('greeting', GREETING_HZ, 1),
      queue: { music: await clip('music', MUSIC_HZ, 4), announceEverySeconds: 60, maxWaitSeconds: 120 },
    }));
    const env = { AGENTS_FILE: 'test/fixtures/agents.test.json', ROUTING_FILE: routing.file };
    stack = await startStack(prefix, {
      sim: { callerFactory: createCallerFactory({ watchHz: [GREETING_HZ, MUSIC_HZ] }), mediaWatchdogMs: 0 },
      env,
      mediaEnv: { ...env, MEDIA_ENGINE: 'forward' },
    });
    await waitUntil(async () => (await stack.svc.core.nodes.place()) !== undefined, { what: 'a media node' });
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupPrefix(prefix);
    routing?.remove();
  });

  it('the caller hears no gap between the end of the greeting and the music (the media node goes on by itself)', async () => {
    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { call } = await stack.sim.placeCall({ name: `Hand-over ${i}` });
      await call.waitFor('accepted', 10_000);
      const caller = call.caller as CallerPeer;
      await waitUntil(() => caller.report().inbound.tones[String(MUSIC_HZ)]?.firstFrame ?? undefined, {
        what: 'the music at the caller',
        timeoutMs: 10_000,
      });
      await drainAnalysis();
      const { tones } = caller.report().inbound;
      const greeting = tones[String(GREETING_HZ)];
      const music = tones[String(MUSIC_HZ)];
      expect(greeting?.lastFrame, 'the greeting was heard').toBeTypeOf('number');
      // The greeting first, then the music; counted in the caller's own audio frames (10 ms each from the wrtc
      // sink), which delivery delays in this busy process cannot stretch or squeeze.
      expect(music!.firstFrame!).toBeGreaterThan(greeting!.lastFrame!);
      gaps.push((music!.firstFrame! - greeting!.lastFrame! - 1) * 10);
      await stack.sim.hangup(call.callId);
      await call.waitFor('ended', 10_000);
    }
    console.info(`[queue] greeting → music at the caller: ${gaps.join(', ')} ms of silence`);
    // The player switches from the greeting to the music from one 20 ms slot to the next; waiting for the call's
    // state to ask for the music (PLAY_ENDED → media.play) left 150–250 ms of silence here.
    for (const g of gaps) expect(g).toBeLessThanOrEqual(60);
  });
});

/**
 * Call recording end to end on the forward engine: a number recorded in full (`record: "all"`) plays the notice,
 * then records; the agent pauses and resumes; after the call a worker combines both directions into one Ogg Opus
 * file that supervisors (not agents) can fetch, by byte range too. The file is decoded with opusdec and checked:
 * the caller's 440 Hz on one channel, the agent's 660 Hz on the other, and silence where the recording was paused.
 * A number with `record: "off"` has no recording at all.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneShare } from '../../src/audio/goertzel.js';
import { restore } from '../../src/machines/deliver.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { decodeOggOpus } from '../../src/testing/opus-fixtures.js';
import {
  BUSINESS,
  type ChildService,
  type InProcessService,
  newSimulator,
  spawnRole,
  startInProcess,
} from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, testPrefix, waitUntil } from '../helpers.js';

const CALLER_HZ = 440;
const AGENT_HZ = 660;
const WINDOW_S = 0.1;

/** Per 100 ms window: whether the tone carries most of that window's energy. */
function toneWindows(samples: Int16Array, hz: number, rate: number): boolean[] {
  const n = Math.round(rate * WINDOW_S);
  const out: boolean[] = [];
  for (let at = 0; at + n <= samples.length; at += n) out.push(toneShare(samples, hz, rate, at, n) > 0.5);
  return out;
}

/** The longest run of windows with neither tone, between the first and the last window that has one. */
function longestGapS(a: boolean[], b: boolean[]): number {
  const any = a.map((x, i) => x || !!b[i]);
  const first = any.indexOf(true);
  const last = any.lastIndexOf(true);
  let best = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    run = any[i] ? 0 : run + 1;
    best = Math.max(best, run);
  }
  return best * WINDOW_S;
}

function stack(record: 'all' | 'off') {
  const s = {
    prefix: '',
    dir: '',
    sim: undefined as unknown as WhatsAppSimulator,
    svc: undefined as unknown as InProcessService,
    media: undefined as unknown as ChildService,
    alice: undefined as unknown as TestAgent,
    sam: '',
    alicePw: '',
  };
  beforeAll(async () => {
    s.prefix = testPrefix();
    s.dir = mkdtempSync(path.join(os.tmpdir(), 'rec-'));
    const routing = path.join(s.dir, 'routing.json');
    writeFileSync(routing, JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { record } } }));
    const env = {
      ROUTING_FILE: routing,
      MEDIA_RECORDINGS_DIR: path.join(s.dir, 'tap'),
      RECORDINGS_DIR: path.join(s.dir, 'stored'),
      WRAP_UP_SECONDS: '0',
    };
    s.sim = newSimulator({ callerFactory: createCallerFactory({ toneHz: CALLER_HZ, watchHz: [AGENT_HZ] }) });
    await s.sim.start();
    s.svc = await startInProcess(s.prefix, s.sim, env);
    s.media = await spawnRole('media', s.prefix, { ...env, MEDIA_ENGINE: 'forward' });
    s.alice = await TestAgent.connect(s.svc.url, 'alice');
    s.sam = await loginToken(s.svc.url, 'sam', 'demo');
    s.alicePw = await loginToken(s.svc.url, 'alice', 'demo');
  });
  afterAll(async () => {
    s.alice?.close();
    await s.media?.stop();
    await s.svc?.stop();
    await s.sim?.stop();
    await cleanupPrefix(s.prefix);
    if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  });
  const recording = (callId: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${s.svc.url}/api/calls/${encodeURIComponent(callId)}/recording`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const recState = async (callId: string) => {
    const stored = await s.svc.core.store.load(callId);
    return stored ? restore(stored.snapshot).context.live.recording?.state : undefined;
  };
  const connect = async () => {
    const { call } = await s.sim.placeCall({ name: 'Priya' });
    await s.alice.offered(call.callId);
    expect((await s.alice.client.accept(call.callId)).ok).toBe(true);
    await s.alice.startMedia(call.callId, { toneHz: AGENT_HZ, watchHz: [CALLER_HZ] });
    await call.waitFor('accepted', 20_000);
    return call;
  };
  return { s, recording, recState, connect };
}

describe('a number recorded in full', () => {
  const { s, recording, recState, connect } = stack('all');

  it('announces, records both parties, leaves the paused stretch out; supervisors fetch it by range, agents cannot', async () => {
    const call = await connect();
    await waitUntil(async () => (await recState(call.callId)) === 'on', {
      what: 'recording on after the notice',
      timeoutMs: 20_000,
    });
    // The caller heard the notice (it played to its end) before the agent was connected to them.
    const live = await fetchCall(s.svc.url, s.sam, call.callId);
    const noticeEnd = live.timeline.find(
      (t) => t.event === 'MEDIA.PLAY_ENDED' && t.detail?.includes('playId=recording-notice'),
    );
    expect(noticeEnd, 'the notice ended').toBeDefined();
    expect(noticeEnd!.at - live.liveAt!).toBeGreaterThan(1000);
    // Not even a frame of the agent before the notice: the caller is routed to the player before agent audio starts.
    const agentHeardAt = await waitUntil(
      () => (call.caller as CallerPeer).report().inbound.tones[String(AGENT_HZ)]?.firstSeenAt ?? undefined,
      { what: 'the caller to hear the agent' },
    );
    expect(agentHeardAt - live.liveAt!, 'ms after live the caller first heard the agent').toBeGreaterThanOrEqual(
      noticeEnd!.at - live.liveAt! - 100,
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(await s.alice.client.record(call.callId, false)).toMatchObject({ ok: true, state: 'paused' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await s.alice.client.record(call.callId, true)).toMatchObject({ ok: true, state: 'on' });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await s.alice.client.hangup(call.callId)).ok).toBe(true);

    const full = await waitUntil(
      async () => {
        const res = await recording(call.callId, s.sam);
        return res.status === 200 ? res : undefined;
      },
      { what: 'the stored recording', timeoutMs: 20_000 },
    );
    expect(full.headers.get('content-type')).toBe('audio/ogg');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const file = new Uint8Array(await full.arrayBuffer());
    expect(file.length).toBe(Number(full.headers.get('content-length')));

    // Agents cannot fetch recordings.
    expect((await recording(call.callId, s.alicePw)).status).toBe(403);
    // Seeking: a byte range, and one past the end.
    const part = await recording(call.callId, s.sam, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${file.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(file.slice(100, 200));
    expect((await recording(call.callId, s.sam, { range: `bytes=${file.length}-` })).status).toBe(416);

    const { sampleRate, channels } = await decodeOggOpus(file);
    expect(channels).toHaveLength(2);
    const caller = toneWindows(channels[0]!, CALLER_HZ, sampleRate);
    const agent = toneWindows(channels[1]!, AGENT_HZ, sampleRate);
    const seconds = (w: boolean[]) => w.filter(Boolean).length * WINDOW_S;
    console.info(
      `[recording] ${(channels[0]!.length / sampleRate).toFixed(1)} s; caller tone ${seconds(caller).toFixed(1)} s, agent tone ${seconds(agent).toFixed(1)} s, longest gap ${longestGapS(caller, agent).toFixed(1)} s`,
    );
    expect(seconds(caller)).toBeGreaterThan(2.5);
    expect(seconds(agent)).toBeGreaterThan(2.5);
    // The caller's tone is not on the agent channel and the other way round.
    expect(seconds(toneWindows(channels[1]!, CALLER_HZ, sampleRate))).toBeLessThan(0.5);
    expect(seconds(toneWindows(channels[0]!, AGENT_HZ, sampleRate))).toBeLessThan(0.5);
    const gap = longestGapS(caller, agent);
    expect(gap).toBeGreaterThan(1.0);
    expect(gap).toBeLessThan(2.6);
    // The direction files were combined and removed.
    await waitUntil(() => readdirSync(path.join(s.dir, 'tap')).length === 0, { what: 'direction files removed' });
  }, 90_000);
});

describe('a number with record off', () => {
  const { s, recording, recState, connect } = stack('off');

  it('has no recording and the agent cannot start one', async () => {
    const call = await connect();
    await waitUntil(() => s.alice.live.includes(call.callId), { what: 'live' });
    expect(await recState(call.callId)).toBe('off');
    expect(await s.alice.client.record(call.callId, true)).toMatchObject({ ok: false, error: 'wrong-state' });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await s.alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await recording(call.callId, s.sam)).status).toBe(404);
    const tap = path.join(s.dir, 'tap');
    expect(readdirSync(tap).length).toBe(0);
  }, 60_000);
});

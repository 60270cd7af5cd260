/**
 * Meta-side recording and transcription end to end, with the simulator as Meta: a number opted in (`metaCapture`)
 * sends the opt-in with accept (or connect), the agent hears Meta's announcement before the caller; after the hang-up Meta's webhooks name the files, a worker fetches them (two Graph
 * steps, bearer token, sha256 and size checked) and supervisors (not agents) get the recording by byte range and the
 * transcript. A FAILED result is recorded as failed, a repeated webhook fetches once, a webhook for an unknown call
 * is answered 200 and its file kept, and a badly signed one is refused.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { readOggOpus } from '../../src/media/opus/ogg.js';
import { META_CAPTURE_QUEUE } from '../../src/recording/meta-capture.worker.js';
import { recordingName } from '../../src/recording/recording.store.js';
import { DEMO } from '../../src/shared/config.js';
import { mediaItem } from '../../src/shared/meta-capture.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import { ANNOUNCEMENT_HZ, ANNOUNCEMENT_MS } from '../../src/sim/capture.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { callsEnvelope, WebhookSender } from '../../src/sim/webhook-sender.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import {
  BUSINESS,
  type ChildService,
  type InProcessService,
  newSimulator,
  spawnRole,
  startInProcess,
} from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitUntil } from '../helpers.js';

const CALLER_HZ = 440;
const OPT_IN = { recording: true, transcription: true, purpose: 'quality assurance', language: 'en_US' };

describe('Meta-side recording and transcription', () => {
  const prefix = testPrefix();
  let dir: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let media: ChildService;
  let alice: TestAgent;
  let sam: string;
  let alicePw: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meta-cap-'));
    const routing = path.join(dir, 'routing.json');
    writeFileSync(routing, JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { metaCapture: OPT_IN } } }));
    const env = { ROUTING_FILE: routing, RECORDINGS_DIR: path.join(dir, 'stored'), WRAP_UP_SECONDS: '0' };
    sim = newSimulator({ callerFactory: createCallerFactory({ toneHz: CALLER_HZ }) });
    await sim.start();
    svc = await startInProcess(prefix, sim, env);
    media = await spawnRole('media', prefix, env);
    alice = await TestAgent.connect(svc.url, 'alice');
    sam = await loginToken(svc.url, 'sam', 'demo');
    alicePw = await loginToken(svc.url, 'alice', 'demo');
  }, 60_000);
  afterAll(async () => {
    alice?.close();
    await media?.stop();
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = (callId: string, what: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${svc.url}/api/calls/${encodeURIComponent(callId)}/${what}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const status = (callId: string, kind: string) =>
    svc.redis.hget(svc.core.keys.call.metaCapture(callId), `${kind}:status`);

  /** A call answered by alice: Meta's announcement, then the caller; alice hangs up. */
  const talk = async (): Promise<SimCall> => {
    const { call } = await sim.placeCall({ name: 'Priya' });
    await alice.offered(call.callId);
    expect((await alice.client.accept(call.callId)).ok).toBe(true);
    const peer = await alice.startMedia(call.callId, { toneHz: 660, watchHz: [ANNOUNCEMENT_HZ, CALLER_HZ] });
    await call.waitFor('accepted', 20_000);
    await new Promise((r) => setTimeout(r, ANNOUNCEMENT_MS + 1500));
    await drainAnalysis();
    // Meta's announcement reached the business first (in place of the caller's voice), then the caller.
    const tones = peer.report().inbound.tones;
    const ann = tones[String(ANNOUNCEMENT_HZ)]!;
    const voice = tones[String(CALLER_HZ)]!;
    const at = (t: number | null) => (t === null ? null : Math.round(t - call.acceptedAt!));
    console.info(
      `[meta-capture] announcement heard ${at(ann.firstSeenAt)}..${at(ann.lastSeenAt)} ms after accept, caller until ${at(voice.lastSeenAt)} ms`,
    );
    expect(ann.lastSeenAt! - ann.firstSeenAt!).toBeGreaterThan(1000);
    expect(at(ann.lastSeenAt)).toBeLessThan(ANNOUNCEMENT_MS + 1000);
    expect(voice.lastSeenAt!).toBeGreaterThan(ann.lastSeenAt! + 500);
    expect((await alice.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 10_000);
    return call;
  };

  it('accept carries the opt-in; after the call both files are fetched once and served to supervisors only', async () => {
    const call = await talk();
    // The simulated Meta checked the opt-in objects strictly on accept and marked the call.
    expect(call.capture).toEqual({ kinds: ['recording', 'transcription'], purpose: 'quality assurance' });

    const full = await waitUntil(
      async () => {
        const res = await api(call.callId, 'meta-recording', sam);
        return res.status === 200 ? res : undefined;
      },
      { what: "Meta's recording stored", timeoutMs: 20_000 },
    );
    expect(full.headers.get('content-type')).toBe('audio/ogg');
    const file = new Uint8Array(await full.arrayBuffer());
    const ogg = readOggOpus(file);
    const seconds = ogg.endGranule / 48_000;
    console.info(
      `[meta-capture] recording ${file.length} bytes, ${seconds.toFixed(2)} s, ${ogg.packets.length} packets`,
    );
    expect(ogg.head.channels).toBe(1);
    expect(seconds).toBeGreaterThan(1);
    expect(existsSync(path.join(dir, 'stored', recordingName(call.callId, 'meta-recording')))).toBe(true);

    const part = await api(call.callId, 'meta-recording', sam, { range: 'bytes=10-59' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-59/${file.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(file.slice(10, 60));
    expect((await api(call.callId, 'meta-recording', alicePw)).status).toBe(403);

    const transcript = await waitUntil(
      async () => {
        const res = await api(call.callId, 'transcript', sam);
        return res.status === 200
          ? ((await res.json()) as { segments: { speaker: string; text: string }[] })
          : undefined;
      },
      { what: "Meta's transcript stored", timeoutMs: 20_000 },
    );
    expect(transcript.segments.map((s) => s.text).join(' ')).toContain('quality assurance');
    expect((await api(call.callId, 'transcript', alicePw)).status).toBe(403);

    // Meta delivers the recording webhook again: answered 200, not fetched a second time.
    const rec = sim.capture.sent.find((s) => s.callId === call.callId && s.kind === 'recording')!;
    expect((await sim.capture.resend(call.callId, 'recording')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.capture.lookups.get(rec.mediaId)).toBe(1);
    expect(await status(call.callId, 'recording')).toBe('stored');

    // Both files go with the call at retention: one delayed deletion for the call.
    const queue = new Queue(META_CAPTURE_QUEUE, { connection: svc.redis, prefix: svc.core.keys.bullPrefix });
    try {
      expect(await (await queue.getJob(`${call.callId}.meta-delete`))?.getState()).toBe('delayed');
    } finally {
      await queue.close();
    }
  }, 90_000);

  it('a business-initiated call carries the opt-in in connect; its files arrive under our call id', async () => {
    const to = '919800077001';
    sim.business.addUser(to, { permission: 'temporary', answerAfterMs: 500 });
    const res = await alice.client.dial(to);
    expect(res).toMatchObject({ ok: true });
    const callId = (res as { callId: string }).callId;
    const peer = await alice.startMedia(callId, { toneHz: 660, watchHz: [ANNOUNCEMENT_HZ] });
    await waitUntil(() => alice.live.includes(callId), { what: 'call:live', timeoutMs: 60_000 });
    const simCall = [...sim.calls.values()].find((c) => c.to === to)!;
    expect(simCall.capture).toEqual({ kinds: ['recording', 'transcription'], purpose: 'quality assurance' });
    await new Promise((r) => setTimeout(r, ANNOUNCEMENT_MS + 500));
    await drainAnalysis();
    // The user picked up: Meta's announcement reached the business.
    expect(peer.report().inbound.tones[String(ANNOUNCEMENT_HZ)]?.frames ?? 0).toBeGreaterThan(0);
    expect((await alice.client.hangup(callId)).ok).toBe(true);
    // Meta names the call by its own id; the files are kept under ours.
    expect(simCall.callId).not.toBe(callId);
    await waitUntil(async () => (await api(callId, 'meta-recording', sam)).status === 200, {
      what: "the outbound call's recording under our call id",
      timeoutMs: 20_000,
    });
    await waitUntil(async () => (await api(callId, 'transcript', sam)).status === 200, {
      what: "the outbound call's transcript under our call id",
      timeoutMs: 20_000,
    });
  }, 90_000);

  it('a media look-up that fails twice (500) is retried and the file still arrives', async () => {
    sim.inject({ action: 'media', status: 500, times: 2 });
    const call = await talk();
    await waitUntil(async () => (await status(call.callId, 'recording')) === 'stored', {
      what: 'the recording stored after retries',
      timeoutMs: 30_000,
    });
    await waitUntil(async () => (await status(call.callId, 'transcription')) === 'stored', {
      what: 'the transcript stored',
      timeoutMs: 30_000,
    });
    const ids = sim.capture.sent.filter((s) => s.callId === call.callId).map((s) => s.mediaId);
    const lookups = ids.reduce((n, id) => n + (sim.capture.lookups.get(id) ?? 0), 0);
    console.info(`[meta-capture] ${lookups} media look-ups for 2 files with 2 injected failures`);
    expect(lookups).toBe(4);
  }, 90_000);

  it('a FAILED transcription is recorded as failed; the recording still arrives', async () => {
    sim.capture.fail('transcription');
    const call = await talk();
    await waitUntil(async () => (await status(call.callId, 'transcription')) === 'failed', {
      what: 'the transcription recorded as failed',
      timeoutMs: 20_000,
    });
    const res = await api(call.callId, 'transcript', sam);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('meta-transcription-failed');
    await waitUntil(async () => (await status(call.callId, 'recording')) === 'stored', {
      what: 'the recording stored',
      timeoutMs: 20_000,
    });
  }, 90_000);

  it('a webhook for a call we do not know is answered 200 and its file kept; a badly signed one is refused', async () => {
    const callId = 'wacid.unknown-to-us-0001';
    const stranger = {
      callId,
      acceptedAt: Date.now() - 3000,
      endedAt: Date.now(),
      capture: { kinds: ['recording'], purpose: 'qa' },
    };
    sim.capture.ended(stranger as unknown as SimCall);
    const sent = await waitUntil(() => sim.capture.sent.find((s) => s.callId === callId && s.answered), {
      what: 'the webhook answered',
      timeoutMs: 10_000,
    });
    expect(sent.answered).toBe(200);
    await waitUntil(async () => (await status(callId, 'recording')) === 'stored', {
      what: "the unknown call's recording stored",
      timeoutMs: 20_000,
    });

    const body = callsEnvelope(BUSINESS, [
      mediaItem({ callId, kind: 'transcription', mediaId: '999', status: 'AVAILABLE', errorCode: undefined }),
    ]);
    const forged = await new WebhookSender(`${svc.url}/webhooks/whatsapp`, `${DEMO.appSecret}-not`).send(body);
    expect(forged.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(await status(callId, 'transcription')).toBeNull();
  }, 60_000);
});

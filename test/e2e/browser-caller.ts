import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { RelayedCaller } from '../../src/sim/relayed-caller.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { waitUntil } from '../helpers.js';
import type { BrowserNet } from './browser-net.js';

/**
 * A WhatsApp caller that is a real headless Chromium page: its RTCPeerConnection offers like WhatsApp (Opus 111 +
 * telephone-event/8000 126 only, a complete offer), sends a live silent track (Chromium sends telephone-events on a
 * live stream only), presses keys with RTCDTMFSender (RFC 4733), and keeps a timeline of what it hears: the
 * strongest frequency of the remote audio every 40 ms. The page runs in the test's network namespace (see
 * createBrowserNet); the simulator relays its offer and hands it the business's answer (RelayedCaller).
 */

interface PageCaller {
  pc: RTCPeerConnection;
  heard: { at: number; hz: number; db: number }[];
}

/** Runs in the page: builds the caller's peer connection (`globalThis.caller`) and returns its complete offer. */
export async function pageOffer(): Promise<string> {
  // A running (autoplay flag) context feeding zeros: Chromium sends telephone-events on a live audio stream only.
  const ctx = new AudioContext();
  await ctx.resume();
  const osc = ctx.createOscillator();
  const mute = ctx.createGain();
  mute.gain.value = 0;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(mute).connect(dest);
  osc.start();
  const pc = new RTCPeerConnection();
  const caller = { pc, heard: [] as { at: number; hz: number; db: number }[] };
  (globalThis as unknown as { caller: typeof caller }).caller = caller;
  pc.addEventListener('track', (e) => {
    const stream = new MediaStream([e.track]);
    // Chromium feeds a remote track to WebAudio only while a media element plays it.
    const el = new Audio();
    el.muted = true;
    el.srcObject = stream;
    void el.play();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    analyser.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const binHz = ctx.sampleRate / analyser.fftSize;
    setInterval(() => {
      analyser.getFloatFrequencyData(bins);
      let best = Math.floor(100 / binHz);
      for (let i = best; i < Math.ceil(4000 / binHz); i++) if ((bins[i] ?? -200) > (bins[best] ?? -200)) best = i;
      caller.heard.push({ at: Date.now(), hz: Math.round(best * binHz), db: Math.round(bins[best] ?? -200) });
    }, 40);
  });
  const track = dest.stream.getAudioTracks()[0];
  if (!track) throw new Error('no track');
  const t = pc.addTransceiver(track, { direction: 'sendrecv' });
  const codecs = RTCRtpSender.getCapabilities('audio')?.codecs ?? [];
  t.setCodecPreferences(
    codecs.filter(
      (c) => c.mimeType === 'audio/opus' || (c.mimeType === 'audio/telephone-event' && c.clockRate === 8000),
    ),
  );
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 3000);
  });
  return pc.localDescription?.sdp ?? '';
}

type InPage = { caller: PageCaller };

/** The page's answer to apply: the business's SDP as the simulator handed it over. */
export const applyAnswer = (page: Page, sdp: string) =>
  page.evaluate(
    (a) => (globalThis as unknown as InPage).caller.pc.setRemoteDescription({ type: 'answer', sdp: a }),
    sdp,
  );

/** RFC 4733 keys from the page (120 ms each, 80 ms apart); false if Chromium cannot send them on this call. */
export const pressKeys = (page: Page, keys: string) =>
  page.evaluate((k) => {
    const sender = (globalThis as unknown as InPage).caller.pc.getSenders()[0];
    if (!sender?.dtmf?.canInsertDTMF) return false;
    sender.dtmf.insertDTMF(k, 120, 80);
    return true;
  }, keys);

export const connectionState = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as InPage).caller.pc.connectionState);
/** The selected ICE pair's two ends as the page sees them (candidate type and address), once it has one. */
const selectedPairNow = (page: Page) =>
  page.evaluate(async () => {
    const all: Record<string, unknown>[] = [];
    (await (globalThis as unknown as InPage).caller.pc.getStats()).forEach((s: Record<string, unknown>) => {
      all.push(s);
    });
    const transport = all.find((s) => s.type === 'transport');
    const pair = all.find((s) => s.id === transport?.selectedCandidatePairId);
    const side = (id: unknown) => {
      const c = all.find((s) => s.id === id);
      return c ? { type: String(c.candidateType), address: String(c.address ?? c.ip ?? '') } : undefined;
    };
    const local = side(pair?.localCandidateId);
    const remote = side(pair?.remoteCandidateId);
    return local && remote ? { local, remote } : undefined;
  });
export const selectedPair = (page: Page, timeoutMs = 5000) =>
  waitUntil(() => selectedPairNow(page), { timeoutMs, intervalMs: 50, what: "the page's selected ICE pair" });
/**
 * The page's selected pair is its end of the test's link and the service's end (getStats hides the address of a
 * peer-reflexive remote candidate: then its own end is what shows the media stayed on the link).
 */
export function expectOnLink(
  pair: { local: { address: string }; remote: { type: string; address: string } },
  net: Pick<BrowserNet, 'hostIp' | 'nsIp'>,
): void {
  expect(pair.local.address).toBe(net.nsIp);
  if (pair.remote.type !== 'prflx') expect(pair.remote.address).toBe(net.hostIp);
}
export const closeCaller = (page: Page) => page.evaluate(() => (globalThis as unknown as InPage).caller.pc.close());

/** What the page heard: the strongest frequency (Hz) and its level (dBFS) every 40 ms, with the time (epoch ms). */
export const heardTimeline = (page: Page) => page.evaluate(() => (globalThis as unknown as InPage).caller.heard);

/** The first moment (epoch ms) the page heard `hz` (±25 Hz) above -60 dBFS, at or after `since`. */
export async function firstHeard(page: Page, hz: number, since = 0): Promise<number | undefined> {
  const timeline = await heardTimeline(page);
  return timeline.find((h) => h.at >= since && h.db > -60 && Math.abs(h.hz - hz) <= 25)?.at;
}

export async function waitHeard(page: Page, hz: number, opts: { since?: number; timeoutMs?: number } = {}) {
  return waitUntil(() => firstHeard(page, hz, opts.since), {
    timeoutMs: opts.timeoutMs ?? 10_000,
    intervalMs: 100,
    what: `${hz} Hz at the browser caller`,
  });
}

/**
 * Places a call whose caller is the page: the page offers, the simulator relays the offer in the `connect`
 * webhook, and the page gets the business's answer (from pre_accept) and connects. `via: 'control-api'` does it
 * over the simulator's HTTP control API, as `npm run sim -- call --offer <file>` does.
 */
export async function callFromPage(
  sim: WhatsAppSimulator,
  page: Page,
  opts: { name?: string; timeoutMs?: number; via?: 'simulator' | 'control-api' } = {},
): Promise<SimCall> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const offer = await page.evaluate(pageOffer);
  const name = opts.name ?? 'Browser Caller';
  let call: SimCall | undefined;
  let answer: string;
  if (opts.via === 'control-api') {
    const placed = await fetch(`${sim.baseUrl}/_sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, sdp: offer }),
    });
    if (!placed.ok) throw new Error(`POST /_sim/calls: ${placed.status} ${await placed.text()}`);
    const { callId } = (await placed.json()) as { callId: string };
    call = sim.calls.get(callId);
    const res = await fetch(`${sim.baseUrl}/_sim/calls/${encodeURIComponent(callId)}/answer?waitMs=${timeoutMs}`);
    if (!res.ok) throw new Error(`GET /_sim/calls/:id/answer: ${res.status} ${await res.text()}`);
    answer = ((await res.json()) as { sdp: string }).sdp;
  } else {
    const caller = new RelayedCaller(offer);
    call = (await sim.placeCall({ name, caller })).call;
    answer = await caller.answer(timeoutMs);
  }
  if (!call) throw new Error('the simulator does not know the call it placed');
  await applyAnswer(page, answer);
  await waitUntil(async () => (await connectionState(page)) === 'connected', {
    timeoutMs,
    what: "the browser caller's connection",
  });
  return call;
}

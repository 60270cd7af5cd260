import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { CallDetail } from '../../src/shared/rest-types.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { waitUntil } from '../helpers.js';

/**
 * Shared pieces of the console's browser tests: tones, sign-in, waits, in-page audio and ICE probes, screenshots.
 * The rig itself (stack + Chromium) is in console-rig.ts, Chromium's network namespace in browser-net.ts.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Screenshots the README uses (committed). */
export const DOC_SHOTS = path.join(ROOT, 'docs/screenshots');
/** The simulated caller's tone (heard in the agent's browser). */
export const CALLER_HZ = 440;
/** The tone of the browser's fake microphone (heard by the simulated caller). */
export const MIC_HZ = 660;

export const near = (hz: number | null | undefined, want: number, tolerance = 25): boolean =>
  typeof hz === 'number' && Math.abs(hz - want) <= tolerance;

/** Waits until no agent socket is left (the server's disconnect handlers ran), so a service stops quietly. */
export async function settleSockets(presenceOnline: () => Promise<unknown[]>): Promise<void> {
  await waitUntil(async () => (await presenceOnline()).length === 0, { timeoutMs: 3_000 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * Records every RTCPeerConnection a page makes (in `window.__e2ePcs`) so a test can read the selected ICE pair from
 * getStats. Test-side only: the console is not changed.
 */
export async function recordPeerConnections(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    const w = window as unknown as { __e2ePcs: RTCPeerConnection[]; RTCPeerConnection: typeof RTCPeerConnection };
    const Original = w.RTCPeerConnection;
    w.__e2ePcs = [];
    w.RTCPeerConnection = class extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        w.__e2ePcs.push(this);
      }
    };
  });
}

export interface SelectedPair {
  local: { address: string; port: number; type: string; protocol: string };
  remote: { address: string; port: number; type: string; protocol: string };
}

/** The selected candidate pair of the page's newest connected peer connection (needs {@link recordPeerConnections}). */
export function selectedPair(page: Page): Promise<SelectedPair | null> {
  return page.evaluate(async () => {
    const pcs = ((window as unknown as { __e2ePcs?: RTCPeerConnection[] }).__e2ePcs ?? []).filter(
      (pc) => pc.connectionState === 'connected',
    );
    const pc = pcs.at(-1);
    if (!pc) return null;
    const stats = await pc.getStats();
    const all: Record<string, unknown>[] = [];
    stats.forEach((s: Record<string, unknown>) => {
      all.push(s);
    });
    const transport = all.find((s) => s.type === 'transport');
    const pair = all.find((s) => s.id === transport?.selectedCandidatePairId);
    const side = (id: unknown) => {
      const c = all.find((s) => s.id === id);
      return c
        ? {
            address: String(c.address ?? c.ip ?? '?'),
            port: Number(c.port),
            type: String(c.candidateType),
            protocol: String(c.protocol),
          }
        : null;
    };
    const local = side(pair?.localCandidateId);
    const remote = side(pair?.remoteCandidateId);
    return local && remote ? { local, remote } : null;
  });
}

/**
 * The spectrum (dBFS per bin of `binHz`) of what an `<audio>` element of the page plays, from a WebAudio
 * AnalyserNode the test attaches to the element's stream (the console's own meter reads the same stream); null
 * without audio. Test-side only: the console is not changed.
 */
function spectrum(page: Page, selector: string): Promise<{ binHz: number; bins: number[] } | null> {
  return page.evaluate(async (selector) => {
    const el = document.querySelector<HTMLAudioElement>(selector);
    const stream = el?.srcObject;
    if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) return null;
    type Probe = { stream: MediaStream; ctx: AudioContext; analyser: AnalyserNode };
    const w = window as unknown as { __e2eProbes?: Record<string, Probe> };
    w.__e2eProbes ??= {};
    let probe = w.__e2eProbes[selector];
    if (probe?.stream !== stream) {
      void probe?.ctx.close();
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0.5;
      ctx.createMediaStreamSource(stream).connect(analyser);
      probe = { stream, ctx, analyser };
      w.__e2eProbes[selector] = probe;
      await new Promise((r) => setTimeout(r, 400));
    }
    const bins = new Float32Array(probe.analyser.frequencyBinCount);
    probe.analyser.getFloatFrequencyData(bins);
    return { binHz: probe.ctx.sampleRate / probe.analyser.fftSize, bins: Array.from(bins) };
  }, selector);
}

/** The strongest frequency (Hz) in what the page's remote-audio element for `callId` plays; null without audio. */
export async function heardHz(page: Page, callId: string): Promise<{ hz: number; db: number } | null> {
  const s = await spectrum(page, `audio[data-testid="remote-audio"][data-call-id="${callId}"]`);
  if (!s) return null;
  const { binHz, bins } = s;
  let best = -1;
  for (let i = Math.floor(100 / binHz); i < Math.min(bins.length, Math.ceil(4000 / binHz)); i++) {
    if (best < 0 || (bins[i] ?? -Infinity) > (bins[best] ?? -Infinity)) best = i;
  }
  const db = bins[best] ?? -Infinity;
  // Below about -70 dBFS the bins hold only the noise floor: nothing is heard.
  return best < 0 || db < -70 ? null : { hz: Math.round(best * binHz), db: Math.round(db) };
}

/**
 * The level (dBFS) at each frequency in what the `<audio>` element at `selector` plays; -Infinity for a frequency
 * that is not there; null without audio.
 */
export async function levelsAt(page: Page, selector: string, freqs: number[]): Promise<number[] | null> {
  const s = await spectrum(page, selector);
  if (!s) return null;
  const { binHz, bins } = s;
  return freqs.map((f) => {
    const i = Math.round(f / binHz);
    return Math.max(bins[i - 1] ?? -Infinity, bins[i] ?? -Infinity, bins[i + 1] ?? -Infinity);
  });
}

/** Polls {@link heardHz} until it is near `want`; returns the last reading. */
export async function waitHeard(page: Page, callId: string, want: number, timeoutMs = 10_000) {
  return waitUntil(
    async () => {
      const r = await heardHz(page, callId);
      return r && near(r.hz, want) ? r : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${want} Hz in the page's remote audio` },
  );
}

/** Polls until the locator's text matches; returns the text. */
export async function waitText(locator: Locator, re: RegExp, timeoutMs = 10_000): Promise<string> {
  return waitUntil(
    async () => {
      const t = (await locator.textContent({ timeout: 500 }).catch(() => null)) ?? '';
      return re.test(t) ? t : undefined;
    },
    { timeoutMs, what: `text ${re} in ${locator}` },
  );
}

/** Polls until an attribute passes `ok`; returns its value. */
export async function waitAttr(
  locator: Locator,
  name: string,
  ok: (v: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  return waitUntil(
    async () => {
      const v = await locator.getAttribute(name, { timeout: 500 }).catch(() => null);
      return v !== null && ok(v) ? v : undefined;
    },
    { timeoutMs, what: `${name} of ${locator}` },
  );
}

export async function waitGone(locator: Locator, timeoutMs = 5_000): Promise<void> {
  await locator.waitFor({ state: 'detached', timeout: timeoutMs });
}

/**
 * Saves a screenshot as a test artefact (test-artifacts/). With `UPDATE_DOC_SCREENSHOTS=1`, those marked `doc` are
 * also copied to docs/screenshots (the README's pictures); a plain test run never touches tracked files.
 */
export async function shot(page: Page, name: string, opts: { doc?: boolean } = {}): Promise<void> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (opts.doc && process.env.UPDATE_DOC_SCREENSHOTS === '1') {
    mkdirSync(DOC_SHOTS, { recursive: true });
    copyFileSync(file, path.join(DOC_SHOTS, `${name}.png`));
  }
}

export const incomingCard = (page: Page, callId: string) =>
  page.locator(`[data-testid="incoming-call"][data-call-id="${callId}"]`);

/** Waits until the console's call-quality meter says the call's media is connected. */
export const waitConnected = (page: Page): Promise<string> =>
  waitAttr(page.getByTestId('call-quality'), 'data-phase', (v) => v === 'connected');

/**
 * A new simulated call from `name`, accepted in the console on `page`; resolves once Meta accepted, the media is
 * connected and the agent hears the caller's {@link CALLER_HZ}.
 */
export async function acceptInConsole(sim: WhatsAppSimulator, page: Page, name: string): Promise<SimCall> {
  const { call } = await sim.placeCall({ name });
  await incomingCard(page, call.callId).getByTestId('accept-call').click();
  await call.waitFor('accepted', 20_000);
  await waitConnected(page);
  await waitHeard(page, call.callId, CALLER_HZ);
  return call;
}

/**
 * A page signed in as `username` (password 'demo') on the console, its socket connected. Through the login form by
 * default; `form: false` logs in through the API and hands the console its stored login (what a reload finds),
 * which is quicker where the form is not what a test is about.
 */
export async function signIn(
  baseUrl: string,
  ctx: BrowserContext,
  username: string,
  opts: { form?: boolean } = {},
): Promise<Page> {
  if (opts.form === false) {
    const res = await fetch(`${baseUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'demo' }),
    });
    if (!res.ok) throw new Error(`login ${username}: ${res.status}`);
    const stored = JSON.stringify(await res.json());
    await ctx.addInitScript((auth) => {
      try {
        if (!localStorage.getItem('wacc.auth')) localStorage.setItem('wacc.auth', auth);
      } catch {
        // about:blank has no storage.
      }
    }, stored);
  }
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${username} page error]`, err.message));
  await page.goto(baseUrl);
  if (opts.form !== false) {
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill('demo');
    await page.getByTestId('login-submit').click();
  }
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 10_000 });
  return page;
}

const supervisorTokens = new Map<string, Promise<string>>();

/** GET `path` of the API as the demo supervisor (sam). */
export async function asSupervisor<T>(baseUrl: string, path: string): Promise<T> {
  let token = supervisorTokens.get(baseUrl);
  if (!token) {
    token = fetch(`${baseUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sam', password: 'demo' }),
    }).then(async (res) => ((await res.json()) as { token: string }).token);
    supervisorTokens.set(baseUrl, token);
  }
  const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${await token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** GET /api/calls/:id as the demo supervisor. */
export const callDetail = (baseUrl: string, id: string): Promise<CallDetail> =>
  asSupervisor<CallDetail>(baseUrl, `/api/calls/${encodeURIComponent(id)}`);

/** The length an `<audio>` element reports once it has loaded its file. */
export async function loadedDuration(audio: Locator, what: string): Promise<number> {
  await audio.waitFor({ state: 'attached', timeout: 15_000 });
  return waitUntil(
    async () => {
      const d = await audio.evaluate((el) => (el as HTMLAudioElement).duration);
      return Number.isFinite(d) && d > 0 ? d : undefined;
    },
    { what, timeoutMs: 15_000 },
  );
}

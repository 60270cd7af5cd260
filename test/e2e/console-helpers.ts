import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import type { TestAgent } from '../../src/testing/agent-harness.js';
import {
  type ChildService,
  freePort,
  type InProcessService,
  newSimulator,
  spawnRole,
  startInProcess,
} from '../harness.js';
import { cleanupPrefix, testPrefix, waitUntil } from '../helpers.js';

/**
 * Shared pieces of the console's browser tests: the whole stack (simulator with real wrtc callers, http + worker
 * in process, a media node in its own process), Chromium with a fake microphone playing a known tone, sign-in,
 * waits, in-page audio and ICE probes, screenshots.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Screenshots the README uses (committed). */
export const DOC_SHOTS = path.join(ROOT, 'docs/screenshots');
const CHROMIUM = '/usr/bin/chromium';
/** The simulated caller's tone (heard in the agent's browser). */
export const CALLER_HZ = 440;
/** The tone of the browser's fake microphone (heard by the simulated caller). */
export const MIC_HZ = 660;
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // For a Chromium outside a namespace of its own (startConsoleRig gives it one; see createBrowserNet): loopback
  // only. Chromium gathers 127.0.0.1 / ::1 candidates only with this switch, but on its own it is not enough: libwebrtc ranks pairs by network cost before priority, and a
  // loopback adapter costs 50 against 0 for eth0, so Chromium nominates eth0 address → media node loopback, and
  // the node answers that peer-reflexive eth0 address. The IP handling policy turns off adapter enumeration:
  // Chromium binds wildcard sockets and signals only its default-route address (which the media node drops, it is
  // outside MEDIA_ALLOWED_NETWORKS); its checks to the node's loopback candidates leave from a loopback source, so
  // the pair that connects is prflx 127.0.0.1 / ::1 ↔ host 127.0.0.1 / ::1 on both sides. Tests check that pair.
  '--allow-loopback-in-peer-connection',
  '--webrtc-ip-handling-policy=default_public_and_private_interfaces',
];

/**
 * A network namespace of Chromium's own, so that no media goes to the machine's interface address: a veth pair
 * (host side `hostIp`, namespace side `nsIp`, a /30 the test draws at random in 10.231.0.0/16), the namespace's
 * default route via the host side, and Chromium started through `ip netns exec`. The service listens on `hostIp`
 * and MEDIA_ALLOWED_NETWORKS covers the link, so the only way media can flow is over it. Needs root and iproute2.
 */
export interface BrowserNet {
  name: string;
  hostIp: string;
  nsIp: string;
  cidr: string;
  /** A script that runs Chromium inside the namespace (Playwright's executablePath). */
  executable: string;
  close(): void;
}

export function createBrowserNet(): BrowserNet {
  const tag = randomBytes(3).toString('hex');
  const name = `wacc-e2e-${tag}`;
  const [hostEnd, nsEnd] = [`wc${tag}h`, `wc${tag}n`];
  const block = randomInt(0, 16_384) * 4;
  const base = `10.231.${Math.floor(block / 256)}.`;
  const last = block % 256;
  const hostIp = `${base}${last + 1}`;
  const nsIp = `${base}${last + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsEnd);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostIp);
  } catch (err) {
    try {
      ip('netns', 'del', name);
    } catch {}
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(
      `browser tests give Chromium a network namespace of its own (ip netns, veth) and need root and iproute2: ${why}`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'e2e-netns-'));
  const executable = path.join(dir, 'chromium');
  writeFileSync(executable, `#!/bin/sh\nexec ip netns exec ${name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  let closed = false;
  return {
    name,
    hostIp,
    nsIp,
    cidr: `${base}${last}/30`,
    executable,
    close() {
      if (closed) return;
      closed = true;
      // Deleting the namespace takes its veth end, and with it the host's.
      try {
        ip('netns', 'del', name);
      } catch {}
      try {
        ip('link', 'del', hostEnd);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Is `address` one end of the test's own link (where all of Chromium's media must flow)? */
export const onTestLink = (net: BrowserNet, address: string): boolean => address === net.hostIp || address === net.nsIp;

export const near = (hz: number | null | undefined, want: number, tolerance = 25): boolean =>
  typeof hz === 'number' && Math.abs(hz - want) <= tolerance;

/** Writes `seconds` of a sine at `hz` as a 48 kHz mono 16-bit WAV (what Chromium's fake capture device plays). */
export function writeToneWav(file: string, hz: number, seconds = 10): void {
  const rate = 48_000;
  const n = rate * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  // A whole number of cycles (integer hz × seconds), so the loop has no click.
  for (let i = 0; i < n; i++)
    buf.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  writeFileSync(file, buf);
}

/** The newest modification time under `p` (a file or a directory tree). */
function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

/**
 * Builds the console into web/dist when it is missing or older than its sources, so the service serves the current
 * console. A child process, because vitest's NODE_ENV=test would otherwise put React's development build into
 * web/dist.
 */
export function buildConsole(): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  const built = newest(path.join(ROOT, 'web/dist/index.html'));
  const sources = Math.max(
    ...['web/src', 'web/index.html', 'web/vite.config.ts', 'src/client', 'src/shared/protocol.ts'].map((p) =>
      newest(path.join(ROOT, p)),
    ),
  );
  if (built > sources) return;
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: 'inherit' },
  );
  if (!existsSync(path.join(ROOT, 'web/dist/index.html'))) throw new Error('the console build produced no index.html');
}

/** Waits until no agent socket is left (the server's disconnect handlers ran), so a service stops quietly. */
export async function settleSockets(presenceOnline: () => Promise<unknown[]>): Promise<void> {
  await waitUntil(async () => (await presenceOnline()).length === 0, { timeoutMs: 3_000 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * Chromium with a fake microphone that plays a {@link MIC_HZ} tone (a WAV in a temp dir, removed with the browser).
 * `micPrompt: 'deny'` leaves out the flag that auto-accepts the permission prompt (headless then denies:
 * NotAllowedError); `device: false` leaves out the fake device (NotFoundError).
 */
export async function launchChromium(
  opts: { micPrompt?: 'accept' | 'deny'; device?: boolean; net?: BrowserNet | undefined; origin?: string } = {},
): Promise<Browser> {
  const args = [...BASE_ARGS];
  // The console is served on the link's host address: plain http there is not a secure context (no microphone)
  // unless Chromium is told to treat that one origin as one.
  if (opts.origin) args.push(`--unsafely-treat-insecure-origin-as-secure=${opts.origin}`);
  let dir: string | undefined;
  if (opts.device !== false) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'e2e-mic-'));
    const wav = path.join(dir, `tone-${MIC_HZ}.wav`);
    writeToneWav(wav, MIC_HZ);
    args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`);
  }
  if (opts.micPrompt !== 'deny') args.push('--use-fake-ui-for-media-stream');
  const browser = await chromium.launch({ executablePath: opts.net?.executable ?? CHROMIUM, args });
  if (dir) {
    const tmp = dir;
    browser.on('disconnected', () => rmSync(tmp, { recursive: true, force: true }));
  }
  return browser;
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
 * The strongest frequency (Hz) in what the page's remote-audio element plays, from a WebAudio AnalyserNode the test
 * attaches to the element's stream (the console's own meter reads the same stream); null without audio.
 */
export function heardHz(page: Page, callId: string): Promise<{ hz: number; db: number } | null> {
  return page.evaluate(async (id) => {
    const el = document.querySelector<HTMLAudioElement>(`audio[data-testid="remote-audio"][data-call-id="${id}"]`);
    const stream = el?.srcObject;
    if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) return null;
    type Probe = { stream: MediaStream; ctx: AudioContext; analyser: AnalyserNode };
    const w = window as unknown as { __e2eProbe?: Probe };
    if (w.__e2eProbe?.stream !== stream) {
      void w.__e2eProbe?.ctx.close();
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0.5;
      ctx.createMediaStreamSource(stream).connect(analyser);
      w.__e2eProbe = { stream, ctx, analyser };
      await new Promise((r) => setTimeout(r, 400));
    }
    const { ctx, analyser } = w.__e2eProbe;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const binHz = ctx.sampleRate / analyser.fftSize;
    let best = -1;
    for (let i = Math.floor(100 / binHz); i < Math.min(bins.length, Math.ceil(4000 / binHz)); i++) {
      if (best < 0 || (bins[i] ?? -Infinity) > (bins[best] ?? -Infinity)) best = i;
    }
    const db = bins[best] ?? -Infinity;
    // Below about -70 dBFS the bins hold only the noise floor: nothing is heard.
    return best < 0 || db < -70 ? null : { hz: Math.round(best * binHz), db: Math.round(db) };
  }, callId);
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

/** The whole stack for a test: simulator (real wrtc callers), http + worker in process, a media node process. */
export interface Stack {
  prefix: string;
  sim: WhatsAppSimulator;
  svc: InProcessService;
  media: ChildService;
  url: string;
  /** Chromium's network namespace, when the stack was started for one (startConsoleRig). */
  net?: BrowserNet | undefined;
  /** GET /api/calls/:id. */
  detail(id: string): Promise<CallDetail>;
  /** The caller hangs up every call still up; resolves when the service has none left (between tests). */
  endAllCalls(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the simulator (callers send a {@link CALLER_HZ} tone and listen for {@link MIC_HZ}), the http and worker
 * roles in this process and a media node (`src/main.ts media`) on a fresh key prefix; `env` goes to both.
 */
export async function startStack(env: Record<string, string> = {}, net?: BrowserNet): Promise<Stack> {
  const prefix = testPrefix();
  const sim = newSimulator({ callerFactory: createCallerFactory({ toneHz: CALLER_HZ, watchHz: [MIC_HZ] }) });
  // A test that stops with a call up must not wait for it to drain.
  const mediaStarting = spawnRole('media', prefix, { MEDIA_DRAIN_TIMEOUT_SECONDS: '0', ...env });
  // Nothing may be left running if a part fails to start.
  mediaStarting.catch(() => undefined);
  await sim.start();
  let svc: InProcessService | undefined;
  try {
    svc = await startInProcess(prefix, sim, { WRAP_UP_SECONDS: '0', ...env });
    const media = await mediaStarting;
    const s = svc;
    return {
      prefix,
      sim,
      svc: s,
      media,
      url: s.url,
      net,
      detail: (id) => callDetail(s.url, id),
      async endAllCalls() {
        for (const call of sim.calls.values()) {
          if (call.state !== 'ended') await sim.hangup(call.callId).catch(() => undefined);
        }
        await waitUntil(async () => (await s.core.index.active(100)).length === 0, {
          what: 'every call to end',
          timeoutMs: 10_000,
        });
      },
      async stop() {
        await settleSockets(() => s.core.presence.online());
        await media.stop();
        await s.stop();
        await sim.stop();
        await cleanupPrefix(prefix);
        net?.close();
      },
    };
  } catch (err) {
    await (await mediaStarting.catch(() => undefined))?.stop();
    await svc?.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
    throw err;
  }
}

/**
 * What a console test file needs first: the console built, Chromium launched and the stack started, side by side.
 * If either fails to start, the other is stopped before the error is thrown.
 */
export async function startConsoleRig(
  opts: { micPrompt?: 'accept' | 'deny'; env?: Record<string, string> } = {},
): Promise<{ browser: Browser; stack: Stack }> {
  buildConsole();
  // Chromium runs in a network namespace of its own; the service listens on the link's host end (the demo's
  // loopback-only rule is lifted for it) and media is allowed on loopback (the simulated callers) and the link.
  const net = createBrowserNet();
  const port = await freePort();
  const origin = `http://${net.hostIp}:${port}`;
  const env = {
    HOST: net.hostIp,
    PORT: String(port),
    DEMO_ALLOW_REMOTE: '1',
    MEDIA_ALLOWED_NETWORKS: `127.0.0.0/8,::1/128,${net.cidr}`,
    ...opts.env,
  };
  const [b, s] = await Promise.allSettled([
    launchChromium({ micPrompt: opts.micPrompt ?? 'accept', net, origin }),
    startStack(env, net),
  ]);
  if (b.status === 'fulfilled' && s.status === 'fulfilled') return { browser: b.value, stack: s.value };
  if (b.status === 'fulfilled') await b.value.close().catch(() => undefined);
  if (s.status === 'fulfilled') await s.value.stop().catch(() => undefined);
  net.close();
  throw b.status === 'rejected' ? b.reason : (s as PromiseRejectedResult).reason;
}

/** `agent` answers a new simulated call, speaks a 660 Hz tone for `talkMs`, then hangs up; returns the call. */
export async function answeredCall(stack: Stack, agent: TestAgent, talkMs: number): Promise<SimCall> {
  const { call } = await stack.sim.placeCall({ name: 'Priya' });
  await agent.offered(call.callId);
  const accepted = await agent.client.accept(call.callId);
  if (!accepted.ok) throw new Error(`accept failed: ${JSON.stringify(accepted)}`);
  await agent.startMedia(call.callId, { toneHz: 660 });
  await call.waitFor('accepted', 20_000);
  await new Promise((r) => setTimeout(r, talkMs));
  await agent.client.hangup(call.callId);
  return call;
}

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

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
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
import { type BrowserNet, createBrowserNet, launchChromium, linkEnv } from './browser-net.js';
import { ARTIFACTS, CALLER_HZ, callDetail, MIC_HZ, ROOT, settleSockets, signIn } from './console-helpers.js';

/**
 * The rig of the console's browser tests: the console built, the whole stack (simulator with real wrtc callers,
 * http + worker in process, a media node in its own process) and Chromium in a network namespace of its own.
 */

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
  // Chromium runs in a network namespace of its own, the service on its link (linkEnv).
  const net = createBrowserNet();
  const port = await freePort();
  const origin = `http://${net.hostIp}:${port}`;
  const env = { ...linkEnv(net, port), ...opts.env };
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

export interface ConsoleRig {
  /** Set once the file's beforeAll ran. */
  browser: Browser;
  stack: Stack;
  /** A browser context of the rig's viewport (on `browser`, the rig's own by default), closed by the rig. */
  newContext(browser?: Browser): Promise<BrowserContext>;
  /** A page signed in as `username` through the stored login, in `ctx` or a new context. */
  signIn(username: string, ctx?: BrowserContext): Promise<Page>;
}

/**
 * A console test file's rig, started in beforeAll and stopped in afterAll (Chromium, then the stack). `env` may be a
 * function, read when the rig starts (after the file's own earlier beforeAll). With `eachTest`, every test closes
 * the contexts it opened and ends its calls; otherwise the contexts are closed with the file. `onContext` runs on
 * every context newContext opens.
 */
export function useConsoleRig(
  opts: {
    micPrompt?: 'accept' | 'deny';
    env?: Record<string, string> | (() => Record<string, string>);
    viewport?: { width: number; height: number };
    eachTest?: boolean;
    onContext?: (ctx: BrowserContext) => Promise<void>;
  } = {},
): ConsoleRig {
  const contexts: BrowserContext[] = [];
  const closeContexts = async () => {
    for (const ctx of contexts.splice(0)) await ctx.close().catch(() => undefined);
  };
  const rig: ConsoleRig = {
    browser: undefined as unknown as Browser,
    stack: undefined as unknown as Stack,
    async newContext(browser = rig.browser) {
      const ctx = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
      await opts.onContext?.(ctx);
      contexts.push(ctx);
      return ctx;
    },
    async signIn(username, ctx) {
      return signIn(rig.stack.url, ctx ?? (await rig.newContext()), username, { form: false });
    },
  };
  beforeAll(async () => {
    const env = typeof opts.env === 'function' ? opts.env() : opts.env;
    ({ browser: rig.browser, stack: rig.stack } = await startConsoleRig({ micPrompt: opts.micPrompt, env }));
  });
  afterAll(async () => {
    if (!opts.eachTest) await closeContexts();
    await rig.browser?.close();
    await rig.stack?.stop();
  });
  if (opts.eachTest) {
    afterEach(async () => {
      await closeContexts();
      await rig.stack.endAllCalls();
    });
  }
  return rig;
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

/**
 * The WhatsApp caller is a real headless Chromium page (test/e2e/browser-caller.ts) in a network namespace of its
 * own: it offers like WhatsApp (Opus 111 + telephone-event/8000 126 only), the strict simulator relays that offer
 * in the `connect` webhook and hands the page our answer, the business answers at once (routing.ivr.json's flow,
 * with tones for prompts), the page hears the greeting then the menu, presses a key with RTCDTMFSender (RFC 4733),
 * and the call waits in that key's team queue, offered to an agent of that team only, while the page hears the
 * queue music. Two keys, two teams: a call cannot reach the right team by default.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail, QueuesView } from '../../src/shared/rest-types.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import {
  type ChildService,
  freePort,
  type InProcessService,
  newSimulator,
  spawnRole,
  startInProcess,
} from '../harness.js';
import { cleanupPrefix, loginToken, testPrefix, waitForCallState, waitUntil } from '../helpers.js';
import { toneRouting } from '../tone-routing.js';
import {
  callFromPage,
  expectOnLink,
  firstHeard,
  heardTimeline,
  pressKeys,
  selectedPair,
  waitHeard,
} from './browser-caller.js';
import { type BrowserNet, createBrowserNet, launchChromium, linkEnv } from './browser-net.js';

/** The prompts are tones, so the page can tell what it hears: greeting, menu, queue music. */
const GREETING_HZ = 500;
const MENU_HZ = 800;
const MUSIC_HZ = 300;

describe('IVR key press from a Chromium caller (RFC 4733), forward engine', () => {
  const prefix = testPrefix();
  const sim = newSimulator({ mediaWatchdogMs: 0 });
  let routing: { file: string; remove(): void } | undefined;
  let net: BrowserNet;
  let browser: Browser;
  let svc: InProcessService;
  let media: ChildService;
  let boss: string;
  const agents: Record<string, TestAgent> = {};

  beforeAll(async () => {
    routing = await toneRouting(async (clip) => ({
      answer: 'business',
      policy: 'ring-all',
      greeting: await clip('greeting', GREETING_HZ, 1),
      ivr: {
        prompt: await clip('menu', MENU_HZ, 1.5),
        options: { '1': { teams: ['sales'] }, '2': { teams: ['support'] } },
        timeoutSeconds: 8,
        retries: 1,
      },
      queue: { music: await clip('music', MUSIC_HZ, 4), announceEverySeconds: 60, maxWaitSeconds: 120 },
    }));
    // Chromium's namespace; the service listens on the link's host end and media may flow on loopback and the link.
    net = createBrowserNet();
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      ROUTING_FILE: routing.file,
      ...linkEnv(net, await freePort()),
      WRAP_UP_SECONDS: '0',
    };
    await sim.start();
    browser = await launchChromium({ net, device: false });
    svc = await startInProcess(prefix, sim, env);
    media = await spawnRole('media', prefix, { ...env, MEDIA_ENGINE: 'forward', MEDIA_DRAIN_TIMEOUT_SECONDS: '0' });
    await waitUntil(async () => (await svc.core.nodes.place()) !== undefined, { what: 'a media node' });
    boss = await loginToken(svc.url, 'boss', 'pw');
    // One agent per team, both free before any call.
    for (const id of ['a5', 'a1']) agents[id] = await TestAgent.connect(svc.url, id, { password: 'pw' });
  });
  afterAll(async () => {
    for (const a of Object.values(agents)) a.close();
    await browser?.close();
    await media?.stop();
    await svc?.stop();
    await sim.stop();
    await cleanupPrefix(prefix);
    net?.close();
    routing?.remove();
  });

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${boss}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  };
  const detail = (id: string) => get<CallDetail>(`/api/calls/${encodeURIComponent(id)}`);

  it.each([
    ['1', 'sales', 'a5', 'a1', 'simulator'],
    ['2', 'support', 'a1', 'a5', 'control-api'],
  ] as const)(
    'pressing %s during the menu puts the call in the %s queue, offered to %s and not %s (offer relayed by the %s)',
    async (key, team, yes, no, via) => {
      let page: Page | undefined;
      try {
        page = await browser.newPage();
        const call = await callFromPage(sim, page, { name: `Browser ${key}`, via });
        await call.waitFor('accepted', 10_000);
        expect((await detail(call.callId)).state).toBe('ivr');
        // Media goes over the test's own link only (the media node's end of it).
        expectOnLink(await selectedPair(page), net);

        // The greeting, then the menu; no music while the menu waits for a key.
        const greetingAt = await waitHeard(page, GREETING_HZ);
        const menuAt = await waitHeard(page, MENU_HZ, { since: greetingAt });
        expect(menuAt).toBeGreaterThan(greetingAt);
        const keyAt = Date.now();
        expect(await firstHeard(page, MUSIC_HZ)).toBeUndefined();
        expect(await pressKeys(page, key)).toBe(true);

        const d = await waitForCallState(svc.url, boss, call.callId, 'queued');
        expect(d.ivrChoice).toBe(key);
        expect(d.queueTeams).toEqual([team]);
        expect(d.timeline.some((t) => t.event === 'MEDIA.DTMF' && t.to === 'queued')).toBe(true);
        // In that team's queue (and no other), ringing that team's agent only.
        const offer = await agents[yes]!.offered(call.callId, 10_000);
        expect(offer.callId).toBe(call.callId);
        const queues = await get<QueuesView>('/api/queues');
        const holding = queues.teams.filter((t) => t.waiting.some((w) => w.callId === call.callId));
        expect(holding.map((t) => t.team)).toEqual([team]);
        expect(holding[0]!.waiting.find((w) => w.callId === call.callId)?.ivrChoice).toBe(key);
        expect(agents[no]!.offers.some((o) => o.callId === call.callId)).toBe(false);
        // The caller waits with the queue music.
        await waitHeard(page, MUSIC_HZ, { since: keyAt });
        const timeline = await heardTimeline(page);
        console.info(
          `[ivr] browser caller pressed ${key}: greeting +${greetingAt - (call.acceptedAt ?? 0)} ms after accept, ` +
            `menu +${menuAt - greetingAt} ms later, ${timeline.length} readings, queued for ${team}, offered to ${yes}`,
        );

        await sim.hangup(call.callId);
        await waitForCallState(svc.url, boss, call.callId, 'ended');
        expect(agents[no]!.offers.some((o) => o.callId === call.callId)).toBe(false);
        expect(sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
          'pre_accept:200',
          'accept:200',
        ]);
      } finally {
        await page?.close();
      }
    },
  );
});

/**
 * A supervisor plays a call's recording in the call drawer (Chromium), and seeks in it: the recorded call is made by
 * a Node agent on the forward engine with `record: "all"`; the drawer loads the Ogg Opus file and the page's audio
 * element reports its length and lands where it is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { BUSINESS } from '../harness.js';
import { waitUntil } from '../helpers.js';
import { answeredCall, loadedDuration, type Stack, signIn, startConsoleRig } from './console-helpers.js';

describe('recording playback in the supervisor drawer', () => {
  let browser: Browser;
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rec-ui-'));
    const routing = path.join(dir, 'routing.json');
    writeFileSync(routing, JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { record: 'all' } } }));
    ({ browser, stack } = await startConsoleRig({
      env: {
        ROUTING_FILE: routing,
        MEDIA_ENGINE: 'forward',
        MEDIA_RECORDINGS_DIR: path.join(dir, 'tap'),
        RECORDINGS_DIR: path.join(dir, 'stored'),
      },
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the drawer plays the recorded call and seeks to a chosen second', async () => {
    const alice = await TestAgent.connect(stack.url, 'alice');
    try {
      const call = await answeredCall(stack, alice, 7000); // the notice, then ≈ 4 s recorded
      await waitUntil(
        async () => (await stack.svc.redis.exists(stack.svc.core.keys.call.recording(call.callId))) === 1,
        {
          what: 'the recording stored',
          timeoutMs: 20_000,
        },
      );

      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await signIn(stack.url, ctx, 'sam');
      await page.locator(`[data-testid="call-row"][data-call-id="${call.callId}"]`).click({ timeout: 15_000 });
      const audio = page.getByTestId('recording-audio');
      const duration = await loadedDuration(audio, 'the recording to load');
      expect(duration).toBeGreaterThan(2);
      const landed = await audio.evaluate(
        (el, at) =>
          new Promise<number>((resolve) => {
            const a = el as HTMLAudioElement;
            a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
            a.currentTime = at;
          }),
        duration / 2,
      );
      expect(Math.abs(landed - duration / 2)).toBeLessThan(0.5);
      await ctx.close();
    } finally {
      alice.close();
    }
  }, 120_000);
});

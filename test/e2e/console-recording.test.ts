/**
 * A supervisor plays a call's recording in the call drawer (Chromium), and seeks in it: the recorded call is made by
 * a Node agent on the forward engine with `record: "all"`; the drawer loads the Ogg Opus file and the page's audio
 * element reports its length and lands where it is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { BUSINESS } from '../harness.js';
import { waitUntil } from '../helpers.js';
import { loadedDuration, signIn } from './console-helpers.js';
import { answeredCall, useConsoleRig } from './console-rig.js';

describe('recording playback in the supervisor drawer', () => {
  let dir: string;
  // Made before the rig starts, removed after it stopped (after hooks run last registered first).
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rec-ui-'));
    writeFileSync(
      path.join(dir, 'routing.json'),
      JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { record: 'all' } } }),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const rig = useConsoleRig({
    env: () => ({
      ROUTING_FILE: path.join(dir, 'routing.json'),
      MEDIA_ENGINE: 'forward',
      MEDIA_RECORDINGS_DIR: path.join(dir, 'tap'),
      RECORDINGS_DIR: path.join(dir, 'stored'),
    }),
  });

  it('the drawer plays the recorded call and seeks to a chosen second', async () => {
    const alice = await TestAgent.connect(rig.stack.url, 'alice');
    try {
      const call = await answeredCall(rig.stack, alice, 7000); // the notice, then ≈ 4 s recorded
      await waitUntil(
        async () => (await rig.stack.svc.redis.exists(rig.stack.svc.core.keys.call.recording(call.callId))) === 1,
        {
          what: 'the recording stored',
          timeoutMs: 20_000,
        },
      );

      const ctx = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await signIn(rig.stack.url, ctx, 'sam');
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

/**
 * A supervisor sees Meta's own recording and transcript of a call in the call drawer (Chromium): the number opted
 * in (`metaCapture`), the simulated Meta made both files after the hang-up, the service fetched them; the drawer's
 * player loads the recording and the transcript text is shown.
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

describe("Meta's recording and transcript in the supervisor drawer", () => {
  let browser: Browser;
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meta-ui-'));
    const routing = path.join(dir, 'routing.json');
    const metaCapture = { recording: true, transcription: true, purpose: 'quality assurance', language: 'en_US' };
    writeFileSync(routing, JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { metaCapture } } }));
    ({ browser, stack } = await startConsoleRig({
      env: { ROUTING_FILE: routing, RECORDINGS_DIR: path.join(dir, 'stored') },
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the drawer plays the recording Meta made and shows its transcript', async () => {
    const alice = await TestAgent.connect(stack.url, 'alice');
    try {
      const call = await answeredCall(stack, alice, 3000);
      const meta = stack.svc.core.keys.call.metaCapture(call.callId);
      await waitUntil(
        async () => {
          const [rec, text] = await stack.svc.redis.hmget(meta, 'recording:status', 'transcription:status');
          return rec === 'stored' && text === 'stored';
        },
        { what: "Meta's files stored", timeoutMs: 20_000 },
      );

      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await signIn(stack.url, ctx, 'sam');
      await page.locator(`[data-testid="call-row"][data-call-id="${call.callId}"]`).click({ timeout: 15_000 });
      const duration = await loadedDuration(page.getByTestId('meta-recording-audio'), "Meta's recording to load");
      expect(duration).toBeGreaterThan(2);
      await expect
        .poll(() => page.getByTestId('meta-transcript').textContent(), { timeout: 15_000 })
        .toContain('quality assurance');
      await ctx.close();
    } finally {
      alice.close();
    }
  }, 120_000);
});

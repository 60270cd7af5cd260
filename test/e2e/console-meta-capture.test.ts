/**
 * A supervisor sees Meta's own recording and transcript of a call in the call drawer (Chromium): the number opted
 * in (`metaCapture`), the simulated Meta made both files after the hang-up, the service fetched them; the drawer's
 * player loads the recording and the transcript text is shown.
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

describe("Meta's recording and transcript in the supervisor drawer", () => {
  let dir: string;
  // Made before the rig starts, removed after it stopped (after hooks run last registered first).
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meta-ui-'));
    const metaCapture = { recording: true, transcription: true, purpose: 'quality assurance', language: 'en_US' };
    writeFileSync(
      path.join(dir, 'routing.json'),
      JSON.stringify({ numbers: { [BUSINESS.phoneNumberId]: { metaCapture } } }),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const rig = useConsoleRig({
    env: () => ({ ROUTING_FILE: path.join(dir, 'routing.json'), RECORDINGS_DIR: path.join(dir, 'stored') }),
  });

  it('the drawer plays the recording Meta made and shows its transcript', async () => {
    const alice = await TestAgent.connect(rig.stack.url, 'alice');
    try {
      const call = await answeredCall(rig.stack, alice, 3000);
      const meta = rig.stack.svc.core.keys.call.metaCapture(call.callId);
      await waitUntil(
        async () => {
          const [rec, text] = await rig.stack.svc.redis.hmget(meta, 'recording:status', 'transcription:status');
          return rec === 'stored' && text === 'stored';
        },
        { what: "Meta's files stored", timeoutMs: 20_000 },
      );

      const ctx = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await signIn(rig.stack.url, ctx, 'sam');
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

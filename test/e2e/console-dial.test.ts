/**
 * Calling a WhatsApp user from the console in Chromium: the dial field and button, ringback while the user's phone
 * rings, then audio both ways through a real media node (the user speaks 440 Hz, the fake microphone 660 Hz); and
 * the plain-words notice when the user has not allowed calls yet.
 */
import type { BrowserContext } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers.js';
import { CALLER_HZ, MIC_HZ, near, recordPeerConnections, signIn, waitHeard, waitText } from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

describe('the console dials WhatsApp users', () => {
  // One context for the file (closed with it), recording its RTCPeerConnections.
  const rig = useConsoleRig({ onContext: recordPeerConnections });
  let ctx: BrowserContext;

  beforeAll(async () => {
    ctx = await rig.newContext();
  });

  it('dial-number and dial-submit place the call: ringback, then both parties hear each other', async () => {
    const to = '447700900123';
    rig.stack.sim.business.addUser(to, {
      permission: 'temporary',
      toneHz: CALLER_HZ,
      watchHz: [MIC_HZ],
      answerAfterMs: 3000,
    });
    const page = await signIn(rig.stack.url, ctx, 'alice');
    await page.getByTestId('dial-number').fill('+44 7700 900123');
    await page.getByTestId('dial-submit').click();
    await page.getByTestId('ringback').waitFor({ state: 'visible', timeout: 15_000 });
    const simCall = await waitUntil(() => [...rig.stack.sim.calls.values()].find((c) => c.to === to), {
      what: 'the call',
    });
    await simCall.waitFor('accepted', 20_000);
    await page.getByTestId('ringback').waitFor({ state: 'detached', timeout: 10_000 });
    const callId = await waitUntil(async () => (await rig.stack.svc.core.presence.claimedBy('alice')) ?? undefined, {
      what: "alice's call",
    });
    await waitText(page.getByTestId('call-state'), /Live/, 15_000);
    await waitHeard(page, callId, CALLER_HZ);
    await waitUntil(() => near(simCall.user?.report().inbound.dominantHz, MIC_HZ), {
      what: 'the user to hear the agent',
      timeoutMs: 10_000,
    });
    await page.getByTestId('hangup').click();
    await simCall.waitFor('ended', 10_000);
    expect(simCall.endedBy).toBe('business');
  }, 90_000);

  it('a user who has not allowed calls: the agent reads that a permission request went out', async () => {
    const to = '447700900456';
    rig.stack.sim.business.addUser(to, {});
    const page = ctx.pages()[0]!;
    await page.getByTestId('dial-number').fill(to);
    await page.getByTestId('dial-submit').click();
    await waitText(page.getByTestId('notice'), /call-permission request/, 10_000);
    expect(
      rig.stack.sim.actions.some(
        (a) => a.action === 'connect' && a.status === 200 && rig.stack.sim.calls.get(a.callId)?.to === to,
      ),
    ).toBe(false);
  }, 30_000);
});

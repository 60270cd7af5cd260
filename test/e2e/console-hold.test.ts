import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCall } from '../../src/sim/simulator.js';
import { waitUntil } from '../helpers.js';
import { CALLER_HZ, incomingCard, MIC_HZ, near, shot, signIn, waitConnected, waitHeard } from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// A business-answered call taken from the queue in the console (Chromium, fake microphone at 660 Hz), on the forward
// engine: Hold switches the caller to the music and stops forwarding the microphone; Resume brings the agent back.
describe('hold and resume from the console', () => {
  const rig = useConsoleRig({
    env: { MEDIA_ENGINE: 'forward', ROUTING_FILE: 'test/fixtures/routing.queue.json', HOLD_ALERT_SECONDS: '5' },
  });

  const hears = (call: SimCall) => (call.caller as CallerPeer).report().inbound;
  const waitCallerHears = (call: SimCall, what: (hz: number | null) => boolean, label: string) =>
    waitUntil(() => what(hears(call).dominantHz), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: `the caller to hear ${label} (hears ${hears(call).dominantHz})`,
    });

  it('hold plays music to the caller instead of the agent, resume brings the agent back, the hold time is kept', async () => {
    const ctx = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const alice: Page = await signIn(rig.stack.url, ctx, 'alice');
    const { call } = await rig.stack.sim.placeCall({ name: 'Queued Caller' });
    // Answered by the business before any agent.
    await call.waitFor('accepted', 10_000);
    await incomingCard(alice, call.callId).getByTestId('accept-call').click();
    await waitConnected(alice);
    await waitHeard(alice, call.callId, CALLER_HZ);
    await waitCallerHears(call, (hz) => near(hz, MIC_HZ), 'the agent');

    await alice.getByTestId('hold-call').click();
    await alice.getByTestId('resume-call').waitFor();
    await waitCallerHears(call, (hz) => hz !== null && !near(hz, MIC_HZ), 'music, not the agent');
    expect((await rig.stack.detail(call.callId)).state).toBe('on-hold');
    // The hold alert reaches the console after HOLD_ALERT_SECONDS.
    await alice.getByText(/on hold for/).waitFor({ timeout: 10_000 });
    await shot(alice, 'agent-on-hold');

    await alice.getByTestId('resume-call').click();
    await alice.getByTestId('hold-call').waitFor();
    await waitCallerHears(call, (hz) => near(hz, MIC_HZ), 'the agent again');
    const d = await rig.stack.detail(call.callId);
    expect(d.state).toBe('live');
    expect(d.holdMs).toBeGreaterThan(4000);
    // Meta never learned of it: one pre_accept, one accept.
    expect(rig.stack.sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept']);
    await alice.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    await ctx.close();
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers.js';
import { shot, signIn } from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// The supervisor's Queues panel in Chromium: business-answered callers waiting with nobody online appear in the
// support queue in order of entry, with their wait; the queue figures are shown.
describe("the supervisor's queue view", () => {
  const rig = useConsoleRig({ env: { MEDIA_ENGINE: 'forward', ROUTING_FILE: 'test/fixtures/routing.queue.json' } });
  // Runs before the rig stops (after hooks run last registered first).
  afterAll(async () => {
    await rig.stack?.endAllCalls().catch(() => undefined);
  });

  it('lists the waiting callers of each team in order, with their wait, and the queue figures', async () => {
    const ctx = await rig.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const sam = await signIn(rig.stack.url, ctx, 'sam');
    await sam.getByTestId('supervisor-queues').waitFor();
    const first = (await rig.stack.sim.placeCall({ name: 'First Waiting' })).call;
    await new Promise((r) => setTimeout(r, 300));
    const second = (await rig.stack.sim.placeCall({ name: 'Second Waiting' })).call;
    await first.waitFor('accepted', 10_000);
    await second.waitFor('accepted', 10_000);
    const rows = sam.getByTestId('queue-support').getByTestId('queue-entry');
    await waitUntil(async () => (await rows.count()) === 2, { what: 'two waiting callers in the panel' });
    expect(await rows.nth(0).getAttribute('data-call-id')).toBe(first.callId);
    expect(await rows.nth(1).getAttribute('data-call-id')).toBe(second.callId);
    expect(await rows.nth(0).textContent()).toContain('First Waiting');
    await sam.getByTestId('fig-service-level').waitFor();
    await sam.getByTestId('fig-queue-asa').waitFor();
    await shot(sam, 'supervisor-queues');
    // The first caller hangs up: the second moves up.
    await rig.stack.sim.hangup(first.callId);
    await waitUntil(async () => (await rows.count()) === 1, { what: 'one waiting caller left' });
    expect(await rows.nth(0).getAttribute('data-call-id')).toBe(second.callId);
    await waitUntil(async () => (await sam.getByTestId('fig-queue-abandonment').textContent())?.includes('%'), {
      what: 'the abandonment figure',
    });
    await ctx.close();
  });
});

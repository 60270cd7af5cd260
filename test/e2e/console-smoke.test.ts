import { describe, expect, it } from 'vitest';
import { META_OFFER } from '../helpers.js';
import { launchChromium } from './browser-net.js';
import { asSupervisor, incomingCard as card, shot, waitAttr, waitGone, waitText } from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// The agent console in a real Chromium against the whole stack (in-process http + worker on real Redis, a media
// node process, the simulator): login, ringing in every tab, decline, reload while ringing, a second tab, the
// microphone denied or missing, and the supervisor view. Calls that only ring carry Meta's sample offer
// (META_OFFER: nothing answers at its loopback port); calls that are answered come from the simulator's real
// wrtc callers, so they go live with audio like in production. One stack serves the file; every test ends its
// calls (and the cleanup hangs up whatever a failed test left).
describe('agent console in Chromium', () => {
  // Signed in through the stored login (rig.signIn): the login form has its own test.
  const rig = useConsoleRig({ eachTest: true });

  it('the login page; a wrong password shows the server message', async () => {
    const page = await (await rig.newContext()).newPage();
    await page.goto(rig.stack.url);
    await page.getByTestId('login-username').waitFor();
    await shot(page, 'login', { doc: true });
    await page.getByTestId('login-username').fill('alice');
    await page.getByTestId('login-password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await waitText(page.getByTestId('login-error'), /Wrong username or password\./);
    await shot(page, 'login-error');
  });

  it('declining removes the card for the decliner only; the last decline sends the call back to waiting', async () => {
    const [alice, bob] = await Promise.all([rig.signIn('alice'), rig.signIn('bob')]);
    const { call } = await rig.stack.sim.placeCall({ sdp: META_OFFER, name: 'Jonas' });
    await card(alice, call.callId).waitFor({ timeout: 10_000 });
    await card(bob, call.callId).waitFor({ timeout: 10_000 });

    await card(bob, call.callId).getByTestId('decline-call').click();
    await waitGone(card(bob, call.callId));
    expect(await card(alice, call.callId).count()).toBe(1);
    await shot(bob, 'agent-declined');

    await card(alice, call.callId).getByTestId('decline-call').click();
    await waitGone(card(alice, call.callId));
    const detail = await rig.stack.detail(call.callId);
    expect(detail.declined.sort()).toEqual(['alice', 'bob']);
    expect(detail.state).not.toBe('ended');
    // Meta was told nothing yet: the caller still waits for someone.
    expect(rig.stack.sim.actionsFor(call.callId)).toEqual([]);
    await rig.stack.sim.hangup(call.callId);
  });

  it('a reload brings the ringing card back; a second tab rings too and loses its card when the first accepts', async () => {
    const ctx = await rig.newContext();
    const tab1 = await rig.signIn('alice', ctx);
    const { call } = await rig.stack.sim.placeCall({ name: 'Amina' });
    await card(tab1, call.callId).waitFor({ timeout: 10_000 });

    await tab1.reload();
    await card(tab1, call.callId).waitFor({ timeout: 10_000 });

    // Same browser profile: the second tab is signed in already.
    const tab2 = await ctx.newPage();
    await tab2.goto(rig.stack.url);
    await card(tab2, call.callId).waitFor({ timeout: 10_000 });

    await card(tab1, call.callId).getByTestId('accept-call').click();
    await tab1.getByTestId('active-call').waitFor({ timeout: 10_000 });
    await waitGone(card(tab2, call.callId));
    // The other tab shows the call as held in the first one and does not take the audio away from it.
    await tab2.getByTestId('call-elsewhere').waitFor({ timeout: 10_000 });
    await call.waitFor('accepted', 20_000);
    await waitText(tab2.getByTestId('call-state'), /Live/);
    expect(await tab2.locator('audio[data-testid="remote-audio"]').count()).toBe(0);
    expect(await tab1.locator('audio[data-testid="remote-audio"]').count()).toBe(1);
    await shot(tab2, 'agent-call-in-other-tab');

    // Hanging up from either tab ends it in both.
    await tab2.getByTestId('hangup').click();
    await waitAttr(tab1.getByTestId('call-ended'), 'data-reason', (v) => v === 'completed');
    await waitAttr(tab2.getByTestId('call-ended'), 'data-reason', (v) => v === 'completed');
    await call.waitFor('ended', 5_000);
    expect(rig.stack.sim.okActions(call.callId, 'terminate')).toBe(1);
  });

  it('a denied or missing microphone says what to do and declines, so the call keeps ringing for others', async () => {
    const cases = [
      { launch: { micPrompt: 'deny' as const }, message: /Microphone access is blocked/, shot: 'agent-mic-denied' },
      { launch: { device: false }, message: /No microphone was found/, shot: 'agent-mic-missing' },
    ];
    // Both other browsers start while bob signs in.
    const others = cases.map((c) =>
      launchChromium({ ...c.launch, net: rig.stack.net, origin: new URL(rig.stack.url).origin }),
    );
    try {
      const bob = await rig.signIn('bob');
      for (const [i, c] of cases.entries()) {
        const alice = await rig.signIn('alice', await rig.newContext(await others[i]!));
        const { call } = await rig.stack.sim.placeCall({ sdp: META_OFFER, name: 'Lena' });
        await card(alice, call.callId).waitFor({ timeout: 10_000 });
        await card(alice, call.callId).getByTestId('accept-call').click();
        await waitText(alice.getByTestId('mic-error'), c.message);
        await waitText(alice.getByTestId('mic-error'), /declined so another agent can take it/);
        await waitGone(card(alice, call.callId));
        expect(await alice.getByTestId('active-call').count()).toBe(0);
        expect(await card(bob, call.callId).count()).toBe(1);
        await shot(alice, c.shot, { doc: c.shot === 'agent-mic-denied' });
        expect((await rig.stack.detail(call.callId)).declined).toEqual(['alice']);
        await rig.stack.sim.hangup(call.callId);
        await waitGone(card(bob, call.callId));
      }
    } finally {
      for (const o of others) await (await o.catch(() => undefined))?.close();
    }
  });

  it('the supervisor sees live calls, agents and figures, and a call’s timeline', async () => {
    const [alice, bob, sam] = await Promise.all([rig.signIn('alice'), rig.signIn('bob'), rig.signIn('sam')]);
    await sam.getByTestId('supervisor-view').waitFor();

    const before = await asSupervisor<{ calls: number; answered: number }>(rig.stack.url, '/api/stats/today');
    const { call } = await rig.stack.sim.placeCall({ name: 'Kenji' });
    const row = sam.locator(`[data-testid="supervisor-calls"] [data-call-id="${call.callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await waitText(row, /Ringing/);
    await card(alice, call.callId).waitFor({ timeout: 10_000 });
    // Supervisors watch; they are not rung.
    expect(await sam.locator('[data-testid="incoming-call"]').count()).toBe(0);
    expect(await sam.getByTestId('attention').count()).toBe(0);
    await card(alice, call.callId).getByTestId('accept-call').click();
    await waitGone(card(bob, call.callId));
    await call.waitFor('accepted', 20_000);
    await waitText(row, /Live[\s\S]*alice|alice[\s\S]*Live/);

    const agents = sam.getByTestId('supervisor-agents');
    await waitText(agents.locator('[data-agent-id="alice"]'), /busy/);
    await waitText(agents.locator('[data-agent-id="bob"]'), /online/);
    await waitText(agents.locator('[data-agent-id="carol"]'), /offline/);
    await sam.getByTestId('supervisor-stats').waitFor();
    expect(await sam.getByTestId('place-demo-call').count()).toBe(1); // demo mode
    await shot(sam, 'supervisor', { doc: true });

    await row.click();
    const drawer = sam.getByTestId('call-drawer');
    await waitText(drawer.getByTestId('call-timeline'), /ROUTING\.OFFER[\s\S]*AGENT\.ACCEPT[\s\S]*GRAPH\.DONE/);
    await waitText(drawer.getByTestId('state-path'), /ringing.*agent-offered.*bridging.*pre-accepted.*live/);
    // The media node's first stats sample (5 s after the bridge came up) lands in the timeline and the stats table.
    await waitText(drawer.getByTestId('call-timeline'), /MEDIA\.STATS/, 15_000);
    await drawer.getByTestId('call-stats').waitFor({ timeout: 10_000 });
    // The picture starts at the state path, so the timeline fits under it.
    await drawer.getByTestId('state-path').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(sam, 'supervisor-call-timeline', { doc: true });

    // Alice hangs up: the drawer and the figures follow.
    await alice.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    await waitText(drawer.getByTestId('state-path'), /live.*ended/, 10_000);
    await waitText(drawer.getByTestId('call-summary'), /completed/);
    await sam.getByTestId('close-drawer').click();
    await waitText(sam.getByTestId('fig-calls'), new RegExp(`^${before.calls + 1}\\D`));
    await waitText(sam.getByTestId('fig-answered'), new RegExp(`^${before.answered + 1}\\D`));
    await waitText(sam.getByTestId('supervisor-recent-calls'), /Kenji/);
  });

  it('a supervisor manages agents on their page: a new agent signs in; a disabled one is signed out at once', async () => {
    const [sam, bob] = await Promise.all([rig.signIn('sam'), rig.signIn('bob')]);
    await sam.getByTestId('manage-agents-toggle').click();
    const admin = sam.getByTestId('agents-admin');
    await admin.locator('[data-testid="admin-agent-row"][data-agent-id="bob"]').waitFor();
    await sam.getByTestId('admin-new-id').fill('zoe');
    await sam.getByTestId('admin-new-name').fill('Zoe Adams');
    await sam.getByTestId('admin-new-password').fill('zoe-secret-1');
    await sam.getByTestId('admin-new-teams').fill('support');
    await sam.getByTestId('admin-new-submit').click();
    await waitText(sam.getByTestId('agents-admin-message'), /Added zoe/);
    await admin.locator('[data-testid="admin-agent-row"][data-agent-id="zoe"]').waitFor();
    const res = await fetch(`${rig.stack.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'zoe', password: 'zoe-secret-1' }),
    });
    expect(res.status).toBe(200);
    await shot(sam, 'supervisor-agents-admin');
    // Disabling bob closes his console's connection and sends him back to the login page.
    await admin.locator('[data-testid="admin-agent-row"][data-agent-id="bob"]').getByTestId('admin-disable').click();
    await waitAttr(
      admin.locator('[data-testid="admin-agent-row"][data-agent-id="bob"]'),
      'data-disabled',
      (v) => v === '1',
    );
    await bob.getByTestId('login-username').waitFor({ timeout: 10_000 });
    await admin.locator('[data-testid="admin-agent-row"][data-agent-id="bob"]').getByTestId('admin-enable').click();
    await waitAttr(
      admin.locator('[data-testid="admin-agent-row"][data-agent-id="bob"]'),
      'data-disabled',
      (v) => v === '0',
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import { waitUntil } from '../helpers.js';
import {
  acceptInConsole,
  asSupervisor,
  CALLER_HZ,
  incomingCard,
  levelsAt,
  MIC_HZ,
  near,
  shot,
  waitConnected,
  waitGone,
  waitHeard,
} from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// Transfer and after-call work in Chromium against the whole stack (simulator caller, media node process, http + worker): the
// agent answers a real call in the console, hangs up, stays busy until the wrap-up form is submitted; the
// supervisor finds the call in the history by its code and sees the wrap-up in the drawer.
/** Clearly there: well above the analyser's noise floor (about -70 dBFS). */
const AUDIBLE_DB = -55;

describe('transfer, wrap-up and history in the console (Chromium, end to end)', () => {
  // The contexts stay open until the file ends; every test ends its calls.
  const rig = useConsoleRig({
    env: { WRAP_UP_SECONDS: '300', MEDIA_ENGINE: 'forward' },
    viewport: { width: 1280, height: 900 },
  });
  const presenceOf = async (id: string) =>
    (await asSupervisor<{ agents: { id: string; presence: string }[] }>(rig.stack.url, '/api/agents')).agents.find(
      (a) => a.id === id,
    )?.presence;

  afterEach(async () => {
    await rig.stack.endAllCalls();
  });

  it('alice transfers a live call to bob from the console; bob hears the caller, the caller hears bob; bob wraps up', async () => {
    const alicePage = await rig.signIn('alice');
    const bobPage = await rig.signIn('bob');
    const call = await acceptInConsole(rig.stack.sim, alicePage, 'Ravi');
    await waitGone(incomingCard(bobPage, call.callId), 10_000);

    await alicePage.getByTestId('transfer-call').click();
    const bobButton = alicePage.locator('[data-testid="transfer-agent"][data-agent-id="bob"]');
    await waitUntil(async () => (await bobButton.isEnabled().catch(() => false)) || undefined, {
      what: 'bob pickable in the transfer dialog',
    });
    // carol is offline: listed, not pickable.
    expect(await alicePage.locator('[data-testid="transfer-agent"][data-agent-id="carol"]').isDisabled()).toBe(true);
    await shot(alicePage, 'agent-transfer-dialog', { doc: true });
    await bobButton.click();
    await alicePage.getByTestId('transfer-status').waitFor({ timeout: 10_000 });
    await incomingCard(bobPage, call.callId).getByTestId('accept-call').click();

    // alice's part ends; bob is live with the caller, audio both ways.
    const aliceEnded = alicePage.locator(`[data-testid="call-ended"][data-call-id="${call.callId}"]`);
    await aliceEnded.waitFor({ timeout: 10_000 });
    expect(await aliceEnded.getAttribute('data-reason')).toBe('transferred');
    await waitConnected(bobPage);
    await waitHeard(bobPage, call.callId, CALLER_HZ);
    // Both browsers' fake microphones play MIC_HZ; alice's page has closed its connection, so this is bob.
    await waitUntil(() => near((call.caller as CallerPeer).report().inbound.dominantHz, MIC_HZ) || undefined, {
      what: 'the caller to hear bob',
    });
    expect((await rig.stack.detail(call.callId)).agentId).toBe('bob');
    expect(await presenceOf('alice')).toBe('online');
    // alice has no wrap-up to do for a call she handed on.
    expect(await alicePage.getByTestId('wrapup-form').count()).toBe(0);

    await bobPage.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    const form = bobPage.locator(`[data-testid="wrapup-form"][data-call-id="${call.callId}"]`);
    await form.waitFor({ timeout: 10_000 });
    await bobPage.getByTestId('wrapup-code').selectOption('resolved');
    await bobPage.getByTestId('wrapup-submit').click();
    await waitGone(form, 10_000);
    expect((await rig.stack.detail(call.callId)).wrapUp).toMatchObject({ agentId: 'bob', code: 'resolved' });
    expect(rig.stack.sim.actionsFor(call.callId).map((a) => a.action)).toEqual(['pre_accept', 'accept', 'terminate']);
  });

  it('alice consults bob from the console (the caller holds), then completes the transfer', async () => {
    const alicePage = await rig.signIn('alice');
    const bobPage = await rig.signIn('bob');
    const { call } = await rig.stack.sim.placeCall({ name: 'Lena' });
    await incomingCard(alicePage, call.callId).getByTestId('accept-call').click();
    await call.waitFor('accepted', 20_000);
    await waitHeard(alicePage, call.callId, CALLER_HZ);
    await waitGone(incomingCard(bobPage, call.callId), 10_000);
    const caller = call.caller as CallerPeer;

    await alicePage.getByTestId('transfer-call').click();
    const consultBob = alicePage.locator('[data-testid="transfer-consult"][data-agent-id="bob"]');
    await waitUntil(async () => (await consultBob.isEnabled().catch(() => false)) || undefined, {
      what: 'bob pickable for a consultation',
    });
    await consultBob.click();
    await alicePage.getByTestId('consult-controls').waitFor({ timeout: 10_000 });
    // On hold: the caller hears the music, not alice.
    const hearsMusic = () => {
      const hz = caller.report().inbound.dominantHz;
      return hz !== null && !near(hz, MIC_HZ);
    };
    await waitUntil(() => hearsMusic() || undefined, { what: 'the caller on hold with music' });
    await incomingCard(bobPage, call.callId).getByTestId('accept-call').click();
    // bob hears alice (the fake microphone's MIC_HZ), not the caller; the caller still hears the music.
    await waitHeard(bobPage, call.callId, MIC_HZ);
    expect(hearsMusic()).toBe(true);
    await shot(alicePage, 'agent-consult', { doc: true });

    await alicePage.getByTestId('consult-complete').click();
    const aliceEnded = alicePage.locator(`[data-testid="call-ended"][data-call-id="${call.callId}"]`);
    await aliceEnded.waitFor({ timeout: 10_000 });
    expect(await aliceEnded.getAttribute('data-reason')).toBe('transferred');
    await waitHeard(bobPage, call.callId, CALLER_HZ);
    await waitUntil(() => near(caller.report().inbound.dominantHz, MIC_HZ) || undefined, {
      what: 'the caller to hear bob',
    });
    expect((await rig.stack.detail(call.callId)).agentId).toBe('bob');
    await bobPage.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    await bobPage.getByTestId('wrapup-code').selectOption('resolved');
    await bobPage.getByTestId('wrapup-submit').click();
    await waitUntil(async () => (await presenceOf('bob')) === 'online', { what: 'bob free again' });
  });

  it('the supervisor listens from the drawer (both sides, mixed in the browser) and whispers to the agent only', async () => {
    const alicePage = await rig.signIn('alice');
    const call = await acceptInConsole(rig.stack.sim, alicePage, 'Mina');

    const sup = await rig.signIn('sam');
    const row = sup.locator(`[data-testid="supervisor-live-calls"] [data-call-id="${call.callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await sup.getByTestId('monitor-listen').click();
    await sup.locator('[data-testid="monitor-controls"][data-mode="listen"]').waitFor({ timeout: 10_000 });
    // The supervisor's mix holds the caller (CALLER_HZ) and the agent (the fake microphone's MIC_HZ).
    const mix = `audio[data-testid="monitor-audio"][data-call-id="${call.callId}"]`;
    await waitUntil(
      async () => {
        const l = await levelsAt(sup, mix, [CALLER_HZ, MIC_HZ]);
        return l && l[0]! > AUDIBLE_DB && l[1]! > AUDIBLE_DB ? l : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'caller and agent in the supervisor mix' },
    );
    // While listening, nothing reaches alice's whisper track.
    const whisper = `audio[data-testid="whisper-audio"][data-call-id="${call.callId}"]`;
    const quiet = async () => {
      const l = await levelsAt(alicePage, whisper, [MIC_HZ]);
      return l === null || l[0]! < AUDIBLE_DB;
    };
    for (let i = 0; i < 5; i++) {
      expect(await quiet()).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
    }
    await shot(sup, 'supervisor-listen', { doc: true });

    // Whisper: the supervisor's voice (the fake microphone) on alice's whisper track; she still hears the caller.
    await sup.getByTestId('monitor-whisper').click();
    await sup.locator('[data-testid="monitor-controls"][data-mode="whisper"]').waitFor({ timeout: 10_000 });
    await waitUntil(
      async () => {
        const l = await levelsAt(alicePage, whisper, [MIC_HZ]);
        return l && l[0]! > AUDIBLE_DB ? l : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the supervisor's voice on alice's whisper track" },
    );
    await waitHeard(alicePage, call.callId, CALLER_HZ);

    await sup.getByTestId('monitor-stop').click();
    await sup.locator('[data-testid="monitor-controls"][data-mode="off"]').waitFor({ timeout: 10_000 });
    await waitUntil(quiet, { timeoutMs: 15_000, intervalMs: 200, what: 'the whisper track to go quiet' });
    const d = await rig.stack.detail(call.callId);
    expect(d.timeline.filter((t) => t.event === 'SUP.MONITOR').map((t) => t.detail)).toEqual([
      'by=sam mode=listen',
      'by=sam mode=whisper',
      'by=sam mode=stop',
    ]);
    // alice ends the call and wraps it up, so she is free for the next test.
    await alicePage.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    await alicePage.getByTestId('wrapup-code').selectOption('resolved');
    await alicePage.getByTestId('wrapup-submit').click();
    await waitUntil(async () => (await presenceOf('alice')) === 'online', { what: 'alice free again' });
  });

  it('the agent wraps up from the console, is free at once, and the supervisor finds the call by its code', async () => {
    const page = await rig.signIn('alice');
    const call = await acceptInConsole(rig.stack.sim, page, 'Priya');
    await page.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);

    const form = page.locator(`[data-testid="wrapup-form"][data-call-id="${call.callId}"]`);
    await form.waitFor({ timeout: 10_000 });
    expect(await presenceOf('alice')).toBe('busy');
    // Submitting without a code says so and sends nothing.
    await page.getByTestId('wrapup-submit').click();
    expect((await rig.stack.detail(call.callId)).wrapUp ?? null).toBeNull();

    await page.getByTestId('wrapup-code').selectOption('follow-up');
    await page.getByTestId('wrapup-notes').fill('Call back Tuesday about the invoice');
    await shot(page, 'agent-wrapup', { doc: true });
    await page.getByTestId('wrapup-submit').click();
    await waitGone(form, 10_000);
    await waitUntil(async () => (await presenceOf('alice')) === 'online', { what: 'alice free after wrap-up' });
    const d = await rig.stack.detail(call.callId);
    expect(d.wrapUp).toMatchObject({
      agentId: 'alice',
      code: 'follow-up',
      notes: 'Call back Tuesday about the invoice',
    });
    // The agent's own history shows it.
    const mine = page.locator(
      `[data-testid="history-row"][data-call-id="${call.callId}"] [data-testid="history-wrapup"]`,
    );
    await mine.waitFor({ timeout: 10_000 });
    expect(await mine.textContent()).toContain('follow-up');
    // A reload does not bring the form back.
    await page.reload();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 10_000 });
    await page.getByTestId('call-history').waitFor();
    expect(await page.getByTestId('wrapup-form').count()).toBe(0);

    const sup = await rig.signIn('sam');
    await sup.getByTestId('history-panel').waitFor();
    await sup.getByTestId('history-filter-code').fill('follow-up');
    await sup.getByTestId('history-search').click();
    const row = sup.locator(`[data-testid="history-result"][data-call-id="${call.callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await waitUntil(async () => (await sup.getByTestId('history-result').count()) === 1, {
      what: 'only the call wrapped up as follow-up',
    });
    await sup.getByTestId('history-filter-code').fill('escalated');
    await sup.getByTestId('history-search').click();
    await waitGone(row, 10_000);
    await sup.getByTestId('history-filter-code').fill('');
    await sup.getByTestId('history-search').click();
    await row.click();
    const summary = sup.getByTestId('call-summary');
    await summary.waitFor();
    await waitUntil(async () => (await summary.textContent())?.includes('follow-up by alice'), {
      what: 'wrap-up in the drawer',
    });
    await shot(sup, 'supervisor-history', { doc: true });
  });
});

import type { Duplex } from 'node:stream';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { SimCall } from '../../src/sim/simulator.js';
import { waitUntil } from '../helpers.js';
import { onTestLink } from './browser-net.js';
import {
  acceptInConsole,
  CALLER_HZ,
  heardHz,
  incomingCard,
  MIC_HZ,
  near,
  recordPeerConnections,
  selectedPair,
  shot,
  signIn,
  waitAttr,
  waitConnected,
  waitGone,
  waitHeard,
  waitText,
} from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// The console's audio path in Chromium against the whole stack: the simulator's caller (wrtc, 440 Hz) ↔ a real
// media node process ↔ the console in Chromium (fake microphone playing 660 Hz). What the caller hears is measured
// by the simulator; what the agent hears by a WebAudio analyser on the page's remote-audio element. One stack
// serves the whole file (each test takes its own call and ends it); the media node's log is read per test.
describe('agent console media in Chromium, end to end', () => {
  // Each context records its RTCPeerConnections, for the selected ICE pair.
  const rig = useConsoleRig({ eachTest: true, onContext: recordPeerConnections });
  let logMark = 0;
  /** What the media node logged during this test. */
  const mediaLog = () => rig.stack.media.output().slice(logMark);

  const callerOf = (call: SimCall) => call.caller as CallerPeer;
  /** What the simulated caller heard over the last second. */
  const callerHears = (call: SimCall) => callerOf(call).report().inbound.dominantHz;
  const waitCallerHears = (call: SimCall, hz: number | null, timeoutMs = 10_000) =>
    waitUntil(
      () => {
        const got = callerHears(call);
        return hz === null ? got === null : near(got, hz);
      },
      { timeoutMs, intervalMs: 100, what: `the caller to hear ${hz ?? 'silence'} (hears ${callerHears(call)})` },
    );
  /**
   * Media flows over the test's own link (Chromium's namespace ↔ the host end), nowhere else. Chromium hides the
   * address of a peer-reflexive remote candidate (''): the node's checks reached it before its candidates did. The
   * namespace has one interface and one route, both on the link, so its local end says where media goes.
   */
  const expectLoopback = async (page: Page) => {
    const pair = await waitUntil(async () => (await selectedPair(page)) ?? undefined, { what: 'a selected ICE pair' });
    const net = rig.stack.net!;
    expect(pair.local.address, `local ${pair.local.address}`).toBe(net.nsIp);
    if (pair.remote.type === 'prflx' && pair.remote.address === '') return pair;
    expect(onTestLink(net, pair.remote.address), `remote ${pair.remote.address}`).toBe(true);
    return pair;
  };

  /** alice (signed in on `page`) takes a real call; resolves once Meta accepted and audio flows both ways. */
  const takeCall = async (page: Page, name: string) => {
    const call = await acceptInConsole(rig.stack.sim, page, name);
    await waitCallerHears(call, MIC_HZ);
    return call;
  };

  beforeEach(() => {
    logMark = rig.stack.media.output().length;
  });

  it('both agents ring; alice accepts; audio flows both ways over the test’s own link; hang-up ends the call at Meta', async () => {
    // Through the login form, both at once.
    const [alice, bob] = await Promise.all([
      rig.newContext().then((ctx) => signIn(rig.stack.url, ctx, 'alice')),
      rig.newContext().then((ctx) => signIn(rig.stack.url, ctx, 'bob')),
    ]);
    await shot(alice, 'agent-idle', { doc: true });

    const { call } = await rig.stack.sim.placeCall({ name: 'Priya Raman' });
    const aliceCard = incomingCard(alice, call.callId);
    const bobCard = incomingCard(bob, call.callId);
    await aliceCard.waitFor({ timeout: 10_000 });
    await bobCard.waitFor({ timeout: 10_000 });
    await waitText(aliceCard, /Priya Raman/);
    // The number is masked: never the caller's full number.
    expect(await aliceCard.getByTestId('caller-number').textContent()).not.toContain(call.from);
    await waitText(bobCard.getByTestId('countdown'), /\d/);
    await shot(bob, 'agent-ringing', { doc: true });

    const clickedAt = Date.now();
    await aliceCard.getByTestId('accept-call').click();
    await waitGone(bobCard);
    const bobClearedMs = Date.now() - clickedAt;
    await alice.getByTestId('active-call').waitFor();
    expect(await bob.getByTestId('active-call').count()).toBe(0);

    // Meta accepted once the media node bridged the caller to alice's browser.
    await call.waitFor('accepted', 20_000);
    await waitConnected(alice);
    const pair = await expectLoopback(alice);

    // The caller's 440 Hz plays in alice's page (through the <audio> element) …
    const heard = await waitHeard(alice, call.callId, CALLER_HZ);
    await waitAttr(alice.getByTestId('caller-level'), 'data-level', (v) => Number(v) > 0.2);
    // … and alice's fake microphone (660 Hz) reaches the caller.
    await waitCallerHears(call, MIC_HZ);
    const atCaller = callerOf(call).report().inbound;
    expect(atCaller.tones[String(MIC_HZ)]?.frames).toBeGreaterThan(10);
    await waitAttr(alice.getByTestId('mic-level'), 'data-level', (v) => Number(v) > 0.1);

    // The timer runs from liveAt; the quality panel shows getStats figures (a clean loopback link).
    await waitAttr(alice.getByTestId('call-timer'), 'data-running', (v) => v === 'true');
    await waitText(alice.getByTestId('call-state'), /Live/);
    await waitText(alice.getByTestId('call-timer'), /^00:0[2-9]$/);
    const mos = await waitText(alice.getByTestId('quality-mos'), /\d\.\d\d/);
    const rtt = await alice.getByTestId('quality-rtt').textContent();
    const jitter = await alice.getByTestId('quality-jitter').textContent();
    const loss = await alice.getByTestId('quality-loss').textContent();
    expect(rtt).toMatch(/^\d+ ms$/);
    expect(jitter).toMatch(/^\d+\.\d ms$/);
    expect(loss).toMatch(/^\d+\.\d %$/);
    expect(Number(mos)).toBeGreaterThan(4);
    expect(await alice.getByTestId('call-quality').getAttribute('data-level')).toBe('good');
    await shot(alice, 'agent-live-call', { doc: true });

    // Mute silences alice at the caller; unmute brings her back.
    await alice.getByTestId('mute').click();
    await waitText(alice.getByTestId('call-status'), /Muted/);
    await waitCallerHears(call, null);
    await alice.getByTestId('mute').click();
    await waitCallerHears(call, MIC_HZ);

    // Hang up in the browser: Meta gets one terminate and the call ends at the simulator.
    const timer = await alice.getByTestId('call-timer').textContent();
    await alice.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    expect(call.endedBy).toBe('business');
    expect(rig.stack.sim.okActions(call.callId, 'terminate')).toBe(1);
    expect(rig.stack.sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
      'pre_accept:200',
      'accept:200',
      'terminate:200',
    ]);
    await waitAttr(alice.getByTestId('call-ended'), 'data-reason', (v) => v === 'completed');
    expect(await alice.locator('audio[data-testid="remote-audio"]').count()).toBe(0); // media released
    await waitText(alice.getByTestId('call-history'), /Priya Raman/);
    await shot(alice, 'agent-call-ended', { doc: true });
    const d = await waitUntil(
      async () => {
        const x = await rig.stack.detail(call.callId);
        return x.timeline.some((t) => t.event === 'MEDIA.STATS_FINAL') ? x : undefined;
      },
      { what: 'final media stats' },
    );
    expect(d).toMatchObject({ state: 'ended', reason: 'completed', endedBy: 'agent', agentId: 'alice' });
    expect(d.stats.at(-1)?.agent?.packetsReceived).toBeGreaterThan(50);
    console.info(
      `[console-media] bob's card gone ${bobClearedMs} ms after alice's click; pair ${pair.local.type} ${pair.local.address}:${pair.local.port} → ${pair.remote.type} ${pair.remote.address}:${pair.remote.port}; ` +
        `agent heard ${heard.hz} Hz (${heard.db} dBFS); caller heard ${atCaller.dominantHz} Hz (rms ${atCaller.rms}); ` +
        `quality rtt ${rtt} jitter ${jitter} loss ${loss} MOS ${mos}; timer ${timer} at hang-up`,
    );
  });

  it('a call survives a dropped signaling connection (same media) and a reload (offers again, audio again)', async () => {
    const sockets: Duplex[] = [];
    const onUpgrade = (_req: unknown, socket: Duplex) => sockets.push(socket);
    rig.stack.svc.http.server.on('upgrade', onUpgrade);
    const alice = await rig.signIn('alice');
    const call = await takeCall(alice, 'Jonas');
    expect((await rig.stack.detail(call.callId)).state).toBe('live');

    // The socket drops (a network blip): the client reconnects, the session still has the call, and the peer
    // connection (which never broke) carries on: no new offer.
    for (const s of sockets.splice(0)) s.destroy();
    rig.stack.svc.http.server.off('upgrade', onUpgrade);
    await alice.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor({ timeout: 5_000 });
    await alice.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await alice.getByTestId('active-call').getAttribute('data-call-id')).toBe(call.callId);
    expect(await alice.getByTestId('call-quality').getAttribute('data-phase')).toBe('connected');
    expect(mediaLog()).not.toMatch(/agent leg replaced/);
    expect(near((await heardHz(alice, call.callId))?.hz, CALLER_HZ)).toBe(true);
    expect(near(callerHears(call), MIC_HZ)).toBe(true);

    const reloadedAt = Date.now();
    await alice.reload();
    // The pagehide beacon said "leave"; the reloaded page finds the call in its session and offers again.
    await waitText(alice.locator(`[data-testid="active-call"][data-call-id="${call.callId}"]`), /./);
    await waitConnected(alice);
    const backMs = Date.now() - reloadedAt;
    await expectLoopback(alice);
    const heard = await waitHeard(alice, call.callId, CALLER_HZ);
    // The caller hears alice's microphone through the new leg (the last second is all after the reload).
    await new Promise((r) => setTimeout(r, 1_000));
    await waitCallerHears(call, MIC_HZ);
    expect(callerOf(call).report().inbound.tones[String(MIC_HZ)]?.lastSeenAt).toBeGreaterThan(reloadedAt + backMs);
    // The timer goes on from liveAt (it did not restart at the reload).
    await waitText(alice.getByTestId('call-timer'), /^00:0[2-9]$/);

    const d = await rig.stack.detail(call.callId);
    expect(d.state).toBe('live');
    const events = d.timeline.filter((t) => t.at >= reloadedAt - 100).map((t) => t.event);
    expect(events.indexOf('AGENT.LEFT')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('MEDIA.AGENT_CONNECTED')).toBeGreaterThan(events.indexOf('AGENT.LEFT'));
    expect(mediaLog()).toMatch(/agent leg replaced by a new offer/);

    // Well past the 5 s leave grace: still live, audio still flowing both ways.
    await new Promise((r) => setTimeout(r, Math.max(0, reloadedAt + 10_000 - Date.now())));
    expect(call.state).toBe('accepted');
    expect((await rig.stack.detail(call.callId)).state).toBe('live');
    expect(near((await heardHz(alice, call.callId))?.hz, CALLER_HZ)).toBe(true);
    expect(near(callerHears(call), MIC_HZ)).toBe(true);
    expect(rig.stack.sim.actionsFor(call.callId, 'terminate')).toEqual([]);
    console.info(`[console-media] reload: audio back ${backMs} ms after reload(); agent heard ${heard.hz} Hz`);

    // And the agent can still act on it.
    await alice.getByTestId('hangup').click();
    await call.waitFor('ended', 10_000);
    await waitAttr(alice.getByTestId('call-ended'), 'data-reason', (v) => v === 'completed');
    expect(rig.stack.sim.okActions(call.callId, 'terminate')).toBe(1);
  });

  it('closing the tab during a live call ends it cleanly after the grace', async () => {
    const alice = await rig.signIn('alice');
    const call = await takeCall(alice, 'Amina');
    const closedAt = Date.now();
    await alice.close();
    await call.waitFor('ended', 15_000);
    const endedAfterMs = Date.now() - closedAt;
    expect(call.endedBy).toBe('business');
    const d = await waitUntil(
      async () => {
        const x = await rig.stack.detail(call.callId);
        return x.state === 'ended' ? x : undefined;
      },
      { what: 'the call to end' },
    );
    expect(d).toMatchObject({ reason: 'completed', endedBy: 'agent' });
    // The grace (5 s) was waited for: the agent might have been reloading.
    expect(endedAfterMs).toBeGreaterThanOrEqual(4_500);
    const events = d.timeline.map((t) => t.event);
    expect(events.indexOf('AGENT.LEFT')).toBeGreaterThan(events.indexOf('GRAPH.DONE'));
    await new Promise((r) => setTimeout(r, 500));
    expect(rig.stack.sim.actionsFor(call.callId).map((a) => `${a.action}:${a.status}`)).toEqual([
      'pre_accept:200',
      'accept:200',
      'terminate:200',
    ]);
    console.info(`[console-media] tab closed: call ended at Meta ${endedAfterMs} ms later`);
  });

  it('a second tab can take the audio over; closing the tab that holds it ends the call after the grace', async () => {
    const ctx = await rig.newContext();
    const tab1 = await rig.signIn('alice', ctx);
    const call = await takeCall(tab1, 'Lena');

    const tab2 = await ctx.newPage();
    await tab2.goto(rig.stack.url);
    await tab2.getByTestId('call-elsewhere').waitFor({ timeout: 10_000 });
    expect(mediaLog()).not.toMatch(/agent leg replaced/); // opening a tab took nothing away

    await tab2.getByTestId('take-over').click();
    await waitConnected(tab2);
    await expectLoopback(tab2);
    await tab1.getByTestId('call-elsewhere').waitFor({ timeout: 5_000 });
    await waitGone(tab1.locator('audio[data-testid="remote-audio"]'));
    expect(mediaLog()).toMatch(/agent leg replaced/);
    await waitHeard(tab2, call.callId, CALLER_HZ);
    await new Promise((r) => setTimeout(r, 1_000));
    await waitCallerHears(call, MIC_HZ);

    // The tab that holds the audio closes: its pagehide beacon says "leave"; nobody comes back, so it ends.
    await tab2.close();
    await waitAttr(tab1.getByTestId('call-ended'), 'data-reason', (v) => v === 'completed', 15_000);
    await call.waitFor('ended', 5_000);
    expect(rig.stack.sim.okActions(call.callId, 'terminate')).toBe(1);
    expect(await rig.stack.detail(call.callId)).toMatchObject({ state: 'ended', endedBy: 'agent' });
  });
});

/**
 * DTMF through the bridge. wrtc can neither send nor surface RFC 4733 events (src/media/engines/wrtc/DTMF.md), so the caller
 * plays in-band keys and the bridge (detectDtmf) finds them in the decoded WhatsApp audio after Opus at WhatsApp's
 * 16 kHz / 20 kbit/s settings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CallSetup, setupCall, waitUntil } from './helpers.js';

describe('DTMF', () => {
  let call: CallSetup | undefined;
  afterEach(() => {
    call?.close();
    call = undefined;
  });

  it("the bridge emits the caller's keys in order", async () => {
    call = await setupCall({ bridge: { detectDtmf: true } });
    const keys: string[] = [];
    call.bridge.on('dtmf', (e) => keys.push(e.digit));
    await call.caller.sendDtmf('1590#*');
    await waitUntil(() => keys.length >= 6, 5000, 'six keys');
    expect(keys.join('')).toBe('1590#*');
  });

  it('no false keys from the tone and markers', async () => {
    call = await setupCall({ bridge: { detectDtmf: true }, caller: { markers: true } });
    const keys: string[] = [];
    call.bridge.on('dtmf', (e) => keys.push(e.digit));
    await waitUntil(
      () => call?.agent.analyzer.framesReceived !== undefined && call.agent.analyzer.framesReceived > 150,
      10_000,
      '1.5 s of audio',
    );
    expect(keys).toEqual([]);
  });

  it('emits nothing unless detectDtmf is set', async () => {
    call = await setupCall();
    const keys: string[] = [];
    call.bridge.on('dtmf', (e) => keys.push(e.digit));
    await call.caller.sendDtmf('12');
    await new Promise((r) => setTimeout(r, 300));
    expect(keys).toEqual([]);
  });
});

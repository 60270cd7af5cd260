/**
 * What each engine says it cannot do, it refuses with a clear reason instead of pretending: wrtc carries the caller
 * and one agent leg only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mediaEngine } from '../../src/media/engines/index.js';
import { CALLER, PLAYER } from '../../src/rtc/engine.js';
import { type CallSetup, setupCall } from './helpers.js';

describe('engine features', () => {
  let call: CallSetup | undefined;
  afterEach(() => {
    call?.close();
    call = undefined;
  });

  it('the engines declare what they lack: wrtc everything beyond caller ⇄ agent, forward nothing', () => {
    expect(mediaEngine('forward').lacks).toEqual([]);
    expect([...mediaEngine('wrtc').lacks].sort()).toEqual(
      ['browser-legs', 'player', 'recording', 'rfc4733-dtmf', 'routing'].sort(),
    );
  });

  it('wrtc refuses players, other routing tables, second legs and recording with unsupported, and keeps the call', async () => {
    call = await setupCall({ engine: 'wrtc', bridge: { agentLegId: 'agent:a1' } });
    const { bridge } = call;
    const unsupported = {
      code: 'unsupported',
      message: expect.stringMatching(/wrtc media engine cannot .*MEDIA_ENGINE=forward/),
    };
    expect(() => bridge.play('p1', [], false)).toThrow(expect.objectContaining(unsupported));
    expect(() => bridge.setRoutes({ [CALLER]: [PLAYER] })).toThrow(expect.objectContaining(unsupported));
    expect(() =>
      bridge.record({ caller: { write() {}, close: async () => '' }, agents: { write() {}, close: async () => '' } }),
    ).toThrow(expect.objectContaining(unsupported));
    await expect(bridge.acceptLegOffer('sup:s1', call.agent.offerSdp)).rejects.toMatchObject(unsupported);
    // Today's table is accepted as it is.
    bridge.setRoutes({ [CALLER]: ['agent:a1'], 'agent:a1': [CALLER] });
    expect(bridge.closed).toBe(false);
    expect(bridge.agentState).toBe('connected');
  });
});

/**
 * Clipping: both sides send numbered markers (src/audio/markers.ts); "accept" is the moment both legs are connected
 * and startAgentAudio() is called. No marker sent after accept may be missing, in either direction, over several
 * calls.
 */
import { describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { reportBothWays } from '../../src/audio/audio-peer.js';
import { nowMs } from '../../src/rtc/clock.js';
import { setupCall, sleep } from './helpers.js';

const CALLS = 3;

describe.each(['forward', 'wrtc'] as const)('markers across the bridge on the %s engine', (engine) => {
  it(`loses no marker after accept in either direction (${CALLS} calls)`, async () => {
    const summary: string[] = [];
    for (let i = 0; i < CALLS; i++) {
      const call = await setupCall({ engine, caller: { markers: true }, agent: { markers: true } });
      try {
        const acceptAt = nowMs();
        call.bridge.startAgentAudio();
        call.caller.markAccepted(acceptAt);
        await sleep(2500);
        const until = nowMs();
        await drainAnalysis();
        const both = reportBothWays(call.caller, call.agent, { since: acceptAt, until });
        const atCaller = both.atCaller.markers;
        const atAgent = both.atAgent.markers;
        expect(atCaller?.expected).toBeGreaterThanOrEqual(15);
        expect(atCaller?.missing).toEqual([]);
        expect(atAgent?.expected).toBeGreaterThanOrEqual(15);
        expect(atAgent?.missing).toEqual([]);
        // One-way delay through the bridge: wrtc adds ≈60 ms per direction (README, Performance).
        expect(atCaller?.latencyMs?.median).toBeLessThan(1000);
        expect(atAgent?.latencyMs?.median).toBeLessThan(1000);
        summary.push(
          `call ${i + 1}: agent→caller ${atCaller?.received}/${atCaller?.expected} median ${Math.round(atCaller?.latencyMs?.median ?? -1)} ms, caller→agent ${atAgent?.received}/${atAgent?.expected} median ${Math.round(atAgent?.latencyMs?.median ?? -1)} ms`,
        );
      } finally {
        call.close();
      }
    }
    console.info(`[media] markers after accept:\n${summary.join('\n')}`);
  });
});

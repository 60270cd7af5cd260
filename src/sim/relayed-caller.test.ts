import { describe, expect, it } from 'vitest';
import { META_OFFER_SDP } from '../testing/sdp-fixtures.js';
import { RelayedCaller } from './relayed-caller.js';

describe('RelayedCaller', () => {
  it('takes a WhatsApp-shaped offer and hands over the business answer once it comes', async () => {
    const caller = new RelayedCaller(META_OFFER_SDP);
    expect(caller.offerSdp).toBe(META_OFFER_SDP);
    const answer = caller.answer(1000);
    await caller.applyAnswer('v=0 answer');
    await expect(answer).resolves.toBe('v=0 answer');
    // Asked again later, the same answer.
    await expect(caller.answer(10)).resolves.toBe('v=0 answer');
  });

  it('refuses an offer a WhatsApp caller would not make, saying why', () => {
    const withPcmu = META_OFFER_SDP.replace('SAVPF 111 126', 'SAVPF 111 126 0');
    expect(() => new RelayedCaller(withPcmu)).toThrow(/payload types must be 111 \(opus\) and 126/);
    const noCandidates = META_OFFER_SDP.split('\r\n')
      .filter((l) => !l.startsWith('a=candidate'))
      .join('\r\n');
    expect(() => new RelayedCaller(noCandidates)).toThrow(/no ICE candidates/);
    expect(() => new RelayedCaller(42 as unknown as string)).toThrow(/not a WhatsApp caller's offer/);
  });

  it('gives up at its deadline, and when the call ends unanswered', async () => {
    const caller = new RelayedCaller(META_OFFER_SDP);
    await expect(caller.answer(20)).rejects.toThrow(/did not answer the relayed offer within 20 ms/);
    caller.close();
    await expect(caller.answer(1000)).rejects.toThrow(/ended before the business answered/);
  });
});

/** The simulated caller offers like Meta (docs/whatsapp-platform.md §3) and only ever exposes loopback addresses. */
import { describe, expect, it } from 'vitest';
import { parseSdp, summarizeSdp } from '../../src/media/sdp/parse.js';
import { validateWhatsAppOffer } from '../../src/media/sdp/validate.js';
import { isLoopbackAddress } from '../../src/rtc/cidr.js';
import { CallerPeer } from '../../src/sim/caller-peer.js';
import { NodeAgentPeer } from '../../src/testing/node-agent-peer.js';

describe('CallerPeer', () => {
  it('offers Opus 111 + telephone-event/8000 126 only, actpass, sha-256, BUNDLE audio, ice-lite, complete', async () => {
    const caller = await CallerPeer.create();
    try {
      const sdp = caller.offerSdp;
      expect(validateWhatsAppOffer(sdp)).toEqual({ ok: true });
      const s = summarizeSdp(sdp);
      const p = parseSdp(sdp);
      expect(s.payloadTypes).toEqual([111, 126]);
      expect(s.codecs).toEqual([
        { pt: 111, name: 'opus', clockRate: 48000, channels: 2 },
        { pt: 126, name: 'telephone-event', clockRate: 8000 },
      ]);
      expect(s.setup).toBe('actpass');
      expect(s.fingerprints.map((f) => f.algorithm)).toEqual(['sha-256']);
      expect(s.iceLite).toBe(true);
      expect(s.mid).toBe('audio');
      expect(p.bundle).toEqual(['audio']);
      expect(s.direction).toBe('sendrecv');
      expect(sdp).toContain('a=rtcp-mux');
      expect(sdp).toContain('a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000');
      expect(sdp).toContain('a=ssrc:');
      expect(sdp).toContain('cname:WhatsAppAudioStream1');
      expect(sdp).not.toContain('a=ice-options:trickle');
      expect(sdp).not.toContain('a=extmap');
      expect(s.candidates.length).toBeGreaterThan(0);
      for (const c of s.candidates) {
        expect(c.transport).toBe('udp');
        expect(c.type).toBe('host');
        expect(isLoopbackAddress(c.address)).toBe(true);
      }
      // No non-loopback address anywhere in the text (c= included).
      expect(sdp).not.toMatch(/192\.0\.2\.|fd00:|fe80:/);
    } finally {
      caller.close();
    }
  });

  it('offers without a=ice-lite when asked', async () => {
    const caller = await CallerPeer.create({ iceLite: false });
    try {
      expect(summarizeSdp(caller.offerSdp).iceLite).toBe(false);
    } finally {
      caller.close();
    }
  });
});

describe('NodeAgentPeer', () => {
  it('offers trickle-style with no non-loopback address and holds candidates until trickle()', async () => {
    const agent = await NodeAgentPeer.create();
    try {
      expect(agent.offerSdp).not.toMatch(/192\.0\.2\.|fd00:|fe80:/);
      expect(summarizeSdp(agent.offerSdp).payloadTypes).toContain(111);
      const got: string[] = [];
      await new Promise((r) => setTimeout(r, 300));
      agent.trickle((c) => got.push(c.candidate));
      expect(got.length).toBeGreaterThan(0);
      for (const c of got) expect(c).toMatch(/ (127\.0\.0\.1|::1) /);
    } finally {
      agent.close();
    }
  });
});

/**
 * Broken SDP from "Meta" or from the agent's "browser" must end in a clear MediaError, never in a crash: the
 * validators stop it before wrtc, and what slips past them is refused by wrtc catchably.
 */
import { describe, expect, it } from 'vitest';
import { mediaEngine } from '../../src/media/engines/index.js';
import { MediaError } from '../../src/media/errors.js';
import { LOOPBACK_NETWORKS } from '../../src/rtc/cidr.js';
import { wrtc } from '../../src/rtc/wrtc.js';
import { CallerPeer } from '../../src/sim/caller-peer.js';
import { META_OFFER_SDP } from '../../src/testing/sdp-fixtures.js';
import { type CallSetup, setupCall } from './helpers.js';

const GARBAGE: Array<[string, unknown]> = [
  ['empty', ''],
  ['text', 'hello world'],
  ['binary', '\u0000\u0001\u00ff'.repeat(100)],
  ['JSON', JSON.stringify({ sdp: META_OFFER_SDP })],
  ['no fingerprint', META_OFFER_SDP.replace(/a=fingerprint:[^\r]*\r\n/, '')],
  ['bad fingerprint', META_OFFER_SDP.replace('sha-256 A2', 'sha-256 ZZ')],
  ['no ufrag', META_OFFER_SDP.replace(/a=ice-ufrag:[^\r]*\r\n/, '')],
  ['no m=audio', META_OFFER_SDP.split('m=audio')[0]],
  ['video only', META_OFFER_SDP.replace('m=audio', 'm=video')],
  ['truncated', META_OFFER_SDP.slice(0, 400)],
  ['a number', 42],
  ['null', null],
];

describe.each(['forward', 'wrtc'] as const)('broken SDP on the %s engine', (engine) => {
  const create = mediaEngine(engine).createCall;

  it.each([
    ...GARBAGE,
    [
      'no Opus',
      META_OFFER_SDP.replace(/ 111 126\r\n/, ' 126\r\n').replace(/a=(rtpmap|fmtp|rtcp-fb):111 [^\r]*\r\n/g, ''),
    ],
    ['no candidates', META_OFFER_SDP.replace(/a=candidate:[^\r]*\r\n/g, '')],
  ] as Array<[string, unknown]>)('createCall refuses a %s offer from Meta with sdp-invalid', async (_name, sdp) => {
    const err = await create({ offerSdp: sdp as string, allowedNetworks: LOOPBACK_NETWORKS }).catch((e: unknown) => e);
    if (typeof sdp !== 'string') {
      expect(err).toBeInstanceOf(TypeError);
      return;
    }
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('sdp-invalid');
    expect((err as MediaError).status).toBe(400);
    expect((err as MediaError).message).toMatch(/invalid whatsapp offer: .+/);
  });

  it('refuses an offer whose candidates are all outside allowedNetworks, before any check is sent', async () => {
    const publicOnly = META_OFFER_SDP.replace(/ 127\.0\.0\.1 3484/, ' 192.0.2.77 3484').replace(
      / ::1 3484/,
      ' 2001:db8::7 3484',
    );
    await expect(create({ offerSdp: publicOnly, allowedNetworks: LOOPBACK_NETWORKS })).rejects.toMatchObject({
      code: 'no-usable-candidates',
    });
  });

  it('refuses to answer when no local candidate is inside allowedNetworks', async () => {
    // The remote candidate (127.0.0.2) is allowed, but wrtc gathers only 127.0.0.1, ::1 and eth0 addresses.
    const offer = META_OFFER_SDP.replace(' 127.0.0.1 3484', ' 127.0.0.2 3484');
    const err = await create({ offerSdp: offer, allowedNetworks: ['127.0.0.2/32'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'no-usable-candidates' });
    expect((err as Error).message).toMatch(/no local ICE candidate inside allowedNetworks/);
  });

  it("answers Meta's captured offer (loopback variant) with a valid WhatsApp answer", async () => {
    const bridge = await create({ offerSdp: META_OFFER_SDP, allowedNetworks: LOOPBACK_NETWORKS });
    try {
      expect(bridge.waAnswerSdp).toMatch(/a=setup:active/);
      expect(bridge.waState).not.toBe('failed');
    } finally {
      bridge.close();
    }
  });

  describe('from the agent browser', () => {
    let call: CallSetup | undefined;

    it('acceptAgentOffer refuses garbage with sdp-invalid and addAgentCandidate never throws', async () => {
      call = await setupCall({ engine });
      try {
        for (const [, sdp] of GARBAGE) {
          await expect(call.bridge.acceptAgentOffer(sdp as string)).rejects.toMatchObject({ code: 'sdp-invalid' });
        }
        const junk: unknown[] = [
          undefined,
          null,
          42,
          'garbage',
          {},
          { candidate: 7 },
          { candidate: 'candidate:broken' },
          { candidate: 'candidate:1 1 udp 1 192.0.2.99 9 typ host', sdpMid: 'audio' },
          { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: 'no-such-mid' },
          { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMLineIndex: 99 },
          { candidate: 'x'.repeat(100_000) },
        ];
        for (const c of junk) {
          const r = await call.bridge.addAgentCandidate(c);
          expect(typeof r).toBe('boolean');
        }
        expect(await call.bridge.addAgentCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.99 9 typ host' })).toBe(
          false,
        );
        expect(call.bridge.agentState).toBe('connected');
      } finally {
        call.close();
      }
    });
  });

  it.runIf(engine === 'wrtc')('wrtc itself rejects garbage descriptions and candidates catchably', async () => {
    for (const [, sdp] of GARBAGE.filter(([, s]) => typeof s === 'string')) {
      const pc = new wrtc.RTCPeerConnection();
      try {
        await expect(pc.setRemoteDescription({ type: 'offer', sdp: sdp as string })).rejects.toBeDefined();
      } finally {
        pc.close();
      }
    }
    const pc = new wrtc.RTCPeerConnection();
    try {
      await expect(pc.setRemoteDescription({ type: 'bogus' as 'offer', sdp: META_OFFER_SDP })).rejects.toBeDefined();
      await pc.setRemoteDescription({ type: 'offer', sdp: META_OFFER_SDP });
      await expect(pc.addIceCandidate({ candidate: 'garbage', sdpMid: 'audio' })).rejects.toBeDefined();
    } finally {
      pc.close();
    }
  });

  it('the caller refuses an answer WhatsApp would refuse, and a second different answer', async () => {
    const caller = await CallerPeer.create();
    const bridge = await create({ offerSdp: caller.offerSdp, allowedNetworks: LOOPBACK_NETWORKS });
    try {
      await expect(
        caller.applyAnswer(bridge.waAnswerSdp.replace('a=setup:active', 'a=setup:passive')),
      ).rejects.toMatchObject({
        code: 'sdp-invalid',
      });
      await caller.applyAnswer(bridge.waAnswerSdp);
      await caller.applyAnswer(bridge.waAnswerSdp); // accept repeats pre_accept's SDP: fine
      await expect(
        caller.applyAnswer(bridge.waAnswerSdp.replace(/a=ice-ufrag:\S+/, 'a=ice-ufrag:zzzz')),
      ).rejects.toMatchObject({
        code: 'sdp-invalid',
      });
    } finally {
      bridge.close();
      caller.close();
    }
  });
});

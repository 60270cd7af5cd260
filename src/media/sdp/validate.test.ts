import { describe, expect, it } from 'vitest';
import { LOOPBACK_NETWORKS } from '../../rtc/cidr.js';
import { META_OFFER_SDP, RAW_ANSWER_SDP, sdpWithout } from '../../testing/sdp-fixtures.js';
import { mungeWhatsAppOffer } from './rewrite.js';
import {
  type SdpCheck,
  validateBusinessOffer,
  validateMetaAnswer,
  validateOffer,
  validateWhatsAppOffer,
} from './validate.js';

const errorsOf = (r: SdpCheck): string[] => (r.ok ? [] : r.errors);

describe('validateOffer', () => {
  it("accepts Meta's offer, with and without the candidates rule", () => {
    expect(validateOffer(META_OFFER_SDP)).toEqual({ ok: true });
    expect(validateWhatsAppOffer(META_OFFER_SDP)).toEqual({ ok: true });
  });

  it.each([
    ['a non-string', 42, /must be a string/],
    ['null', null, /must be a string, got null/],
    ['an empty string', '  ', /empty/],
    ['JSON-escaped SDP', JSON.stringify(META_OFFER_SDP), /does not start with "v=0"/],
    ['an oversized SDP', META_OFFER_SDP + `a=x:${'y'.repeat(70_000)}\r\n`, /bytes, more than/],
    ['no m=audio', META_OFFER_SDP.split('m=audio')[0], /no m=audio/],
    ['no fingerprint', sdpWithout(META_OFFER_SDP, /^a=fingerprint/), /no a=fingerprint/],
    ['a broken fingerprint', META_OFFER_SDP.replace('sha-256 A2:EC', 'sha-256 ZZ:EC'), /not colon-separated hex/],
    ['an unknown fingerprint algorithm', META_OFFER_SDP.replace('sha-256 A2', 'md5 A2'), /unsupported fingerprint/],
    ['no ice-ufrag', sdpWithout(META_OFFER_SDP, /^a=ice-ufrag/), /no a=ice-ufrag/],
    ['no ice-pwd', sdpWithout(META_OFFER_SDP, /^a=ice-pwd/), /no a=ice-pwd/],
    ['a rejected audio section', META_OFFER_SDP.replace('m=audio 3484', 'm=audio 0'), /port 0/],
    ['plain RTP', META_OFFER_SDP.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'), /not DTLS-SRTP/],
    ['no Opus', META_OFFER_SDP.replace('opus/48000/2', 'PCMU/8000'), /no Opus/],
    ['a PT without rtpmap', sdpWithout(META_OFFER_SDP, /^a=rtpmap/), /payload type 111 has no a=rtpmap/],
    ['a bad setup', META_OFFER_SDP.replace('a=setup:actpass', 'a=setup:holdconn'), /setup:holdconn/],
    ['an inactive audio section', META_OFFER_SDP.replace('a=sendrecv', 'a=inactive'), /inactive/],
    ['a dangling BUNDLE mid', META_OFFER_SDP.replace('a=mid:audio', 'a=mid:0'), /BUNDLE group names mid "audio"/],
    [
      'a malformed candidate',
      META_OFFER_SDP.replace(
        'typ host generation 0 network-cost 50\r\na=candidate:2617197009',
        'x\r\na=candidate:2617197009',
      ),
      /malformed a=candidate/,
    ],
  ])('refuses %s with a clear reason', (_name, sdp, reason) => {
    const r = validateOffer(sdp);
    expect(r.ok).toBe(false);
    expect(errorsOf(r).join('\n')).toMatch(reason);
  });

  it('requires candidates only for WhatsApp offers', () => {
    const noCandidates = sdpWithout(META_OFFER_SDP, /^a=candidate/);
    expect(validateOffer(noCandidates)).toEqual({ ok: true });
    expect(errorsOf(validateWhatsAppOffer(noCandidates)).join()).toMatch(/no ICE candidates/);
  });
});

describe('business-initiated calls', () => {
  const offer = () => mungeWhatsAppOffer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });

  it('our shaped offer passes the connect rules; trickle, a wrong role or no telephone-event do not', () => {
    expect(validateBusinessOffer(offer())).toEqual({ ok: true });
    const active = offer().replace('a=setup:actpass', 'a=setup:active');
    expect(errorsOf(validateBusinessOffer(active)).join()).toMatch(/actpass in an offer, found active/);
    const trickle = offer().replace('a=mid:audio', 'a=mid:audio\r\na=ice-options:trickle');
    expect(errorsOf(validateBusinessOffer(trickle)).join()).toMatch(/the offer must be complete/);
    const noDtmf = offer().replace(' 111 126', ' 111');
    expect(errorsOf(validateBusinessOffer(noDtmf)).join()).toMatch(/PT 126/);
    expect(errorsOf(validateBusinessOffer(42)).join()).toMatch(/must be a string/);
  });

  it("Meta's answer needs a DTLS role for us and Opus on PT 111", () => {
    const metaAnswer = META_OFFER_SDP.replace('a=setup:actpass', 'a=setup:active');
    expect(validateMetaAnswer(metaAnswer)).toEqual({ ok: true });
    expect(errorsOf(validateMetaAnswer(META_OFFER_SDP)).join()).toMatch(/active or passive, found actpass/);
    const wrongPt = metaAnswer.replace(' 111 126', ' 109 126').replace('rtpmap:111', 'rtpmap:109');
    expect(errorsOf(validateMetaAnswer(wrongPt)).join()).toMatch(/Opus must be answered on PT 111/);
  });
});

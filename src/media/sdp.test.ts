import { describe, expect, it } from 'vitest';
import { LOOPBACK_NETWORKS } from '../rtc/cidr.js';
import { META_OFFER_SDP, RAW_ANSWER_SDP } from '../testing/sdp-fixtures.js';
import {
  addCandidates,
  audioSection,
  filterCandidate,
  filterSdpCandidates,
  mungeWhatsAppAnswer,
  parseCandidate,
  parseSdp,
  sdpLogFields,
  summarizeSdp,
  validateOffer,
  validateWhatsAppAnswer,
  validateWhatsAppOffer,
} from './sdp.js';

const without = (sdp: string, re: RegExp): string =>
  sdp
    .split('\r\n')
    .filter((l) => !re.test(l))
    .join('\r\n');
const errorsOf = (r: { ok: true } | { ok: false; errors: string[] }): string[] => (r.ok ? [] : r.errors);

describe('parseSdp / summarizeSdp', () => {
  it("reads Meta's captured offer", () => {
    const s = summarizeSdp(META_OFFER_SDP);
    expect(s.hasAudio).toBe(true);
    expect(s.iceLite).toBe(true);
    expect(s.setup).toBe('actpass');
    expect(s.iceUfrag).toBe('AeinEGDfvqBctbtM');
    expect(s.hasIcePwd).toBe(true);
    expect(s.fingerprints).toEqual([{ algorithm: 'sha-256', value: expect.stringMatching(/^A2:EC:/) }]);
    expect(s.payloadTypes).toEqual([111, 126]);
    expect(s.codecs).toEqual([
      { pt: 111, name: 'opus', clockRate: 48000, channels: 2 },
      { pt: 126, name: 'telephone-event', clockRate: 8000 },
    ]);
    expect(s.candidates.map((c) => [c.address, c.port, c.transport, c.type])).toEqual([
      ['127.0.0.1', 3484, 'udp', 'host'],
      ['::1', 3484, 'udp', 'host'],
    ]);
    expect(s.mid).toBe('audio');
    expect(s.direction).toBe('sendrecv');
  });

  it('keeps fmtp and rtcp-fb per payload type and the BUNDLE group', () => {
    const p = parseSdp(META_OFFER_SDP);
    expect(p.bundle).toEqual(['audio']);
    const opus = p.media[0]?.codecs.find((c) => c.pt === 111);
    expect(opus?.fmtp).toContain('useinbandfec=1');
    expect(opus?.rtcpFb).toEqual(['transport-cc']);
  });

  it('accepts LF-only SDP and never throws on garbage', () => {
    expect(summarizeSdp(META_OFFER_SDP.replace(/\r\n/g, '\n')).payloadTypes).toEqual([111, 126]);
    for (const junk of ['', 'hello', '\u0000\u00ff', 'm=audio x y', 'a=candidate:garbage']) {
      expect(() => parseSdp(junk)).not.toThrow();
    }
  });

  it('log fields carry no SDP body, ufrag or password', () => {
    const fields = JSON.stringify(sdpLogFields(META_OFFER_SDP));
    expect(fields).toContain('sha-256');
    expect(fields).not.toContain('AeinEGDfvqBctbtM');
    expect(fields).not.toContain('F6/jjqL0');
    expect(fields).not.toContain('127.0.0.1');
  });
});

describe('parseCandidate', () => {
  it('parses host, srflx and tcp candidates with or without a=', () => {
    expect(parseCandidate('a=candidate:1 1 udp 2122260223 127.0.0.1 3484 typ host generation 0')).toMatchObject({
      foundation: '1',
      component: 1,
      transport: 'udp',
      address: '127.0.0.1',
      port: 3484,
      type: 'host',
    });
    expect(
      parseCandidate('candidate:2 1 UDP 1686052607 203.0.113.9 5000 typ srflx raddr 10.0.0.1 rport 5000')?.type,
    ).toBe('srflx');
    expect(parseCandidate('candidate:3 1 tcp 1518083839 ::1 9 typ host tcptype passive')?.transport).toBe('tcp');
  });

  it('rejects garbage', () => {
    for (const bad of [
      '',
      'candidate:',
      'candidate:1 1 udp x 127.0.0.1 1 typ host',
      'candidate:1 1 udp 1 127.0.0.1 99999 typ host',
      'foo',
    ]) {
      expect(parseCandidate(bad)).toBeUndefined();
    }
  });
});

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
    ['no fingerprint', without(META_OFFER_SDP, /^a=fingerprint/), /no a=fingerprint/],
    ['a broken fingerprint', META_OFFER_SDP.replace('sha-256 A2:EC', 'sha-256 ZZ:EC'), /not colon-separated hex/],
    ['an unknown fingerprint algorithm', META_OFFER_SDP.replace('sha-256 A2', 'md5 A2'), /unsupported fingerprint/],
    ['no ice-ufrag', without(META_OFFER_SDP, /^a=ice-ufrag/), /no a=ice-ufrag/],
    ['no ice-pwd', without(META_OFFER_SDP, /^a=ice-pwd/), /no a=ice-pwd/],
    ['a rejected audio section', META_OFFER_SDP.replace('m=audio 3484', 'm=audio 0'), /port 0/],
    ['plain RTP', META_OFFER_SDP.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'), /not DTLS-SRTP/],
    ['no Opus', META_OFFER_SDP.replace('opus/48000/2', 'PCMU/8000'), /no Opus/],
    ['a PT without rtpmap', without(META_OFFER_SDP, /^a=rtpmap/), /payload type 111 has no a=rtpmap/],
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
    const noCandidates = without(META_OFFER_SDP, /^a=candidate/);
    expect(validateOffer(noCandidates)).toEqual({ ok: true });
    expect(errorsOf(validateWhatsAppOffer(noCandidates)).join()).toMatch(/no ICE candidates/);
  });
});

describe('mungeWhatsAppAnswer + validateWhatsAppAnswer', () => {
  it('the raw wrtc answer fails WhatsApp validation, with one reason per rule', () => {
    const errors = errorsOf(validateWhatsAppAnswer(RAW_ANSWER_SDP)).join('\n');
    expect(errors).toMatch(/setup must be active/);
    expect(errors).toMatch(/exactly one a=fingerprint is required, found 2/);
    expect(errors).toMatch(/fingerprint must be sha-256, found sha-1/);
    expect(errors).toMatch(/only payload types 111 and 126, found also 0/);
  });

  it('the munged answer passes and keeps only what WhatsApp wants', () => {
    const sdp = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    expect(validateWhatsAppAnswer(sdp)).toEqual({ ok: true });
    const s = summarizeSdp(sdp);
    expect(s.setup).toBe('active');
    expect(s.fingerprints.map((f) => f.algorithm)).toEqual(['sha-256']);
    expect(s.payloadTypes).toEqual([111, 126]);
    expect(sdp).not.toContain('PCMU');
    expect(sdp).not.toContain('a=ice-options:trickle');
    expect(s.candidates.map((c) => c.address).sort()).toEqual(['127.0.0.1', '::1']);
    expect(s.candidates.every((c) => c.transport === 'udp')).toBe(true);
    expect(sdp).not.toMatch(/192\.0\.2\.2|fd00::2/);
    expect(sdp).toContain('a=end-of-candidates\r\n');
    expect(sdp.endsWith('\r\n')).toBe(true);
    // c= and the m= port follow the best remaining candidate (::1 has the higher priority here).
    expect(sdp).toContain('m=audio 39774 UDP/TLS/RTP/SAVPF 111 126');
    expect(sdp).toContain('c=IN IP6 ::1');
  });

  it('is idempotent', () => {
    const once = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    expect(mungeWhatsAppAnswer(once, { allowedNetworks: LOOPBACK_NETWORKS })).toBe(once);
  });

  it('rewrites host candidates to the announced IP, leaving loopback and the other family alone', () => {
    const sdp = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { announcedIp: '203.0.113.7' });
    const addresses = summarizeSdp(sdp).candidates.map((c) => c.address);
    expect(addresses).toEqual(['fd00::2', '203.0.113.7', '::1', '127.0.0.1']);
    // The usual production setup: only the private interface allowed, announced as the public IP.
    const nat = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: ['192.0.2.0/24'], announcedIp: '203.0.113.7' });
    expect(summarizeSdp(nat).candidates.map((c) => c.address)).toEqual(['203.0.113.7']);
    expect(nat).toContain('c=IN IP4 203.0.113.7');
    expect(nat).toContain('m=audio 49735 ');
    expect(validateWhatsAppAnswer(nat)).toEqual({ ok: true });
    expect(mungeWhatsAppAnswer(nat, { allowedNetworks: ['192.0.2.0/24'], announcedIp: '203.0.113.7' })).toBe(nat);
  });

  it('removes a=ice-lite and forces setup:active from passive', () => {
    const sdp = mungeWhatsAppAnswer(
      RAW_ANSWER_SDP.replace('a=setup:actpass', 'a=setup:passive').replace('t=0 0', 't=0 0\r\na=ice-lite'),
      { allowedNetworks: LOOPBACK_NETWORKS },
    );
    expect(sdp).not.toContain('a=ice-lite');
    expect(summarizeSdp(sdp).setup).toBe('active');
  });

  it('validateWhatsAppAnswer flags ice-lite, a missing Opus 111, a wrong 126 and missing candidates', () => {
    const good = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    expect(errorsOf(validateWhatsAppAnswer(good.replace('t=0 0', 't=0 0\r\na=ice-lite'))).join()).toMatch(/ice-lite/);
    expect(errorsOf(validateWhatsAppAnswer(good.replace('rtpmap:111 opus', 'rtpmap:111 foo'))).join()).toMatch(/Opus/);
    expect(
      errorsOf(validateWhatsAppAnswer(good.replace('telephone-event/8000', 'telephone-event/48000'))).join(),
    ).toMatch(/126 must be telephone-event\/8000/);
    expect(errorsOf(validateWhatsAppAnswer(without(good, /^a=candidate/))).join()).toMatch(/no ICE candidates/);
    expect(errorsOf(validateWhatsAppAnswer(undefined)).join()).toMatch(/string/);
  });
});

describe('candidate filtering', () => {
  it('keeps only candidates inside the allowed networks and fixes c=', () => {
    const sdp = filterSdpCandidates(RAW_ANSWER_SDP, { allowedNetworks: ['127.0.0.0/8'] });
    expect(summarizeSdp(sdp).candidates.map((c) => `${c.transport} ${c.address}`)).toEqual([
      'udp 127.0.0.1',
      'tcp 127.0.0.1',
    ]);
    expect(sdp).toContain('c=IN IP4 127.0.0.1');
    expect(sdp).toContain('m=audio 49336 ');
  });

  it('falls back to 0.0.0.0 port 9 when nothing is left', () => {
    const sdp = filterSdpCandidates(RAW_ANSWER_SDP, { allowedNetworks: ['10.0.0.0/8'] });
    expect(summarizeSdp(sdp).candidates).toEqual([]);
    expect(sdp).toContain('c=IN IP4 0.0.0.0');
    expect(sdp).toMatch(/m=audio 9 /);
  });

  it('allows everything by default and leaves an unspecified c= alone', () => {
    expect(summarizeSdp(filterSdpCandidates(RAW_ANSWER_SDP, {})).candidates).toHaveLength(5);
    const trickle = without(RAW_ANSWER_SDP, /^a=candidate/).replace('c=IN IP4 192.0.2.2', 'c=IN IP4 0.0.0.0');
    expect(filterSdpCandidates(trickle, { allowedNetworks: LOOPBACK_NETWORKS })).toBe(trickle);
  });

  it('filterCandidate drops garbage, outside addresses, hostnames and (with udpOnly) tcp', () => {
    const opts = { allowedNetworks: LOOPBACK_NETWORKS };
    expect(filterCandidate('candidate:1 1 udp 1 127.0.0.1 5000 typ host', opts)).toBe(
      'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
    );
    expect(filterCandidate('candidate:1 1 udp 1 192.0.2.2 5000 typ host', opts)).toBeUndefined();
    expect(filterCandidate('candidate:1 1 udp 1 abcd.local 5000 typ host', opts)).toBeUndefined();
    expect(
      filterCandidate('candidate:1 1 tcp 1 ::1 9 typ host tcptype active', { ...opts, udpOnly: true }),
    ).toBeUndefined();
    expect(filterCandidate('nonsense', opts)).toBeUndefined();
  });
});

describe('addCandidates', () => {
  it('adds gathered candidates to the bundled audio section, once each', () => {
    const bare = RAW_ANSWER_SDP.split(/\r\n/)
      .filter((l) => !l.startsWith('a=candidate:'))
      .join('\r\n');
    const c1 = 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0';
    const c2 = 'a=candidate:2 1 udp 2122262783 ::1 40002 typ host generation 0';
    const out = addCandidates(bare, [c1, c2, c1]);
    const audio = audioSection(parseSdp(out));
    expect(audio?.candidates.map((c) => c.address)).toEqual(['127.0.0.1', '::1']);
    expect(out.endsWith('\r\n')).toBe(true);
    expect(addCandidates('v=0\r\n', [c1])).toBe('v=0\r\n'); // no media section: unchanged
  });
});

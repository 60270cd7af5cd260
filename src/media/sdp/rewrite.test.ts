import { describe, expect, it } from 'vitest';
import { LOOPBACK_NETWORKS } from '../../rtc/cidr.js';
import { META_OFFER_SDP, RAW_ANSWER_SDP, sdpWithout } from '../../testing/sdp-fixtures.js';
import { normalizeSdp } from './lines.js';
import { audioSection, parseSdp, summarizeSdp } from './parse.js';
import {
  addCandidates,
  filterCandidate,
  filterSdpCandidates,
  mungeWhatsAppAnswer,
  mungeWhatsAppOffer,
} from './rewrite.js';
import { type SdpCheck, validateWhatsAppAnswer } from './validate.js';

const errorsOf = (r: SdpCheck): string[] => (r.ok ? [] : r.errors);

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
    expect(errorsOf(validateWhatsAppAnswer(sdpWithout(good, /^a=candidate/))).join()).toMatch(/no ICE candidates/);
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
    const trickle = sdpWithout(RAW_ANSWER_SDP, /^a=candidate/).replace('c=IN IP4 192.0.2.2', 'c=IN IP4 0.0.0.0');
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

describe('byte-exact rewriting', () => {
  const lines = (sdp: string) => sdp.split('\r\n');

  it("Meta's offer comes back byte for byte through every rewrite that has nothing to change", () => {
    expect(normalizeSdp(META_OFFER_SDP)).toBe(META_OFFER_SDP);
    expect(filterSdpCandidates(META_OFFER_SDP, {})).toBe(META_OFFER_SDP);
    expect(filterSdpCandidates(META_OFFER_SDP, { allowedNetworks: LOOPBACK_NETWORKS })).toBe(META_OFFER_SDP);
    const present = summarizeSdp(META_OFFER_SDP).candidates.map((c) => c.raw);
    expect(addCandidates(META_OFFER_SDP, present)).toBe(META_OFFER_SDP);
  });

  it('an LF-only offer comes back with CRLF and nothing else changed', () => {
    const lf = META_OFFER_SDP.replace(/\r\n/g, '\n');
    expect(normalizeSdp(lf)).toBe(META_OFFER_SDP);
    expect(filterSdpCandidates(lf, { allowedNetworks: LOOPBACK_NETWORKS })).toBe(META_OFFER_SDP);
  });

  it('dropping a candidate removes exactly that line and keeps the order of the rest', () => {
    const out = filterSdpCandidates(META_OFFER_SDP, { allowedNetworks: ['127.0.0.0/8'] });
    expect(lines(out)).toEqual(lines(META_OFFER_SDP).filter((l) => !l.includes(' ::1 ')));
  });

  it('the shaped answer keeps every line it does not mean to change, in order', () => {
    const out = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    const changed = /^(m=|c=|a=setup:|a=end-of-candidates$)/;
    const kept = lines(out).filter((l) => !changed.test(l));
    const source = lines(RAW_ANSWER_SDP).filter((l) => !changed.test(l));
    // Each kept line stands in the raw answer, and in the same order.
    let at = -1;
    for (const line of kept) {
      const next = source.indexOf(line, at + 1);
      expect(next, line).toBeGreaterThan(at);
      at = next;
    }
    expect(out.endsWith('\r\n')).toBe(true);
    expect(out).not.toMatch(/[^\r]\n/);
  });

  it('the shaped business offer differs from the shaped answer only in its DTLS role', () => {
    const answer = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    const offer = mungeWhatsAppOffer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
    expect(offer).toBe(answer.replace('a=setup:active\r\n', 'a=setup:actpass\r\n'));
  });
});

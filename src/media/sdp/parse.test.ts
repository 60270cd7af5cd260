import { describe, expect, it } from 'vitest';
import { META_OFFER_SDP } from '../../testing/sdp-fixtures.js';
import { parseCandidate, parseSdp, sdpLogFields, summarizeSdp } from './parse.js';

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

describe('what sdp-transform folds or retypes', () => {
  it('keeps every a=fingerprint line, not only the last', () => {
    const twice = META_OFFER_SDP.replace('a=setup:actpass', 'a=fingerprint:sha-1 AA:BB\r\na=setup:actpass');
    expect(summarizeSdp(twice).fingerprints.map((f) => f.algorithm)).toEqual(['sha-256', 'sha-1']);
  });

  it('reads a numeric ufrag and mid as text', () => {
    const numeric = META_OFFER_SDP.replace('ice-ufrag:AeinEGDfvqBctbtM', 'ice-ufrag:1234')
      .replace('a=mid:audio', 'a=mid:0')
      .replace('BUNDLE audio', 'BUNDLE 0');
    const s = summarizeSdp(numeric);
    expect(s.iceUfrag).toBe('1234');
    expect(s.mid).toBe('0');
    expect(parseSdp(numeric).bundle).toEqual(['0']);
  });

  it('sets aside lines that are not x=value and candidates that do not parse', () => {
    const broken = META_OFFER_SDP.replace(
      'a=mid:audio',
      'a=mid:audio\r\nnot a line\r\na=candidate:1 1 udp x ::1 9 typ host',
    );
    const p = parseSdp(broken);
    expect(p.malformed).toEqual(['not a line']);
    expect(p.media[0]?.badCandidates).toEqual(['candidate:1 1 udp x ::1 9 typ host']);
    expect(p.media[0]?.candidates).toHaveLength(2);
  });

  it('keeps the raw text of a candidate and accepts a foundation of 0', () => {
    const raw = 'candidate:0 1 UDP 2122260223 127.0.0.1 3484 typ host generation 0 network-cost 50';
    expect(parseCandidate(`a=${raw}`)).toMatchObject({ foundation: '0', transport: 'udp', raw });
  });
});

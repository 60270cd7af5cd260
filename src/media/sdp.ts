/**
 * Pure SDP helpers for the WhatsApp and agent legs: parse and summarize (for logs, which never carry SDP bodies),
 * validate offers before they reach wrtc, validate and shape answers for WhatsApp, and filter ICE candidates by
 * network.
 *
 * Line-oriented on purpose: munging keeps every line it does not mean to change, byte for byte, and always emits
 * CRLF line endings (a mangled offer is the classic "SDP without DTLS fingerprint" failure).
 *
 * @see docs/whatsapp-platform.md §3 for the WhatsApp rules these encode.
 */
import { isIP } from 'node:net';
import { NetworkFilter } from '../rtc/cidr.js';

/** Offers larger than this are refused before parsing; real ones are 1–6 KiB. */
export const MAX_SDP_BYTES = 64 * 1024;

/** WhatsApp's codecs: Opus on PT 111 and telephone-event/8000 on PT 126, nothing else. */
export const WHATSAPP_OPUS_PT = 111;
export const WHATSAPP_DTMF_PT = 126;

export type SdpCheck = { ok: true } | { ok: false; errors: string[] };

export interface SdpFingerprint {
  algorithm: string;
  value: string;
}

export interface SdpCandidate {
  foundation: string;
  component: number;
  /** `udp` or `tcp`, lower case. */
  transport: string;
  priority: number;
  address: string;
  port: number;
  /** `host`, `srflx`, `prflx` or `relay`. */
  type: string;
  /** The attribute value without `a=`, e.g. `candidate:1 1 udp 2122260223 127.0.0.1 3484 typ host`. */
  raw: string;
}

export interface SdpCodec {
  pt: number;
  name: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
  rtcpFb: string[];
}

export interface SdpMediaSection {
  kind: string;
  port: number;
  proto: string;
  payloadTypes: number[];
  mid?: string;
  direction?: string;
  setup?: string;
  iceUfrag?: string;
  icePwd?: string;
  fingerprints: SdpFingerprint[];
  codecs: SdpCodec[];
  candidates: SdpCandidate[];
  /** Candidate lines that did not parse. */
  badCandidates: string[];
  rtcpMux: boolean;
  endOfCandidates: boolean;
  connectionAddress?: string;
}

export interface ParsedSdp {
  /** The `v=` value; undefined when the first line is not `v=`. */
  version?: string;
  iceLite: boolean;
  /** Mids of the `a=group:BUNDLE` line, if any. */
  bundle: string[];
  session: { setup?: string; iceUfrag?: string; icePwd?: string; fingerprints: SdpFingerprint[] };
  media: SdpMediaSection[];
  /** Lines that are not `x=value`. */
  malformed: string[];
}

/** Effective values of the first audio section (media-level attributes override session-level ones). */
export interface SdpSummary {
  hasAudio: boolean;
  iceLite: boolean;
  setup?: string;
  iceUfrag?: string;
  hasIcePwd: boolean;
  fingerprints: SdpFingerprint[];
  payloadTypes: number[];
  codecs: Array<{ pt: number; name: string; clockRate: number; channels?: number }>;
  candidates: SdpCandidate[];
  direction?: string;
  mid?: string;
  bytes: number;
}

/** Splits on CRLF or LF, dropping the empty tail. */
export function sdpLines(sdp: string): string[] {
  const lines = sdp.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function joinLines(lines: string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/**
 * Parses one candidate (`candidate:…` with or without `a=`); undefined when malformed.
 * Grammar: RFC 8839 §5.1 (foundation component transport priority address port typ type …).
 */
export function parseCandidate(line: string): SdpCandidate | undefined {
  const raw = line.startsWith('a=') ? line.slice(2) : line;
  if (!raw.startsWith('candidate:')) return undefined;
  const parts = raw.slice('candidate:'.length).trim().split(/\s+/);
  const [foundation, component, transport, priority, address, port, typ, type] = parts;
  if (typ !== 'typ' || !foundation || !address || !type || !transport) return undefined;
  const componentN = Number(component);
  const priorityN = Number(priority);
  const portN = Number(port);
  if (!Number.isInteger(componentN) || !Number.isFinite(priorityN) || !Number.isInteger(portN)) return undefined;
  if (portN < 0 || portN > 65535) return undefined;
  return {
    foundation,
    component: componentN,
    transport: transport.toLowerCase(),
    priority: priorityN,
    address,
    port: portN,
    type,
    raw,
  };
}

function parseFingerprint(value: string): SdpFingerprint {
  const [algorithm = '', fp = ''] = value.trim().split(/\s+/);
  return { algorithm: algorithm.toLowerCase(), value: fp };
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** Tolerant parser: never throws; whatever does not parse lands in `malformed` or `badCandidates`. */
export function parseSdp(sdp: string): ParsedSdp {
  const out: ParsedSdp = { iceLite: false, bundle: [], session: { fingerprints: [] }, media: [], malformed: [] };
  const lines = sdpLines(sdp);
  if (lines[0]?.startsWith('v=')) out.version = lines[0].slice(2);
  let m: SdpMediaSection | undefined;
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) {
      if (line.trim() !== '') out.malformed.push(line);
      continue;
    }
    if (line.startsWith('m=')) {
      const [kind = '', port = '', proto = '', ...pts] = line.slice(2).trim().split(/\s+/);
      m = {
        kind,
        port: Number(port),
        proto,
        payloadTypes: pts.map(Number).filter((n) => Number.isInteger(n)),
        fingerprints: [],
        codecs: [],
        candidates: [],
        badCandidates: [],
        rtcpMux: false,
        endOfCandidates: false,
      };
      out.media.push(m);
      continue;
    }
    if (line.startsWith('c=')) {
      if (m) m.connectionAddress = line.slice(2).trim().split(/\s+/)[2];
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon === -1 ? attr : attr.slice(0, colon);
    const value = colon === -1 ? '' : attr.slice(colon + 1);
    if (!m) {
      if (name === 'ice-lite') out.iceLite = true;
      else if (name === 'group' && value.startsWith('BUNDLE')) out.bundle = value.split(/\s+/).slice(1).filter(Boolean);
      else if (name === 'setup') out.session.setup = value.trim();
      else if (name === 'ice-ufrag') out.session.iceUfrag = value.trim();
      else if (name === 'ice-pwd') out.session.icePwd = value.trim();
      else if (name === 'fingerprint') out.session.fingerprints.push(parseFingerprint(value));
      continue;
    }
    switch (name) {
      case 'mid':
        m.mid = value.trim();
        break;
      case 'setup':
        m.setup = value.trim();
        break;
      case 'ice-ufrag':
        m.iceUfrag = value.trim();
        break;
      case 'ice-pwd':
        m.icePwd = value.trim();
        break;
      case 'fingerprint':
        m.fingerprints.push(parseFingerprint(value));
        break;
      case 'rtcp-mux':
        m.rtcpMux = true;
        break;
      case 'end-of-candidates':
        m.endOfCandidates = true;
        break;
      case 'candidate': {
        const c = parseCandidate(attr);
        if (c) m.candidates.push(c);
        else m.badCandidates.push(attr);
        break;
      }
      case 'rtpmap': {
        const match = /^(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(value);
        if (match) {
          const codec = codecFor(m, Number(match[1]));
          codec.name = match[2] ?? '';
          codec.clockRate = Number(match[3]);
          if (match[4] !== undefined) codec.channels = Number(match[4]);
        }
        break;
      }
      case 'fmtp': {
        const match = /^(\d+)\s+(.*)$/.exec(value);
        if (match) codecFor(m, Number(match[1])).fmtp = match[2];
        break;
      }
      case 'rtcp-fb': {
        const match = /^(\d+)\s+(.*)$/.exec(value);
        if (match) codecFor(m, Number(match[1])).rtcpFb.push(match[2] ?? '');
        break;
      }
      default:
        if (DIRECTIONS.has(name)) m.direction = name;
    }
  }
  // Codecs mentioned only by fmtp/rtcp-fb (no rtpmap) keep an empty name: validators report them.
  return out;
}

function codecFor(m: SdpMediaSection, pt: number): SdpCodec {
  let codec = m.codecs.find((c) => c.pt === pt);
  if (!codec) {
    codec = { pt, name: '', clockRate: 0, rtcpFb: [] };
    m.codecs.push(codec);
  }
  return codec;
}

/** The first `m=audio` section, if any. */
export function audioSection(parsed: ParsedSdp): SdpMediaSection | undefined {
  return parsed.media.find((s) => s.kind === 'audio');
}

/** Effective audio-leg values; safe to log (no ICE password, no SDP body). */
export function summarizeSdp(sdp: string): SdpSummary {
  const parsed = parseSdp(sdp);
  const audio = audioSection(parsed);
  const summary: SdpSummary = {
    hasAudio: audio !== undefined,
    iceLite: parsed.iceLite,
    setup: audio?.setup ?? parsed.session.setup,
    iceUfrag: audio?.iceUfrag ?? parsed.session.iceUfrag,
    hasIcePwd: (audio?.icePwd ?? parsed.session.icePwd) !== undefined,
    fingerprints: [...parsed.session.fingerprints, ...(audio?.fingerprints ?? [])],
    payloadTypes: audio?.payloadTypes ?? [],
    codecs: (audio?.codecs ?? []).map(({ pt, name, clockRate, channels }) =>
      channels === undefined ? { pt, name, clockRate } : { pt, name, clockRate, channels },
    ),
    candidates: audio?.candidates ?? [],
    direction: audio?.direction,
    mid: audio?.mid,
    bytes: sdp.length,
  };
  return summary;
}

/** A compact, log-friendly digest of an SDP: `{ setup, fp, pts, cands, lite, bytes }`. */
export function sdpLogFields(sdp: string): Record<string, unknown> {
  const s = summarizeSdp(sdp);
  return {
    setup: s.setup,
    fp: s.fingerprints.map((f) => f.algorithm).join(','),
    pts: s.payloadTypes.join(','),
    cands: s.candidates.length,
    lite: s.iceLite,
    bytes: s.bytes,
  };
}

const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);
const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/;
const DTLS_PROTOS = new Set(['UDP/TLS/RTP/SAVPF', 'TCP/DTLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP']);

function checkFingerprints(fps: SdpFingerprint[], errors: string[]): void {
  if (fps.length === 0) {
    errors.push('no a=fingerprint: DTLS-SRTP needs the certificate fingerprint');
    return;
  }
  for (const fp of fps) {
    if (!FINGERPRINT_ALGORITHMS.has(fp.algorithm)) errors.push(`unsupported fingerprint algorithm "${fp.algorithm}"`);
    else if (!FINGERPRINT_VALUE.test(fp.value)) errors.push(`fingerprint ${fp.algorithm} is not colon-separated hex`);
  }
}

function checkEnvelope(sdp: unknown, errors: string[]): sdp is string {
  if (typeof sdp !== 'string') {
    errors.push(`SDP must be a string, got ${sdp === null ? 'null' : typeof sdp}`);
    return false;
  }
  if (sdp.trim() === '') {
    errors.push('SDP is empty');
    return false;
  }
  if (sdp.length > MAX_SDP_BYTES) {
    errors.push(`SDP is ${sdp.length} bytes, more than the ${MAX_SDP_BYTES} accepted`);
    return false;
  }
  if (!sdp.startsWith('v=0')) {
    errors.push('SDP does not start with "v=0" (is it JSON-escaped or truncated?)');
    return false;
  }
  return true;
}

export interface ValidateOfferOptions {
  /**
   * Require at least one ICE candidate in the audio section. WhatsApp offers are complete (no trickle), so a
   * WhatsApp offer without candidates can never connect; browser offers trickle and may have none.
   * @default false
   */
  requireCandidates?: boolean;
}

/**
 * Checks an SDP offer (from Meta or from an agent's browser) before it reaches wrtc, with one clear reason per
 * problem. Accepts what libwebrtc would accept for an audio call we can bridge; refuses what it would reject or
 * what could never carry Opus audio over DTLS-SRTP.
 */
export function validateOffer(sdp: unknown, opts: ValidateOfferOptions = {}): SdpCheck {
  const errors: string[] = [];
  if (!checkEnvelope(sdp, errors)) return { ok: false, errors };
  const parsed = parseSdp(sdp);
  if (parsed.malformed.length > 0) {
    errors.push(`${parsed.malformed.length} line(s) are not "x=value", first: "${parsed.malformed[0]?.slice(0, 40)}"`);
  }
  const audio = audioSection(parsed);
  if (!audio) {
    errors.push('no m=audio section');
    return { ok: false, errors };
  }
  if (audio.port === 0) errors.push('m=audio has port 0 (the audio section is rejected)');
  if (!DTLS_PROTOS.has(audio.proto))
    errors.push(`m=audio transport "${audio.proto}" is not DTLS-SRTP (UDP/TLS/RTP/SAVPF)`);
  checkFingerprints([...parsed.session.fingerprints, ...audio.fingerprints], errors);
  const ufrag = audio.iceUfrag ?? parsed.session.iceUfrag;
  const pwd = audio.icePwd ?? parsed.session.icePwd;
  if (!ufrag) errors.push('no a=ice-ufrag');
  if (!pwd) errors.push('no a=ice-pwd');
  const setup = audio.setup ?? parsed.session.setup;
  if (setup !== undefined && !['actpass', 'active', 'passive'].includes(setup)) {
    errors.push(`a=setup:${setup} is not actpass, active or passive`);
  }
  if (audio.direction === 'inactive') errors.push('audio is a=inactive');
  if (audio.payloadTypes.length === 0) errors.push('m=audio lists no payload types');
  for (const pt of audio.payloadTypes) {
    const codec = audio.codecs.find((c) => c.pt === pt);
    if (pt >= 96 && (!codec || codec.name === '')) errors.push(`payload type ${pt} has no a=rtpmap`);
  }
  const opus = audio.codecs.find((c) => c.name.toLowerCase() === 'opus' && audio.payloadTypes.includes(c.pt));
  if (!opus) errors.push('no Opus codec offered (a=rtpmap:<pt> opus/48000/2)');
  for (const mid of parsed.bundle) {
    if (!parsed.media.some((s) => s.mid === mid))
      errors.push(`BUNDLE group names mid "${mid}" but no m= section has it`);
  }
  if (audio.badCandidates.length > 0) errors.push(`${audio.badCandidates.length} malformed a=candidate line(s)`);
  if (opts.requireCandidates && audio.candidates.length === 0) {
    errors.push('no ICE candidates in the audio section (a complete offer is needed: there is no trickle)');
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/** {@link validateOffer} with the WhatsApp rule that the offer carries its candidates. */
export function validateWhatsAppOffer(sdp: unknown): SdpCheck {
  return validateOffer(sdp, { requireCandidates: true });
}

/**
 * The rules WhatsApp applies to a user-initiated call's answer (pre_accept / accept): `a=setup:active`; exactly one
 * fingerprint, sha-256; Opus on PT 111; no payload types other than 111 and 126 (126 = telephone-event/8000);
 * no `a=ice-lite`; ICE credentials and at least one candidate. The WhatsApp simulator uses it to be strict.
 */
export function validateWhatsAppAnswer(sdp: unknown): SdpCheck {
  const errors: string[] = [];
  if (!checkEnvelope(sdp, errors)) return { ok: false, errors };
  const parsed = parseSdp(sdp);
  const audio = audioSection(parsed);
  if (!audio) return { ok: false, errors: ['no m=audio section'] };
  if (audio.port === 0) errors.push('m=audio has port 0 (the audio section is rejected)');
  const setup = audio.setup ?? parsed.session.setup;
  if (setup !== 'active') errors.push(`a=setup must be active (we are the DTLS client), found ${setup ?? 'none'}`);
  const fps = [...parsed.session.fingerprints, ...audio.fingerprints];
  if (fps.length !== 1) errors.push(`exactly one a=fingerprint is required, found ${fps.length}`);
  for (const fp of fps) {
    if (fp.algorithm !== 'sha-256') errors.push(`fingerprint must be sha-256, found ${fp.algorithm}`);
    else if (!FINGERPRINT_VALUE.test(fp.value)) errors.push('sha-256 fingerprint is not colon-separated hex');
  }
  const opus = audio.codecs.find((c) => c.pt === WHATSAPP_OPUS_PT);
  if (
    !audio.payloadTypes.includes(WHATSAPP_OPUS_PT) ||
    opus?.name.toLowerCase() !== 'opus' ||
    opus.clockRate !== 48000
  ) {
    errors.push('Opus must be answered on PT 111 (m=audio … 111 and a=rtpmap:111 opus/48000/2)');
  }
  const extra = audio.payloadTypes.filter((pt) => pt !== WHATSAPP_OPUS_PT && pt !== WHATSAPP_DTMF_PT);
  if (extra.length > 0) errors.push(`m=audio may list only payload types 111 and 126, found also ${extra.join(' ')}`);
  if (audio.payloadTypes.includes(WHATSAPP_DTMF_PT)) {
    const te = audio.codecs.find((c) => c.pt === WHATSAPP_DTMF_PT);
    if (te?.name.toLowerCase() !== 'telephone-event' || te.clockRate !== 8000) {
      errors.push('PT 126 must be telephone-event/8000');
    }
  }
  if (parsed.iceLite) errors.push('a=ice-lite must not be in the answer (we must be a full, controlling ICE agent)');
  if (!(audio.iceUfrag ?? parsed.session.iceUfrag)) errors.push('no a=ice-ufrag');
  if (!(audio.icePwd ?? parsed.session.icePwd)) errors.push('no a=ice-pwd');
  if (audio.candidates.length === 0)
    errors.push('no ICE candidates (the answer must be complete: there is no trickle)');
  if (audio.badCandidates.length > 0) errors.push(`${audio.badCandidates.length} malformed a=candidate line(s)`);
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

export interface CandidateFilterOptions {
  /** Networks a candidate's address must be in; a {@link NetworkFilter} or CIDR strings. @default allow all */
  allowedNetworks?: NetworkFilter | readonly string[];
  /** Drop TCP candidates (WhatsApp offers and uses UDP only). @default false */
  udpOnly?: boolean;
  /**
   * Public IP to announce instead of the host's private address (1:1 NAT, e.g. a cloud VM): host candidates of the
   * same address family that are not loopback get this address; the port is kept.
   */
  announcedIp?: string;
}

function toFilter(networks: NetworkFilter | readonly string[] | undefined): NetworkFilter {
  return networks instanceof NetworkFilter ? networks : new NetworkFilter(networks);
}

const LOOPBACK = new NetworkFilter(['127.0.0.0/8', '::1/128']);

/**
 * Decides what happens to one candidate under the options: `undefined` drops it, otherwise the (possibly rewritten)
 * `candidate:…` string. Garbage is dropped.
 */
export function filterCandidate(candidate: string, opts: CandidateFilterOptions): string | undefined {
  const c = parseCandidate(candidate);
  if (!c) return undefined;
  const filter = toFilter(opts.allowedNetworks);
  // An already announced address stays: filtering twice must not drop what the first pass rewrote.
  if (!filter.allows(c.address) && c.address !== opts.announcedIp) return undefined;
  if (opts.udpOnly && c.transport !== 'udp') return undefined;
  return rewriteCandidate(c, opts.announcedIp);
}

function rewriteCandidate(c: SdpCandidate, announcedIp: string | undefined): string {
  if (!announcedIp || c.type !== 'host' || LOOPBACK.allows(c.address)) return c.raw;
  if (isIP(announcedIp) !== isIP(c.address)) return c.raw;
  const parts = c.raw.split(' ');
  parts[4] = announcedIp;
  return parts.join(' ');
}

/**
 * Removes candidates outside the allowed networks (and TCP ones with `udpOnly`), rewrites host addresses to
 * `announcedIp`, and keeps `c=`, the `m=` port and `a=rtcp` consistent: when the connection address was removed,
 * they take the best remaining candidate, or `0.0.0.0`/port 9 when none is left.
 */
export function filterSdpCandidates(sdp: string, opts: CandidateFilterOptions): string {
  const filter = toFilter(opts.allowedNetworks);
  const lines = sdpLines(sdp);
  const out: string[] = [];
  // First pass per media section: decide the candidates to keep.
  const sections = splitSections(lines);
  for (const [i, section] of sections.entries()) {
    if (i === 0) {
      out.push(...section);
      continue;
    }
    const kept: SdpCandidate[] = [];
    const body: string[] = [];
    for (const line of section) {
      if (line.startsWith('a=candidate:')) {
        const rewritten = filterCandidate(line, { ...opts, allowedNetworks: filter });
        if (rewritten === undefined) continue;
        const parsed = parseCandidate(rewritten);
        if (parsed) kept.push(parsed);
        body.push('a=' + rewritten);
      } else body.push(line);
    }
    const best = [...kept].sort((a, b) => b.priority - a.priority)[0];
    out.push(...fixConnectionLines(body, best, filter, opts.announcedIp));
  }
  return joinLines(out);
}

function fixConnectionLines(
  section: string[],
  best: SdpCandidate | undefined,
  filter: NetworkFilter,
  announcedIp: string | undefined,
): string[] {
  const cLine = section.find((l) => l.startsWith('c='));
  const cAddress = cLine?.split(/\s+/)[2] ?? '0.0.0.0';
  const unspecified = cAddress === '0.0.0.0' || cAddress === '::';
  const needsFix = !unspecified && (!filter.allows(cAddress) || (announcedIp !== undefined && best !== undefined));
  if (!needsFix) return section;
  const address = best?.address ?? '0.0.0.0';
  const port = best?.port ?? 9;
  const family = isIP(address) === 6 ? 'IP6' : 'IP4';
  return section.map((line) => {
    if (line.startsWith('m=')) {
      const parts = line.split(' ');
      parts[1] = String(port);
      return parts.join(' ');
    }
    if (line.startsWith('c=')) return `c=IN ${family} ${address}`;
    if (line.startsWith('a=rtcp:')) {
      const addr = line.split(/\s+/)[3];
      if (addr !== undefined && addr !== '0.0.0.0' && !filter.allows(addr)) return 'a=rtcp:9 IN IP4 0.0.0.0';
    }
    return line;
  });
}

/** [session lines, m-section 1 lines, m-section 2 lines, …]. */
/**
 * Adds `candidate:…` lines (with or without `a=`) to the first media section: the bundled one. For a complete
 * description built from the candidates gathered so far, without reading a local description that is still changing.
 */
export function addCandidates(sdp: string, candidates: readonly string[]): string {
  const sections = splitSections(sdpLines(sdp));
  const first = sections[1];
  if (!first) return sdp;
  for (const c of candidates) {
    const line = c.startsWith('a=') ? c : `a=${c}`;
    if (!first.includes(line)) first.push(line);
  }
  return joinLines(sections.flat());
}

function splitSections(lines: string[]): string[][] {
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([]);
    sections[sections.length - 1]?.push(line);
  }
  return sections;
}

export type WhatsAppAnswerOptions = Omit<CandidateFilterOptions, 'udpOnly'>;

/**
 * Shapes our answer to Meta's offer into what WhatsApp accepts (see {@link validateWhatsAppAnswer}): keeps only the
 * sha-256 fingerprint, only PT 111 and 126 with their rtpmap/fmtp/rtcp-fb lines, forces `a=setup:active`, removes
 * `a=ice-lite` and `a=ice-options:trickle` (the answer is complete), keeps UDP candidates inside the allowed
 * networks (rewritten to `announcedIp` when set) and ends them with `a=end-of-candidates`. Idempotent; safe to apply
 * before `setLocalDescription` (codecs, setup) and again to the gathered description (candidates).
 */
export function mungeWhatsAppAnswer(sdp: string, opts: WhatsAppAnswerOptions = {}): string {
  const keepPts = new Set([WHATSAPP_OPUS_PT, WHATSAPP_DTMF_PT]);
  const sections = splitSections(sdpLines(sdp));
  const out: string[] = [];
  for (const [i, section] of sections.entries()) {
    const isAudio = section[0]?.startsWith('m=audio') ?? false;
    let hasCandidates = false;
    let hasEnd = false;
    for (const line of section) {
      if (line === 'a=ice-lite' || line === 'a=ice-options:trickle') continue;
      if (line.startsWith('a=fingerprint:') && parseFingerprint(line.slice(14)).algorithm !== 'sha-256') continue;
      if (line.startsWith('a=setup:')) {
        out.push('a=setup:active');
        continue;
      }
      if (i > 0 && isAudio) {
        if (line.startsWith('m=audio')) {
          const [head, port, proto, ...pts] = line.split(' ');
          out.push([head, port, proto, ...pts.filter((pt) => keepPts.has(Number(pt)))].join(' '));
          continue;
        }
        const ptMatch = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)\s/.exec(line);
        if (ptMatch && !keepPts.has(Number(ptMatch[2]))) continue;
        if (line.startsWith('a=candidate:')) hasCandidates = true;
        if (line === 'a=end-of-candidates') hasEnd = true;
      }
      out.push(line);
    }
    if (i > 0 && isAudio && hasCandidates && !hasEnd) out.push('a=end-of-candidates');
  }
  const shaped = joinLines(out);
  const filtered = filterSdpCandidates(shaped, { ...opts, udpOnly: true });
  // Filtering may have removed every candidate: then end-of-candidates alone is misleading but harmless; keep it
  // only when a candidate is left.
  const audio = audioSection(parseSdp(filtered));
  if (audio && audio.candidates.length === 0 && audio.endOfCandidates) {
    return joinLines(sdpLines(filtered).filter((l) => l !== 'a=end-of-candidates'));
  }
  return filtered;
}

/** Normalizes line endings to CRLF (wrtc accepts LF, WhatsApp's own SDP uses CRLF). */
export function normalizeSdp(sdp: string): string {
  return joinLines(sdpLines(sdp));
}

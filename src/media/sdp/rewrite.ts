/**
 * Rewriting SDP line by line: candidate filtering and address announcing, adding gathered candidates, and shaping our
 * WhatsApp answer. Every line a rewrite does not mean to change stays byte for byte and in order, and the result
 * ends its lines with CRLF (Meta refuses a mangled description).
 *
 * @see docs/whatsapp-platform.md §3 for the WhatsApp rules these encode.
 */
import { isIP } from 'node:net';
import { NetworkFilter } from '../../rtc/cidr.js';
import { joinLines, sdpLines, splitSections } from './lines.js';
import { audioSection, parseCandidate, parseFingerprint, parseSdp, type SdpCandidate } from './parse.js';
import { WHATSAPP_DTMF_PT, WHATSAPP_OPUS_PT } from './validate.js';

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

/**
 * Shapes our offer into a complete WhatsApp offer: `a=setup:actpass`, one sha-256 fingerprint, only PT 111 (Opus)
 * and 126 (telephone-event/8000), no `a=ice-lite` or `a=ice-options:trickle`, UDP candidates inside the allowed
 * networks ending with `a=end-of-candidates`. Built on the answer shaping (same codec, fingerprint and candidate
 * rules) with the DTLS role left to Meta.
 */
export function mungeWhatsAppOffer(sdp: string, opts: WhatsAppAnswerOptions = {}): string {
  const shaped = mungeWhatsAppAnswer(sdp, opts);
  return joinLines(sdpLines(shaped).map((l) => (l === 'a=setup:active' ? 'a=setup:actpass' : l)));
}

/** The description without its candidate lines: a trickle answer, whose candidates go out as events. */
export function withoutCandidates(sdp: string): string {
  return joinLines(sdpLines(sdp).filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates'));
}

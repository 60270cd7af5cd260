/**
 * Reading SDP: the maintained `sdp-transform` parser, mapped onto the few facts our legs, validators and logs use.
 * Tolerant: never throws; whatever does not parse lands in `malformed` or `badCandidates` for the validators.
 */
import sdpTransform from 'sdp-transform';
import { sdpLines, splitSections } from './lines.js';

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

/** sdp-transform turns values that look like integers into numbers (a ufrag `1234`, a mid `0`): read them back. */
const text = (v: string | number | undefined): string | undefined => (v === undefined ? undefined : String(v));

/**
 * Parses one candidate (`candidate:…` with or without `a=`) with sdp-transform's grammar (RFC 8839 §5.1); undefined
 * when malformed or out of range.
 */
export function parseCandidate(line: string): SdpCandidate | undefined {
  const raw = line.startsWith('a=') ? line.slice(2) : line;
  if (!raw.startsWith('candidate:')) return undefined;
  // A lone attribute line parses as a session-level attribute.
  const [c] = (sdpTransform.parse(`a=${raw}`) as Pick<sdpTransform.MediaAttributes, 'candidates'>).candidates ?? [];
  if (!c) return undefined;
  // An empty field parses as '' where a number belongs: the grammar's digits are optional.
  const { component, priority, port } = c as Record<string, unknown>;
  if (typeof component !== 'number' || typeof priority !== 'number' || typeof port !== 'number') return undefined;
  const [foundation, transport, address, type] = [c.foundation, c.transport, c.ip, c.type].map(String);
  if (port > 65535 || !foundation || !transport || !address || !type) return undefined;
  return { foundation, component, transport: transport.toLowerCase(), priority, address, port, type, raw };
}

/** Reads an `a=fingerprint:` value (without the attribute name): algorithm in lower case. */
export function parseFingerprint(value: string): SdpFingerprint {
  const [algorithm = '', fp = ''] = value.trim().split(/\s+/);
  return { algorithm: algorithm.toLowerCase(), value: fp };
}

/**
 * The lines of one level that sdp-transform folds: it keeps only the last `a=fingerprint`, and sets malformed
 * candidates aside; the rules count both.
 */
function foldedLines(lines: readonly string[]): {
  fingerprints: SdpFingerprint[];
  candidates: SdpCandidate[];
  badCandidates: string[];
} {
  const out = { fingerprints: [] as SdpFingerprint[], candidates: [] as SdpCandidate[], badCandidates: [] as string[] };
  for (const line of lines) {
    if (line.startsWith('a=fingerprint:')) out.fingerprints.push(parseFingerprint(line.slice('a=fingerprint:'.length)));
    else if (line.startsWith('a=candidate:')) {
      const c = parseCandidate(line);
      if (c) out.candidates.push(c);
      else out.badCandidates.push(line.slice(2));
    }
  }
  return out;
}

function codecsOf(m: sdpTransform.MediaDescription): SdpCodec[] {
  const codecs = new Map<number, SdpCodec>();
  const codecFor = (pt: number): SdpCodec => {
    let codec = codecs.get(pt);
    if (!codec) {
      codec = { pt, name: '', clockRate: 0, rtcpFb: [] };
      codecs.set(pt, codec);
    }
    return codec;
  };
  for (const r of m.rtp) {
    const codec = codecFor(r.payload);
    codec.name = String(r.codec);
    codec.clockRate = Number(r.rate ?? 0);
    if (r.encoding !== undefined) codec.channels = Number(r.encoding);
  }
  for (const f of m.fmtp) codecFor(f.payload).fmtp = String(f.config);
  for (const fb of m.rtcpFb ?? []) {
    const pt = Number(fb.payload);
    if (Number.isInteger(pt)) codecFor(pt).rtcpFb.push(fb.subtype ? `${fb.type} ${fb.subtype}` : fb.type);
  }
  // Codecs mentioned only by fmtp/rtcp-fb (no rtpmap) keep an empty name: validators report them.
  return [...codecs.values()];
}

function payloadTypesOf(m: sdpTransform.MediaDescription): number[] {
  return String(m.payloads ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n));
}

/** Parses an SDP (CRLF or LF); never throws. */
export function parseSdp(sdp: string): ParsedSdp {
  const lines = sdpLines(sdp);
  const parsed = sdpTransform.parse(sdp);
  const [sessionLines = [], ...sectionLines] = splitSections(lines);
  const bundle = parsed.groups?.find((g) => g.type === 'BUNDLE');
  return {
    version: lines[0]?.startsWith('v=') ? lines[0].slice(2) : undefined,
    iceLite: parsed.icelite === 'ice-lite',
    bundle: bundle ? String(bundle.mids).split(/\s+/).filter(Boolean) : [],
    session: {
      setup: parsed.setup,
      iceUfrag: text(parsed.iceUfrag),
      icePwd: text(parsed.icePwd),
      fingerprints: foldedLines(sessionLines).fingerprints,
    },
    media: parsed.media.map((m, i) => {
      const folded = foldedLines(sectionLines[i] ?? []);
      return {
        kind: m.type ?? '',
        port: Number(m.port),
        proto: m.protocol ?? '',
        payloadTypes: payloadTypesOf(m),
        mid: text(m.mid),
        direction: m.direction,
        setup: m.setup,
        iceUfrag: text(m.iceUfrag),
        icePwd: text(m.icePwd),
        fingerprints: folded.fingerprints,
        codecs: codecsOf(m),
        candidates: folded.candidates,
        badCandidates: folded.badCandidates,
        rtcpMux: m.rtcpMux !== undefined,
        endOfCandidates: m.endOfCandidates !== undefined,
        connectionAddress: m.connection?.ip,
      };
    }),
    malformed: lines.filter((l) => !/^[a-z]=/.test(l) && l.trim() !== ''),
  };
}

/** The first `m=audio` section, if any. */
export function audioSection(parsed: ParsedSdp): SdpMediaSection | undefined {
  return parsed.media.find((s) => s.kind === 'audio');
}

/** Effective audio-leg values; safe to log (no ICE password, no SDP body). */
export function summarizeSdp(sdp: string): SdpSummary {
  const parsed = parseSdp(sdp);
  const audio = audioSection(parsed);
  return {
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

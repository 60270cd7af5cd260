/**
 * Checking SDP before it reaches a peer connection or WhatsApp, with one clear reason per problem: offers from Meta
 * and from agents' browsers, the answer WhatsApp accepts, and, for business-initiated calls, our `connect` offer and
 * Meta's answer to it.
 *
 * @see docs/whatsapp-platform.md §3 and docs/whatsapp-business-calls.md for the WhatsApp rules these encode.
 */
import { sdpLines } from './lines.js';
import { audioSection, parseSdp, type SdpFingerprint } from './parse.js';

/** Offers larger than this are refused before parsing; real ones are 1–6 KiB. */
export const MAX_SDP_BYTES = 64 * 1024;

/** WhatsApp's codecs: Opus on PT 111 and telephone-event/8000 on PT 126, nothing else. */
export const WHATSAPP_OPUS_PT = 111;
export const WHATSAPP_DTMF_PT = 126;

export type SdpCheck = { ok: true } | { ok: false; errors: string[] };

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

/**
 * The checks the WhatsApp simulator applies to a `connect` offer: {@link validateWhatsAppAnswer}'s codec,
 * fingerprint and candidate rules, with `a=setup:actpass`, and no trickle.
 */
export function validateBusinessOffer(sdp: unknown): SdpCheck {
  const asAnswer = validateWhatsAppAnswer(
    typeof sdp === 'string' ? sdp.replace(/a=setup:actpass/g, 'a=setup:active') : sdp,
  );
  const errors = asAnswer.ok ? [] : [...asAnswer.errors];
  if (typeof sdp === 'string') {
    const parsed = parseSdp(sdp);
    const audio = audioSection(parsed);
    const setup = audio?.setup ?? parsed.session.setup;
    if (setup !== 'actpass') errors.push(`a=setup must be actpass in an offer, found ${setup ?? 'none'}`);
    if (sdpLines(sdp).includes('a=ice-options:trickle'))
      errors.push('a=ice-options:trickle: the offer must be complete (Meta has no candidate action)');
    if (!audio?.payloadTypes.includes(126)) errors.push('telephone-event/8000 must be offered on PT 126');
  }
  // The answer rule's wording names a=setup:active; drop it, the actpass check above is the one that applies.
  const out = errors.filter((e) => !e.startsWith('a=setup must be active'));
  return out.length === 0 ? { ok: true } : { ok: false, errors: out };
}

/**
 * Checks Meta's answer to our offer before it reaches the WhatsApp leg: Opus on PT 111, a DTLS role for us to
 * take (`active` from Meta makes us the server), a fingerprint, ICE credentials and candidates.
 */
export function validateMetaAnswer(sdp: unknown): SdpCheck {
  const base = validateOffer(sdp, { requireCandidates: true });
  const errors = base.ok ? [] : [...base.errors];
  if (typeof sdp === 'string') {
    const parsed = parseSdp(sdp);
    const audio = audioSection(parsed);
    const setup = audio?.setup ?? parsed.session.setup;
    if (setup !== 'active' && setup !== 'passive')
      errors.push(`a=setup must be active or passive, found ${setup ?? 'none'}`);
    const opus = audio?.codecs.find((c) => c.pt === WHATSAPP_OPUS_PT);
    if (opus?.name.toLowerCase() !== 'opus') errors.push('Opus must be answered on PT 111');
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

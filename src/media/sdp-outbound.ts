/**
 * SDP rules for business-initiated calls: the offer we send with Graph `connect` and the answer Meta sends back
 * in the `connect` webhook (see docs/whatsapp-business-calls.md).
 */
import {
  audioSection,
  mungeWhatsAppAnswer,
  normalizeSdp,
  parseSdp,
  type SdpCheck,
  sdpLines,
  validateOffer,
  validateWhatsAppAnswer,
  WHATSAPP_OPUS_PT,
  type WhatsAppAnswerOptions,
} from './sdp.js';

/**
 * Shapes our offer into a complete WhatsApp offer: `a=setup:actpass`, one sha-256 fingerprint, only PT 111 (Opus)
 * and 126 (telephone-event/8000), no `a=ice-lite` or `a=ice-options:trickle`, UDP candidates inside the allowed
 * networks ending with `a=end-of-candidates`. Built on the answer shaping (same codec, fingerprint and candidate
 * rules) with the DTLS role left to Meta.
 */
export function mungeWhatsAppOffer(sdp: string, opts: WhatsAppAnswerOptions = {}): string {
  const shaped = mungeWhatsAppAnswer(sdp, opts);
  return normalizeSdp(
    sdpLines(shaped)
      .map((l) => (l === 'a=setup:active' ? 'a=setup:actpass' : l))
      .join('\r\n'),
  );
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

/**
 * The SDP checks both engines make, as {@link MediaError}s that carry one reason per problem in `details`. `who`
 * names the leg in the message (`whatsapp`, `agent`, a browser leg id).
 */
import type { NetworkFilter } from '../../rtc/cidr.js';
import { MediaError } from '../errors.js';
import { normalizeSdp } from '../sdp/lines.js';
import { audioSection, parseSdp } from '../sdp/parse.js';
import { filterSdpCandidates } from '../sdp/rewrite.js';
import {
  type SdpCheck,
  type ValidateOfferOptions,
  validateBusinessOffer,
  validateMetaAnswer,
  validateOffer,
  validateWhatsAppAnswer,
} from '../sdp/validate.js';

function refuse(code: 'sdp-invalid' | 'no-usable-candidates' | 'webrtc-failed', message: string, check: SdpCheck) {
  const errors = check.ok ? [] : check.errors;
  return new MediaError(code, `${message}: ${errors.join('; ')}`, { details: errors });
}

const lacksCandidates = (check: SdpCheck): boolean =>
  !check.ok && check.errors.some((e) => e.startsWith('no ICE candidates'));

/** Throws `sdp-invalid` when an offer (Meta's or a browser's) fails {@link validateOffer}. */
export function assertOffer(sdp: string, who: string, opts: ValidateOfferOptions = {}): void {
  const check = validateOffer(sdp, opts);
  if (!check.ok) throw refuse('sdp-invalid', `invalid ${who} offer`, check);
}

/**
 * The offer with its candidates outside the allowed networks removed (CRLF line ends). Throws
 * `no-usable-candidates` when it had candidates and none is left.
 */
export function usableOffer(offerSdp: string, who: string, networks: NetworkFilter): string {
  const offer = filterSdpCandidates(normalizeSdp(offerSdp), { allowedNetworks: networks });
  const offered = audioSection(parseSdp(offerSdp))?.candidates.length ?? 0;
  if (offered > 0 && (audioSection(parseSdp(offer))?.candidates.length ?? 0) === 0) {
    throw new MediaError(
      'no-usable-candidates',
      `none of the ${offered} candidate(s) in the ${who} offer is inside allowedNetworks (${networks.networks?.join(', ')})`,
    );
  }
  return offer;
}

/**
 * Throws when our answer to Meta's offer would be refused: `no-usable-candidates` when it carries no local candidate
 * inside the allowed networks (`setting` names what to check: the option or the env var), `webrtc-failed` for
 * anything else.
 */
export function assertWhatsAppAnswer(answer: string, networks: NetworkFilter, setting: string): void {
  const check = validateWhatsAppAnswer(answer);
  if (check.ok) return;
  if (!lacksCandidates(check)) throw refuse('webrtc-failed', 'our answer would be refused by WhatsApp', check);
  throw new MediaError(
    'no-usable-candidates',
    `no local ICE candidate inside allowedNetworks (${networks.networks?.join(', ') ?? 'all'}); check ${setting} against this host's interfaces`,
    { details: check.errors },
  );
}

/** Throws when our business-initiated offer would be refused: `no-usable-candidates` or `webrtc-failed`. */
export function assertBusinessOffer(offer: string): void {
  const check = validateBusinessOffer(offer);
  if (check.ok) return;
  const code = lacksCandidates(check) ? 'no-usable-candidates' : 'webrtc-failed';
  throw refuse(code, 'our offer would be refused by WhatsApp', check);
}

/** Throws `sdp-invalid` when Meta's answer to our offer is unusable (see {@link validateMetaAnswer}). */
export function assertMetaAnswer(sdp: string): void {
  const check = validateMetaAnswer(sdp);
  if (!check.ok) throw refuse('sdp-invalid', 'unusable answer from WhatsApp', check);
}

import type { NetworkFilter } from '../../rtc/cidr.js';
import { MediaError } from '../errors.js';
import { validateWhatsAppAnswer } from '../sdp/validate.js';

/**
 * Throws when our answer to Meta's offer would be refused: `no-usable-candidates` when it carries no local candidate
 * inside the allowed networks (`setting` names what to check: the option or the env var), `webrtc-failed` for
 * anything else.
 */
export function assertWhatsAppAnswer(answer: string, networks: NetworkFilter, setting: string): void {
  const check = validateWhatsAppAnswer(answer);
  if (check.ok) return;
  const noCandidates = check.errors.some((e) => e.startsWith('no ICE candidates'));
  throw new MediaError(
    noCandidates ? 'no-usable-candidates' : 'webrtc-failed',
    noCandidates
      ? `no local ICE candidate inside allowedNetworks (${networks.networks?.join(', ') ?? 'all'}); check ${setting} against this host's interfaces`
      : `our answer would be refused by WhatsApp: ${check.errors.join('; ')}`,
    { details: check.errors },
  );
}

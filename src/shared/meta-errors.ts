/**
 * Meta's Graph API and calling error codes, told in plain words for agents (the ack of `call:dial`, the reason on
 * `call:ended`). Codes and meanings: docs/whatsapp-business-calls.md.
 */
const PLAIN: Record<number, string> = {
  100: 'WhatsApp refused the request as invalid.',
  190: 'Our WhatsApp access token is invalid or expired; tell an administrator.',
  613: 'Too many permission look-ups in a short time; try again in a few seconds.',
  131026: 'This number cannot receive WhatsApp messages.',
  131030: 'This number is not on the allowed list of our test WhatsApp number.',
  131055: 'Calling through the Graph API is off for our number (it is set up for SIP).',
  138000: 'Calling is not enabled on our WhatsApp number.',
  138001: 'This number cannot be called on WhatsApp (not on WhatsApp, or its app does not support calls).',
  138002: 'Our number has too many calls at once; try again shortly.',
  138003: 'There is already a call with this person.',
  138004: 'WhatsApp had a connection error; try again.',
  138005: 'Our number placed too many calls recently; try again later.',
  138006: 'This person has not given us permission to call them.',
  138007: 'The call could not be set up in time.',
  138009: 'We may not ask this person for call permission again yet.',
  138012: 'We have reached the limit of calls to this person for now.',
  138013: 'Business-initiated calls are not available for our number.',
  138014: 'Calling is temporarily disabled for our number because of call quality.',
  138015: 'Calling cannot be enabled for our number yet.',
  138017: 'This person has already given us permanent permission.',
  138018: 'Our WhatsApp number is not set up for calling.',
  138019: 'The call could not be set up on the WhatsApp side.',
  138020: 'WhatsApp could not connect the call.',
  138021: "The person's WhatsApp did not receive our audio.",
  138022: "The person's WhatsApp could not send audio.",
  138023: 'The call was accepted but its audio never connected.',
};

/** A sentence an agent understands for one of Meta's error codes. */
export function plainMetaError(code: number | undefined, fallback = 'WhatsApp refused the call.'): string {
  return (code !== undefined && PLAIN[code]) || fallback;
}

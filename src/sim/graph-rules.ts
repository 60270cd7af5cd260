/**
 * Meta's rules for the Graph API `/calls` actions on a user-initiated call (pre_accept, accept, reject, terminate):
 * order, SDP validity, a=setup:active, sha-256 fingerprint, the same SDP on pre_accept and accept. Pure judgement:
 * the reply says what Meta answers, and its `commit` what changes at Meta once the answer goes out.
 */
import { validateWhatsAppAnswer } from '../media/sdp/validate.js';
import { type GraphReply, metaError } from './meta-error.js';
import type { SimCall, SimCallState } from './sim-types.js';

/** What a committed action does to the simulated call. */
export interface CallActionHooks {
  setState(call: SimCall, state: SimCallState): void;
  end(call: SimCall, by: NonNullable<SimCall['endedBy']>): void;
  /** Meta's accept returned 200: the caller's media clock and Meta's media watchdog start. */
  accepted(call: SimCall): void;
  log(msg: string, err: unknown): void;
}

/** Checks shared by every Graph request: token, version, number, messaging_product. */
export function checkGraphRequest(
  req: { version: string; phoneNumberId: string; auth: string | undefined },
  expect: { accessToken: string; phoneNumberId: string },
  body?: Record<string, unknown>,
): GraphReply | undefined {
  if (req.auth !== `Bearer ${expect.accessToken}`) return metaError(401, 190, 'Invalid OAuth access token');
  if (!/^v\d+\.\d+$/.test(req.version)) return metaError(400, 100, `Unknown API version ${req.version}`);
  if (req.phoneNumberId !== expect.phoneNumberId)
    return metaError(400, 100, `Unknown phone number id ${req.phoneNumberId}`);
  if (body && body.messaging_product !== 'whatsapp') return metaError(400, 100, 'messaging_product must be "whatsapp"');
  return undefined;
}

const ok = { status: 200, body: { messaging_product: 'whatsapp', success: true } };

/** Judges pre_accept / accept / reject / terminate on a user-initiated call. */
export function judgeUserCallAction(
  call: SimCall,
  action: unknown,
  session: { sdp_type?: unknown; sdp?: unknown } | undefined,
  hooks: CallActionHooks,
): GraphReply {
  switch (action) {
    case 'pre_accept':
    case 'accept': {
      if (call.state === 'ended')
        return metaError(
          400,
          100,
          call.endedBy === 'caller' ? 'The user has already terminated the call' : 'Call has ended',
        );
      if (action === 'pre_accept' && call.state !== 'ringing')
        return metaError(400, 100, `pre_accept in state ${call.state}: already done`);
      if (action === 'accept' && call.state === 'accepted') return metaError(400, 100, 'Call is already in progress');
      if (session?.sdp_type !== 'answer') return metaError(400, 100, 'session.sdp_type must be "answer"');
      if (typeof session.sdp !== 'string') return metaError(400, 100, 'session.sdp is required');
      const check = validateWhatsAppAnswer(session.sdp);
      if (!check.ok) return metaError(400, 100, 'Invalid SDP', check.errors.join('; '));
      if (call.answerSdp !== undefined && call.answerSdp !== session.sdp) {
        return metaError(400, 100, 'The accept SDP does not match the pre_accept SDP for this call');
      }
      const sdp = session.sdp;
      const first = call.answerSdp === undefined;
      return {
        ...ok,
        commit: () => {
          call.answerSdp = sdp;
          if (first && call.caller) {
            void call.caller.applyAnswer(sdp).catch((err) => hooks.log('sim caller could not apply the answer', err));
          }
          if (action === 'pre_accept') hooks.setState(call, 'pre-accepted');
          else {
            call.acceptedAt = Date.now();
            call.caller?.markAccepted?.();
            hooks.setState(call, 'accepted');
            hooks.accepted(call);
          }
        },
      };
    }
    case 'reject':
      if (call.state === 'ended') return metaError(400, 100, 'Call has already ended');
      if (call.state === 'accepted') return metaError(400, 100, 'Call is already in progress: terminate it instead');
      return { ...ok, commit: () => hooks.end(call, 'rejected') };
    case 'terminate':
      if (call.state === 'ended') return metaError(400, 100, 'The user has already terminated the call');
      return { ...ok, commit: () => hooks.end(call, 'business') };
    default:
      return metaError(400, 100, `Unsupported action ${String(action)}`);
  }
}

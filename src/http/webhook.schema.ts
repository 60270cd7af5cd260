import { z } from 'zod';
import { CALL_ID_RE } from '../shared/keys.js';

/**
 * Meta's `calls` webhook, parsed per item so one malformed item never sinks its batch. Unknown fields are allowed
 * (Meta adds fields); numbers arrive as digit strings, timestamps as strings of Unix seconds.
 * @see docs/whatsapp-platform.md §1
 */

const digits = z.string().regex(/^\d{1,20}$/);
const unixSeconds = z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]).transform(Number);

const MetaErrorSchema = z.object({
  code: z.coerce.number().int(),
  title: z.string().optional(),
  message: z.string().optional(),
});

export const CallConnectSchema = z.object({
  id: z.string().regex(CALL_ID_RE, 'call id: letters, digits and . _ = + / - only'),
  event: z.literal('connect'),
  from: digits.optional(),
  to: digits.optional(),
  direction: z.enum(['USER_INITIATED', 'BUSINESS_INITIATED']).optional(),
  timestamp: unixSeconds.optional(),
  session: z.object({ sdp_type: z.string(), sdp: z.string().min(1).max(20_000) }),
});

export const CallTerminateSchema = z.object({
  id: z.string().regex(CALL_ID_RE),
  event: z.literal('terminate'),
  from: digits.optional(),
  to: digits.optional(),
  direction: z.string().optional(),
  timestamp: unixSeconds.optional(),
  // Real traffic is uppercase; the docs show placeholders in other cases.
  status: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['COMPLETED', 'FAILED']))
    .optional(),
  duration: z.coerce.number().optional(),
  errors: z.array(MetaErrorSchema).optional(),
});

export const CallStatusSchema = z.object({
  id: z.string().regex(CALL_ID_RE),
  type: z.string().optional(),
  status: z.string().min(1).max(40),
  timestamp: unixSeconds.optional(),
  recipient_id: digits.optional(),
});

export const ContactSchema = z.object({
  wa_id: digits.optional(),
  profile: z.object({ name: z.string().max(200).optional() }).optional(),
});

export const ChangeValueSchema = z.object({
  messaging_product: z.string().optional(),
  metadata: z.object({
    display_phone_number: z.string().max(30).optional(),
    phone_number_id: z.string().regex(/^\d{1,30}$/),
  }),
  contacts: z.array(z.unknown()).optional(),
  calls: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
  /** On the `messages` field: inbound messages (the call-permission reply among them). */
  messages: z.array(z.unknown()).optional(),
});

/**
 * The user's answer to a call-permission request: an interactive message on the `messages` field.
 * `expiration_timestamp` is documented as an integer but shown quoted in samples: both are read.
 */
export const PermissionReplySchema = z.object({
  from: digits,
  id: z.string().max(256).optional(),
  type: z.literal('interactive'),
  context: z.object({ id: z.string().max(256).optional() }).optional(),
  interactive: z.object({
    type: z.literal('call_permission_reply'),
    call_permission_reply: z.object({
      response: z.enum(['accept', 'reject']),
      is_permanent: z.boolean().optional(),
      expiration_timestamp: unixSeconds.optional(),
      response_source: z.string().max(40).optional(),
    }),
  }),
});

export const ChangeSchema = z.object({ field: z.string(), value: z.unknown() });

export const EnvelopeSchema = z.object({
  object: z.string(),
  entry: z.array(z.object({ id: z.string().optional(), changes: z.array(z.unknown()).max(1000) })).max(1000),
});

/** A short description of why an item failed to parse, for logs (paths and messages only, no values). */
export function issuesOf(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

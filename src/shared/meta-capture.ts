/**
 * Every Graph shape of Meta-side call recording and transcription, in one place: the opt-in objects sent with
 * `accept` / `connect`, the `calls` webhook item that names the finished file, the media look-up (`GET /{media-id}`)
 * and the transcript document. Parsers for what Meta sends, builders for what we send (and for the simulator).
 * Where Meta's exact field names are assumed rather than documented, docs/whatsapp-business-calls.md says so; this
 * file is the one to adjust.
 */
import { z } from 'zod';
import { CALL_ID_RE } from './keys.js';

/** What Meta produces for a call: an audio recording, a transcript, or both. */
export type CaptureKind = 'recording' | 'transcription';
export const CAPTURE_KINDS: readonly CaptureKind[] = ['recording', 'transcription'];

/** A number's opt-in (routing file `metaCapture`), sent with every accept and connect of its calls. */
export interface CaptureOptIn {
  recording: boolean;
  transcription: boolean;
  /** Said in the announcement both parties hear ("quality assurance"). */
  purpose: string;
  /** The announcement's language, e.g. `en_US`. */
  language: string;
}

/** The opt-in objects for the `accept` / `connect` body: `recording` and `transcription`, each `status: ENABLED`. */
export function optInBody(c: CaptureOptIn | undefined): Record<string, unknown> {
  if (!c) return {};
  const one = { status: 'ENABLED', purpose: c.purpose, announcement_language: c.language };
  return {
    ...(c.recording ? { recording: one } : {}),
    ...(c.transcription ? { transcription: one } : {}),
  };
}

const OptInObjectSchema = z
  .object({
    status: z.enum(['ENABLED', 'DISABLED']),
    purpose: z.string().min(1).max(200),
    announcement_language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language such as en_US'),
  })
  .strict();

/** Reads the opt-in objects of an `accept` / `connect` body (the simulator checks them like Meta would). */
export function parseOptIn(
  body: Record<string, unknown>,
): { ok: true; kinds: CaptureKind[]; purpose?: string } | { ok: false; problem: string } {
  const kinds: CaptureKind[] = [];
  let purpose: string | undefined;
  for (const kind of CAPTURE_KINDS) {
    if (body[kind] === undefined) continue;
    const p = OptInObjectSchema.safeParse(body[kind]);
    if (!p.success) {
      const i = p.error.issues[0];
      return { ok: false, problem: `${kind}.${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}` };
    }
    if (p.data.status === 'ENABLED') {
      kinds.push(kind);
      purpose ??= p.data.purpose;
    }
  }
  return { ok: true, kinds, ...(purpose ? { purpose } : {}) };
}

/**
 * The `calls` webhook item that names a finished file (assumed shape): `event` is the kind, and an object of the
 * same name carries the media id and `AVAILABLE` or `FAILED` (with Meta's error).
 */
const MediaResultSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'media id: letters, digits, . _ - only'),
  status: z.enum(['AVAILABLE', 'FAILED']),
  mime_type: z.string().max(100).optional(),
  errors: z
    .array(z.object({ code: z.coerce.number().int(), title: z.string().max(300).optional() }))
    .max(10)
    .optional(),
});

const MediaItemSchema = z.object({
  id: z.string().regex(CALL_ID_RE, 'call id: letters, digits and . _ = + / - only'),
  event: z.enum(['recording', 'transcription']),
  timestamp: z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]).optional(),
  recording: MediaResultSchema.optional(),
  transcription: MediaResultSchema.optional(),
});

export interface MediaResult {
  callId: string;
  kind: CaptureKind;
  mediaId: string;
  status: 'AVAILABLE' | 'FAILED';
  errorCode: number | undefined;
  errorTitle: string | undefined;
}

export const isMediaEvent = (event: unknown): boolean => event === 'recording' || event === 'transcription';

/** Parses one `calls[]` item whose `event` is `recording` or `transcription`. */
export function parseMediaItem(raw: unknown): { ok: true; result: MediaResult } | { ok: false; error: z.ZodError } {
  const p = MediaItemSchema.safeParse(raw);
  if (!p.success) return { ok: false, error: p.error };
  const r = p.data[p.data.event];
  if (!r) {
    const issue = {
      code: 'custom' as const,
      path: [p.data.event],
      message: `missing the ${p.data.event} object`,
      input: raw,
    };
    return { ok: false, error: new z.ZodError([issue]) };
  }
  return {
    ok: true,
    result: {
      callId: p.data.id,
      kind: p.data.event,
      mediaId: r.id,
      status: r.status,
      errorCode: r.errors?.[0]?.code,
      errorTitle: r.errors?.[0]?.title,
    },
  };
}

/** Builds the webhook item (the simulator's side of {@link parseMediaItem}). */
export function mediaItem(
  r: Omit<MediaResult, 'errorTitle'> & { errorTitle?: string | undefined },
): Record<string, unknown> {
  return {
    id: r.callId,
    event: r.kind,
    timestamp: String(Math.floor(Date.now() / 1000)),
    [r.kind]: {
      id: r.mediaId,
      status: r.status,
      mime_type: r.kind === 'recording' ? 'audio/ogg' : 'application/json',
      ...(r.status === 'FAILED'
        ? { errors: [{ code: r.errorCode ?? 131000, title: r.errorTitle ?? 'Processing failed' }] }
        : {}),
    },
  };
}

/** `GET /{media-id}`: where to download the file, and what to check it against. */
const MediaInfoSchema = z.object({
  url: z.string().url(),
  mime_type: z.string().min(1).max(100),
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'sha256: 64 hex digits'),
  file_size: z.coerce.number().int().nonnegative(),
  id: z.string().optional(),
});
export type MediaInfo = { url: string; mimeType: string; sha256: string; fileSize: number };

export function parseMediaInfo(raw: unknown): { ok: true; info: MediaInfo } | { ok: false; problem: string } {
  const p = MediaInfoSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    return { ok: false, problem: `${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}` };
  }
  const d = p.data;
  return {
    ok: true,
    info: { url: d.url, mimeType: d.mime_type, sha256: d.sha256.toLowerCase(), fileSize: d.file_size },
  };
}

export function mediaInfoBody(mediaId: string, info: MediaInfo): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    id: mediaId,
    url: info.url,
    mime_type: info.mimeType,
    sha256: info.sha256,
    file_size: info.fileSize,
  };
}

/** The transcript document (assumed shape): who spoke when, in order. Unknown fields are kept but not shown. */
const TranscriptSchema = z.object({
  segments: z
    .array(
      z.object({
        speaker: z.string().max(40),
        start_ms: z.number().nonnegative().optional(),
        end_ms: z.number().nonnegative().optional(),
        text: z.string().max(20_000),
      }),
    )
    .max(100_000),
});

export type TranscriptSegment = { speaker: string; startMs: number | undefined; text: string };

/** The transcript's segments, or undefined when the document is not in the assumed shape (it is kept as it is). */
export function transcriptSegments(raw: unknown): TranscriptSegment[] | undefined {
  const p = TranscriptSchema.safeParse(raw);
  if (!p.success) return undefined;
  return p.data.segments.map((s) => ({ speaker: s.speaker, startMs: s.start_ms, text: s.text }));
}

export function transcriptBody(segments: { speaker: string; startMs: number; endMs: number; text: string }[]) {
  return {
    segments: segments.map((s) => ({ speaker: s.speaker, start_ms: s.startMs, end_ms: s.endMs, text: s.text })),
  };
}

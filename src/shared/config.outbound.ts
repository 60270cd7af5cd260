import path from 'node:path';
import { z } from 'zod';
import { bothOrNeither, csv, int, type Problems } from './config.fields.js';

/** What goes out of the service: business-initiated calls, call recordings, call events. @see config.ts */
export const OutboundEnv = z.object({
  /** Numbers agents may never call (comma-separated digits): refused before anything reaches Meta. */
  OUTBOUND_DO_NOT_CALL: csv((x) => x.replace(/[\s+-]/g, ''))
    .pipe(z.array(z.string().regex(/^\d{8,15}$/, 'each entry must be a phone number of 8 to 15 digits')))
    .optional(),
  /** The text of the call-permission request message users receive. */
  OUTBOUND_PERMISSION_TEXT: z.string().min(1).max(1024).default('We would like to call you on WhatsApp.'),
  /** Where finished recordings are stored (one Ogg Opus file per call) unless S3 is configured. */
  RECORDINGS_DIR: z.string().min(1).default('data/recordings'),
  /** S3-compatible storage for recordings: set the bucket to use it (credentials below or the AWS defaults). */
  RECORDINGS_S3_BUCKET: z.string().min(3).max(63).optional(),
  RECORDINGS_S3_PREFIX: z.string().max(200).default('recordings/'),
  RECORDINGS_S3_REGION: z.string().min(1).default('us-east-1'),
  RECORDINGS_S3_ENDPOINT: z.url().optional(),
  RECORDINGS_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  RECORDINGS_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  EVENTS_WEBHOOK_URL: csv()
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'a comma-separated list of http(s) URLs' })).max(10))
    .optional(),
  EVENTS_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  EVENTS_WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5000),
  EVENTS_WEBHOOK_ATTEMPTS: int(1, 50).default(12),
  EVENTS_WEBHOOK_BACKOFF_MS: int(10, 600_000).default(1000),
});

/** Business-initiated calls. */
export interface OutboundConfig {
  doNotCall: string[];
  permissionText: string;
}

/** Finished call recordings: a directory, or S3-compatible storage when a bucket is set. */
export interface RecordingsConfig {
  dir: string;
  s3: S3Options | undefined;
}

/** Where the S3 recording store puts recordings. */
export interface S3Options {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** Path-style URLs (MinIO and most S3-compatible servers): set with an endpoint. */
  forcePathStyle: boolean;
}

/** Signed call events for outside systems; no URLs = none sent. */
export interface EventsConfig {
  urls: string[];
  secret: string;
  timeoutMs: number;
  attempts: number;
  /** First retry after this; each next one waits twice as long. */
  backoffMs: number;
}

/** The outbound, recordings and events sections; what is wrong goes to `problems`. */
export function outboundConfig(
  e: z.infer<typeof OutboundEnv>,
  problems: Problems,
): { outbound: OutboundConfig; recordings: RecordingsConfig; events: EventsConfig } {
  bothOrNeither(
    problems,
    ['RECORDINGS_S3_ACCESS_KEY_ID', e.RECORDINGS_S3_ACCESS_KEY_ID],
    ['RECORDINGS_S3_SECRET_ACCESS_KEY', e.RECORDINGS_S3_SECRET_ACCESS_KEY],
  );
  const eventUrls = e.EVENTS_WEBHOOK_URL ?? [];
  if (eventUrls.length > 0 && !e.EVENTS_WEBHOOK_SECRET) {
    problems.push(
      'EVENTS_WEBHOOK_SECRET is not set: receivers check each event against it; set a random string of at least 16 characters.',
    );
  }
  return {
    outbound: { doNotCall: e.OUTBOUND_DO_NOT_CALL ?? [], permissionText: e.OUTBOUND_PERMISSION_TEXT },
    recordings: {
      dir: path.resolve(e.RECORDINGS_DIR),
      s3: e.RECORDINGS_S3_BUCKET
        ? {
            bucket: e.RECORDINGS_S3_BUCKET,
            prefix: e.RECORDINGS_S3_PREFIX,
            region: e.RECORDINGS_S3_REGION,
            endpoint: e.RECORDINGS_S3_ENDPOINT,
            accessKeyId: e.RECORDINGS_S3_ACCESS_KEY_ID,
            secretAccessKey: e.RECORDINGS_S3_SECRET_ACCESS_KEY,
            forcePathStyle: e.RECORDINGS_S3_ENDPOINT !== undefined,
          }
        : undefined,
    },
    events: {
      urls: eventUrls,
      secret: e.EVENTS_WEBHOOK_SECRET ?? '',
      timeoutMs: e.EVENTS_WEBHOOK_TIMEOUT_MS,
      attempts: e.EVENTS_WEBHOOK_ATTEMPTS,
      backoffMs: e.EVENTS_WEBHOOK_BACKOFF_MS,
    },
  };
}

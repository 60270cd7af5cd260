/**
 * Where finished call recordings live: a directory (`RECORDINGS_DIR`) or S3-compatible storage (`RECORDINGS_S3_*`,
 * the AWS SDK v3 client). One Ogg Opus file per call, named by the call id; read back by byte range for playback.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Options } from '../shared/config.outbound.js';

/** Which file of a call: our own recording, or Meta's recording or transcript (docs/whatsapp-business-calls.md). */
export type StoredFile = 'recording' | 'meta-recording' | 'meta-transcript';

const SUFFIX: Record<StoredFile, string> = {
  recording: '.ogg',
  'meta-recording': '.meta.ogg',
  'meta-transcript': '.meta-transcript.json',
};
const CONTENT_TYPE: Record<StoredFile, string> = {
  recording: 'audio/ogg',
  'meta-recording': 'audio/ogg',
  'meta-transcript': 'application/json',
};

/** A byte range (inclusive end), as asked by a `Range` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface RecordingStore {
  readonly kind: 'dir' | 's3';
  /** Stores the file at `localPath` as the call's recording (or `file`); returns its size. */
  put(callId: string, localPath: string, file?: StoredFile): Promise<{ bytes: number }>;
  /** The file's bytes (the whole file or `range`), or undefined when there is none. */
  read(callId: string, range?: ByteRange, file?: StoredFile): Promise<Readable | undefined>;
  delete(callId: string, file?: StoredFile): Promise<void>;
}

/** Call ids may carry `/` and `+` (Meta's base64): file and object names use a safe form. */
export const recordingName = (callId: string, file: StoredFile = 'recording') =>
  `${Buffer.from(callId).toString('base64url')}${SUFFIX[file]}`;

export class DirRecordingStore implements RecordingStore {
  readonly kind = 'dir' as const;
  constructor(readonly dir: string) {}

  async put(callId: string, localPath: string, file?: StoredFile): Promise<{ bytes: number }> {
    await mkdir(this.dir, { recursive: true });
    const target = path.join(this.dir, recordingName(callId, file));
    await writeFile(target, await readFile(localPath));
    return { bytes: (await stat(target)).size };
  }

  async read(callId: string, range?: ByteRange, file?: StoredFile): Promise<Readable | undefined> {
    const full = path.join(this.dir, recordingName(callId, file));
    const exists = await stat(full).catch(() => undefined);
    if (!exists) return undefined;
    return createReadStream(full, range ? { start: range.start, end: range.end } : {});
  }

  async delete(callId: string, file?: StoredFile): Promise<void> {
    await rm(path.join(this.dir, recordingName(callId, file)), { force: true });
  }
}

export class S3RecordingStore implements RecordingStore {
  readonly kind = 's3' as const;
  readonly #s3: S3Client;
  constructor(readonly opts: S3Options) {
    this.#s3 = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
        : {}),
    });
  }

  #key(callId: string, file?: StoredFile): string {
    return `${this.opts.prefix}${recordingName(callId, file)}`;
  }

  async put(callId: string, localPath: string, file: StoredFile = 'recording'): Promise<{ bytes: number }> {
    const body = await readFile(localPath);
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: this.#key(callId, file),
        Body: body,
        ContentType: CONTENT_TYPE[file],
      }),
    );
    return { bytes: body.length };
  }

  async read(callId: string, range?: ByteRange, file?: StoredFile): Promise<Readable | undefined> {
    try {
      const res = await this.#s3.send(
        new GetObjectCommand({
          Bucket: this.opts.bucket,
          Key: this.#key(callId, file),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return res.Body instanceof Readable ? res.Body : undefined;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async delete(callId: string, file?: StoredFile): Promise<void> {
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.#key(callId, file) }));
  }
}

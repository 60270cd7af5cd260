/**
 * Meta-side recording and transcription at the simulated Meta. The opt-in objects of `accept` / `connect` are
 * checked strictly; an opted-in call is "announced" (the shipped recording notice opens the recording, as both
 * parties hear it first); after the call ends, the recording (Ogg Opus: the notice, then the connected time) and a
 * transcript are made, and one `calls` webhook per file names its media id. `GET /{media-id}` and the download URL
 * need the bearer token (401 without it, 404 for an unknown id). `fail()` makes the next file of a kind FAILED.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { parseClip } from '../media/opus/clips.js';
import { writeOggOpus } from '../media/opus/ogg.js';
import { OPUS_SILENCE_FRAME, resolvePrompt } from '../media/opus/prompts.js';
import type { Logger } from '../shared/log.js';
import { type CaptureKind, mediaInfoBody, mediaItem, parseOptIn, transcriptBody } from '../shared/meta-capture.js';
import { type GraphReply, metaError } from './meta-error.js';
import type { SimCall, SimCapture } from './sim-types.js';
import { type BusinessNumber, callsEnvelope, type SendResult } from './webhook-sender.js';

interface SimMedia {
  callId: string;
  kind: CaptureKind;
  data: Buffer;
  mimeType: string;
  token: string;
}

const FRAME_SAMPLES = 960;

/**
 * Meta's announcement as the business hears it: the simulated caller's voice gives way to this tone for this long
 * after accept (or after the user picks up a business-initiated call).
 */
export const ANNOUNCEMENT_HZ = 1800;
export const ANNOUNCEMENT_MS = 2500;

/** What the capture part borrows from the simulator. */
export interface CaptureHost {
  readonly opts: { accessToken: string; business: BusinessNumber };
  readonly baseUrl: string;
  readonly logger: Logger;
  send(body: Record<string, unknown>): Promise<SendResult>;
  after(ms: number, fn: () => void): void;
  /** An injected failure for `media` (the look-up `GET /{media-id}`), see WhatsAppSimulator.inject. */
  takeInjection(action: string): { status: number; code: number; delayMs: number } | undefined;
}

export class SimCaptureService {
  /** Files Meta made, by media id. */
  readonly media = new Map<string, SimMedia>();
  /** Media webhooks sent, in order (tests read them). */
  readonly sent: {
    callId: string;
    kind: CaptureKind;
    mediaId: string;
    status: 'AVAILABLE' | 'FAILED';
    /** The HTTP status our service answered the webhook with. */
    answered?: number;
  }[] = [];
  /** `GET /{media-id}` requests per media id (a repeated webhook must not fetch twice). */
  readonly lookups = new Map<string, number>();
  readonly #failNext = new Set<CaptureKind>();
  /** Time between the end of a call and its media webhooks. */
  delayMs = 300;

  constructor(readonly host: CaptureHost) {}

  /** The next file of `kind` fails (a FAILED webhook, no media). */
  fail(kind: CaptureKind): void {
    this.#failNext.add(kind);
  }

  /**
   * Checks the opt-in objects of a `/calls` request and, when the action succeeds, marks the call. `pre_accept`,
   * `reject` and `terminate` take none (Meta records from accept or connect on).
   */
  judge(action: string, body: Record<string, unknown>, judged: () => GraphReply, calls: Map<string, SimCall>) {
    const optIn = parseOptIn(body);
    if (!optIn.ok) return metaError(400, 100, `Invalid parameter: ${optIn.problem}`);
    const asked = optIn.kinds.length > 0;
    if (asked && action !== 'accept' && action !== 'connect')
      return metaError(400, 100, `recording and transcription are chosen on accept or connect, not on ${action}`);
    const reply = judged();
    if (!asked || reply.status !== 200) return reply;
    const commit = reply.commit;
    return {
      ...reply,
      commit: () => {
        commit?.();
        const id =
          action === 'connect'
            ? (reply.body as { calls?: { id: string }[] }).calls?.[0]?.id
            : (body.call_id as string | undefined);
        const call = id ? calls.get(id) : undefined;
        if (!call) return;
        call.capture = { kinds: optIn.kinds, purpose: optIn.purpose ?? '' };
        if (action === 'accept') call.caller?.playTone?.(ANNOUNCEMENT_HZ, ANNOUNCEMENT_MS);
      },
    };
  }

  /** A call ended: its opted-in files are made and announced by webhook a little later. */
  ended(call: SimCall): void {
    const capture = call.capture;
    if (!capture || call.acceptedAt === undefined) return;
    const connectedMs = (call.endedAt ?? Date.now()) - call.acceptedAt;
    this.host.after(this.delayMs, () => {
      for (const kind of capture.kinds) void this.#publish(call, kind, capture, connectedMs);
    });
  }

  async #publish(call: SimCall, kind: CaptureKind, capture: SimCapture, connectedMs: number): Promise<void> {
    const mediaId = `${Date.now()}${randomBytes(6).readUIntBE(0, 6)}`.slice(0, 20);
    const failed = this.#failNext.delete(kind);
    if (!failed) {
      const data = kind === 'recording' ? recordingFile(connectedMs) : transcriptFile(capture.purpose, connectedMs);
      this.media.set(mediaId, {
        callId: call.callId,
        kind,
        data,
        mimeType: kind === 'recording' ? 'audio/ogg' : 'application/json',
        token: randomBytes(12).toString('base64url'),
      });
    }
    const status = failed ? 'FAILED' : 'AVAILABLE';
    const entry: (typeof this.sent)[number] = { callId: call.callId, kind, mediaId, status };
    this.sent.push(entry);
    const item = mediaItem({ callId: call.callId, kind, mediaId, status, errorCode: failed ? 131000 : undefined });
    await this.host
      .send(callsEnvelope(this.host.opts.business, [item]))
      .then((res) => {
        entry.answered = res.status;
      })
      .catch((err) => this.host.logger.warn({ err: (err as Error).message }, 'sim: media webhook not delivered'));
  }

  /** Sends a media webhook again, as Meta does when it saw no 200 (tests: duplicates). */
  resend(callId: string, kind: CaptureKind): Promise<SendResult> {
    const last = this.sent.findLast((s) => s.callId === callId && s.kind === kind);
    if (!last) throw new Error(`no ${kind} webhook was sent for ${callId}`);
    return this.host.send(callsEnvelope(this.host.opts.business, [mediaItem({ ...last, errorCode: undefined })]));
  }

  /** `GET /{version}/{media-id}` and the download URL. Registered after every other two-segment route. */
  routes(app: Hono): void {
    const authorized = (auth: string | undefined) => auth === `Bearer ${this.host.opts.accessToken}`;
    app.get('/_media/:token', (c) => {
      if (!authorized(c.req.header('authorization')))
        return c.json(metaError(401, 190, 'Invalid OAuth access token').body, 401);
      const m = [...this.media.values()].find((x) => x.token === c.req.param('token'));
      if (!m) return c.json(metaError(404, 100, 'Unknown media').body, 404);
      return c.body(new Uint8Array(m.data), 200, { 'content-type': m.mimeType });
    });
    app.get('/:version/:mediaId', async (c) => {
      if (!/^v\d+\.\d+$/.test(c.req.param('version')))
        return c.json(metaError(400, 100, `Unknown API version ${c.req.param('version')}`).body, 400);
      if (!authorized(c.req.header('authorization')))
        return c.json(metaError(401, 190, 'Invalid OAuth access token').body, 401);
      const id = c.req.param('mediaId');
      this.lookups.set(id, (this.lookups.get(id) ?? 0) + 1);
      const inj = this.host.takeInjection('media');
      if (inj?.delayMs) await new Promise((r) => setTimeout(r, inj.delayMs));
      if (inj && inj.status !== 200) {
        const failed = metaError(inj.status, inj.code || 1, `injected failure ${inj.status}`);
        return c.json(failed.body, inj.status as 500);
      }
      const m = this.media.get(id);
      if (!m) return c.json(metaError(404, 100, `Unknown media id ${id}`).body, 404);
      return c.json(
        mediaInfoBody(id, {
          url: `${this.host.baseUrl}/_media/${m.token}`,
          mimeType: m.mimeType,
          sha256: createHash('sha256').update(m.data).digest('hex'),
          fileSize: m.data.length,
        }),
      );
    });
  }
}

let notice: readonly Buffer[] | undefined;

/** The recording: the notice both parties heard, then 20 ms silence frames for the rest of the connected time. */
function recordingFile(connectedMs: number): Buffer {
  const path = resolvePrompt('recording-notice');
  notice ??= parseClip(path, readFileSync(path), 'recording-notice').frames;
  const total = Math.max(notice.length, Math.round(connectedMs / 20));
  const packets = Array.from({ length: total }, (_, i) => ({
    data: notice?.[i] ?? OPUS_SILENCE_FRAME,
    start: i * FRAME_SAMPLES,
  }));
  return writeOggOpus(packets, { serial: 0x5eed });
}

function transcriptFile(purpose: string, connectedMs: number): Buffer {
  return Buffer.from(
    JSON.stringify(
      transcriptBody([
        { speaker: 'system', startMs: 0, endMs: 3000, text: `This call is recorded for ${purpose}.` },
        { speaker: 'user', startMs: 3000, endMs: Math.max(3000, connectedMs), text: 'Hello, I have a question.' },
      ]),
    ),
  );
}

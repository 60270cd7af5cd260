import { describe, expect, it } from 'vitest';
import { mediaItem, optInBody, parseMediaInfo, parseMediaItem, parseOptIn } from './meta-capture.js';

describe('Meta capture shapes', () => {
  it('builds the opt-in objects that parse back to the same kinds, and nothing when off', () => {
    const body = optInBody({ recording: false, transcription: true, purpose: 'training', language: 'pt_BR' });
    expect(body).toEqual({ transcription: { status: 'ENABLED', purpose: 'training', announcement_language: 'pt_BR' } });
    expect(parseOptIn(body)).toEqual({ ok: true, kinds: ['transcription'], purpose: 'training' });
    expect(optInBody(undefined)).toEqual({});
  });

  it('reads the media webhook item it builds, AVAILABLE and FAILED', () => {
    const ok = parseMediaItem(
      mediaItem({ callId: 'wacid.A1', kind: 'recording', mediaId: '123', status: 'AVAILABLE', errorCode: undefined }),
    );
    expect(ok).toMatchObject({ ok: true, result: { callId: 'wacid.A1', kind: 'recording', mediaId: '123' } });
    const failed = parseMediaItem(
      mediaItem({ callId: 'wacid.A1', kind: 'transcription', mediaId: '9', status: 'FAILED', errorCode: 131000 }),
    );
    expect(failed).toMatchObject({ ok: true, result: { status: 'FAILED', errorCode: 131000 } });
  });

  it('refuses an item without its object, with an unknown status or a media id that is not an id', () => {
    const base = { id: 'wacid.A1', event: 'recording' };
    expect(parseMediaItem(base).ok).toBe(false);
    expect(parseMediaItem({ ...base, recording: { id: '1', status: 'READY' } }).ok).toBe(false);
    expect(parseMediaItem({ ...base, recording: { id: '../etc', status: 'AVAILABLE' } }).ok).toBe(false);
  });

  it('reads the media look-up and names what is wrong in it', () => {
    const good = { url: 'http://127.0.0.1:1/x', mime_type: 'audio/ogg', sha256: 'A'.repeat(64), file_size: '12' };
    expect(parseMediaInfo(good)).toEqual({
      ok: true,
      info: { url: good.url, mimeType: 'audio/ogg', sha256: 'a'.repeat(64), fileSize: 12 },
    });
    expect(parseMediaInfo({ ...good, sha256: 'abc' })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^sha256/),
    });
  });
});

import { describe, expect, it } from 'vitest';
import { unsafeMediaUrl } from './meta-capture.fetch.js';

describe('unsafeMediaUrl: where the access token may go', () => {
  const graph = 'http://127.0.0.1:4010';

  it('allows https anywhere and the Graph API host itself', () => {
    expect(unsafeMediaUrl('https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1', graph)).toBeUndefined();
    expect(unsafeMediaUrl('http://127.0.0.1:4010/_media/abc', graph)).toBeUndefined();
  });

  it('refuses plain http to another host, credentials in the URL and garbage', () => {
    expect(unsafeMediaUrl('http://evil.example/file', graph)).toMatch(/not https/);
    expect(unsafeMediaUrl('http://127.0.0.1:4011/file', graph)).toMatch(/not https/);
    expect(unsafeMediaUrl('https://u:p@cdn.example/file', graph)).toMatch(/credentials/);
    expect(unsafeMediaUrl('::nope', graph)).toBe('not a URL');
  });
});

import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('media configuration', () => {
  it('defaults to the forward engine with its measured capacity; wrtc keeps its own', () => {
    expect(loadConfig({}).media).toMatchObject({
      engine: 'forward',
      capacity: 100,
      recordingsDir: 'data/recordings/parts',
    });
    expect(loadConfig({ MEDIA_ENGINE: 'wrtc' }).media).toMatchObject({ engine: 'wrtc', capacity: 10 });
    expect(loadConfig({ MEDIA_ENGINE: 'wrtc', MEDIA_CAPACITY: '12' }).media.capacity).toBe(12);
  });

  it('an unknown MEDIA_ENGINE stops the start with a line naming the variable', () => {
    expect(() => loadConfig({ MEDIA_ENGINE: 'mediasoup' })).toThrow(/MEDIA_ENGINE: .*"mediasoup"/);
  });
});

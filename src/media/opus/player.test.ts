import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeToneFile } from '../../testing/opus-fixtures.js';
import { ClipCache, parseClip } from './clips.js';
import { packetSamples } from './packet.js';
import { Player } from './player.js';
import { ClipError } from './prompts.js';
import { DriftFreeTicker } from './ticker.js';

let dir: string;
let tone60: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'player-test-'));
  tone60 = join(dir, 'tone60.opus');
  await writeFile(tone60, await encodeToneFile(500, { seconds: 0.6, frameMs: 60 }));
  await writeFile(join(dir, 'garbage.opus'), 'this is not ogg');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Player', () => {
  it('plays a sequence of clips in order, frame by frame, then returns null', async () => {
    const cache = new ClipCache();
    const [a, b] = await cache.loadAll(['you-are-number', 'n3']);
    const player = await Player.create(['you-are-number', 'n3'], { cache });
    const frames: Buffer[] = [];
    for (let f = player.next(); f !== null; f = player.next()) frames.push(f);
    expect(frames).toEqual([...(a?.frames ?? []), ...(b?.frames ?? [])]);
    expect(player.ended).toBe(true);
    expect(player.next()).toBeNull();
    expect(frames.every((f) => packetSamples(f) === 960)).toBe(true);
  });

  it('loops forever when asked, starting over after the last clip', async () => {
    const cache = new ClipCache();
    const player = await Player.create(['n1', 'n2'], { loop: true, cache });
    const pass = player.lengthFrames;
    const first = Array.from({ length: pass }, () => player.next());
    const second = Array.from({ length: pass }, () => player.next());
    expect(second).toEqual(first);
    expect(player.ended).toBe(false);
  });

  it('a loaded clip opens as a frame source that reads it from the start each time', async () => {
    const clip = await new ClipCache().load('n7');
    expect(clip.name).toBe('n7');
    const a = clip.open();
    const b = clip.open();
    expect(a.next()).toBe(clip.frames[0]);
    expect(a.next()).toBe(clip.frames[1]);
    expect(b.next()).toBe(clip.frames[0]);
    let n = 2;
    while (a.next() !== null) n++;
    expect(n).toBe(clip.frames.length);
  });

  it('parses each clip once and shares its frames between players', async () => {
    const cache = new ClipCache();
    const [p1, p2] = await Promise.all([Player.create(['music'], { cache }), Player.create(['music'], { cache })]);
    expect(cache.size).toBe(1);
    expect(p1.next()).toBe(p2.next()); // the same Buffer, not a copy
  });

  it('splits a file of 60 ms packets into 20 ms frames without decoding', async () => {
    const clip = await new ClipCache().load(tone60);
    expect(clip.frames.length).toBeGreaterThanOrEqual(30);
    expect(clip.frames.every((f) => packetSamples(f) === 960)).toBe(true);
  });

  it('refuses a missing or invalid clip with an error naming it, and does not cache the failure', async () => {
    const cache = new ClipCache();
    await expect(Player.create(['menu', join(dir, 'missing.opus')], { cache })).rejects.toThrow(
      /no such file .*missing\.opus/,
    );
    await expect(cache.load(join(dir, 'garbage.opus'))).rejects.toThrow(/garbage\.opus is not a valid Ogg Opus file/);
    await expect(Player.create([], { cache })).rejects.toThrow(ClipError);
    await writeFile(join(dir, 'late.opus'), await encodeToneFile(300, { seconds: 0.2 }));
    await expect(cache.load(join(dir, 'late.opus'))).resolves.toBeTruthy();
  });

  it('refuses a clip whose frames are not 20 ms', async () => {
    const tenMs = await encodeToneFile(400, { seconds: 0.2, frameMs: 10 });
    expect(() => parseClip('ten.opus', tenMs)).toThrow(/10\.0 ms Opus frames/);
  });
});

describe('DriftFreeTicker', () => {
  it('delivers tick n at start + n × 20 ms whatever the timer lateness, skipping what a long stall missed', async () => {
    let fake = 1000;
    const lateness = [0, 7, 13, 3, 19, 0];
    let calls = 0;
    const ticker = new DriftFreeTicker({ now: () => fake, maxCatchUp: 3 });
    const got: [number, number][] = [];
    const stop = ticker.subscribe((i, due) => got.push([i, due]));
    // Simulate the timer firing late by driving the private tick through real timers with a controlled clock.
    for (const late of lateness) {
      fake = 1000 + calls * 20 + late;
      calls++;
      await new Promise((r) => setTimeout(r, 25));
    }
    fake += 200; // a stall of 10 periods: only 3 overdue ticks are delivered, the rest skipped
    await new Promise((r) => setTimeout(r, 25));
    stop();
    for (const [i, due] of got) expect(due).toBe(1000 + i * 20);
    const indices = got.map(([i]) => i);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    expect(new Set(indices).size).toBe(indices.length);
    expect(ticker.skipped).toBeGreaterThan(0);
    expect(indices.at(-1)).toBe(Math.floor((fake + 1 - 1000) / 20));
    expect(ticker.subscriberCount).toBe(0);
  });

  it('paces a real 20 ms clock without drift', async () => {
    const ticker = new DriftFreeTicker();
    const t0 = performance.now();
    let last = 0;
    const stop = ticker.subscribe((i) => {
      last = i;
    });
    await new Promise((r) => setTimeout(r, 1000));
    stop();
    const elapsed = performance.now() - t0;
    // Ticks delivered match elapsed time to within the catch-up window, however late each timer fired.
    expect(Math.abs(last - elapsed / 20)).toBeLessThanOrEqual(6);
  });
});

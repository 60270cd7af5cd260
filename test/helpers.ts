import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { CallContext } from '../src/machines/call.machine.js';
import type { OutboxItem } from '../src/machines/call.store.js';
import type { EffectDispatcher } from '../src/machines/deliver.js';
import { type Config, loadConfig } from '../src/shared/config.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique key prefix per test so tests never see each other's keys. */
export function testPrefix(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Removes every key a test created (its prefix and its BullMQ prefix). */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const r = new Redis(redisUrl());
  try {
    for (const pattern of [`${prefix}:*`, `{${prefix}-bull}*`, `${prefix}-sio*`]) {
      let cursor = '0';
      do {
        const [next, found] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (found.length) await r.del(...found);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}

/** The environment a test process runs with: demo credentials, loopback, a unique prefix. */
export function testEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    KEY_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    MEDIA_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    CONSOLE_BUILD: 'never',
    ...extra,
  };
}

export function testConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({ PATH: process.env.PATH, ...testEnv(prefix, extra) });
}

/** Records what would be dispatched: the test double for the I/O sinks behind the outbox. */
export class RecordingDispatcher implements EffectDispatcher {
  readonly items: { callId: string; item: OutboxItem }[] = [];
  async dispatch(callId: string, item: OutboxItem, _ctx: CallContext): Promise<void> {
    this.items.push({ callId, item });
  }
}

export async function waitUntil<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A connect offer in the shape Meta sends (from whatsapp-calling.md §3, loopback addresses). */
export const META_OFFER = [
  'v=0',
  'o=- 1760681506762 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE audio',
  'a=msid-semantic: WMS c3867497-e6f7-4408-82b7-80dbd11b94cf',
  'a=ice-lite',
  'm=audio 3484 UDP/TLS/RTP/SAVPF 111 126',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3935165743 1 udp 2122260223 127.0.0.1 3484 typ host generation 0 network-cost 50',
  'a=candidate:2617197009 1 udp 2122262783 ::1 3484 typ host generation 0 network-cost 50',
  'a=ice-ufrag:AeinEGDfvqBctbtM',
  'a=ice-pwd:F6/jjqL0/8/Dzluc0IoZEQ==',
  'a=fingerprint:sha-256 A2:EC:E2:C4:E4:FE:75:63:39:0D:77:45:DF:70:64:BC:F9:96:73:DE:F4:92:E5:78:D0:5B:1F:8F:E7:46:D3:C6',
  'a=setup:actpass',
  'a=mid:audio',
  'a=sendrecv',
  'a=msid:c3867497-e6f7-4408-82b7-80dbd11b94cf WhatsAppTrack1',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1',
  'a=rtpmap:126 telephone-event/8000',
  'a=maxptime:20',
  'a=ptime:20',
  'a=ssrc:1047224411 cname:WhatsAppAudioStream1',
  '',
].join('\r\n');

/**
 * Hostile input: over 10,000 random and mutated messages at the webhook endpoint (signed and unsigned) and at the
 * agent socket protocol. The http process must never crash, invalid messages must change nothing, memory must stay
 * bounded. Counts are printed.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/http/webhook.routes.js';
import { DEMO } from '../../src/shared/config.js';
import { callsEnvelope, connectCall, terminateCall } from '../../src/sim/webhook-sender.js';
import { BUSINESS, type ChildService, spawnRole } from '../harness.js';
import { cleanupPrefix, META_OFFER, redisUrl, testPrefix, waitUntil } from '../helpers.js';

/** A small deterministic PRNG so a failure can be replayed with the same seed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

describe('hostile input', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261125);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const junkValues: unknown[] = [
    null,
    true,
    0,
    -1,
    1e308,
    '',
    ' ',
    'a'.repeat(5000),
    '💥',
    '\u0000',
    '{}',
    [],
    [[[]]],
    { a: { b: { c: {} } } },
    'wacid.{slot}',
    'x:y',
    '../../etc',
    '<script>',
    Number.NaN,
    '1e999',
  ];
  const junk = (depth = 0): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.5) return pick(junkValues);
    if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => junk(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}`, junk(depth + 1)]));
  };

  let prefix: string;
  let http: ChildService;
  let worker: ChildService;
  let redis: Redis;
  let baselineCallId: string;
  const counts: Record<string, number> = {};
  const count = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };

  const stateFingerprint = async () => {
    // The baseline call keeps re-routing in the background (nobody takes calls here), so its version moves; what
    // must not move is what an agent or Meta could change: its state, offers, declines, agent.
    const [recent, snapshot, tombs, timeline] = await Promise.all([
      redis.zcard(`${prefix}:calls:recent`),
      redis.hget(`${prefix}:call:{${baselineCallId}}`, 'snapshot'),
      redis.keys(`${prefix}:call:*:tomb`),
      redis.lrange(`${prefix}:call:{${baselineCallId}}:timeline`, 0, -1),
    ]);
    const ctx =
      (JSON.parse(snapshot ?? '{}') as { context?: { routing?: Record<string, unknown>; agentId?: string } }).context ??
      {};
    const events = timeline.map((t) => (JSON.parse(t) as { event: string }).event);
    return {
      recent,
      tombs: tombs.length,
      state: (JSON.parse(snapshot ?? '{}') as { value?: string }).value,
      offeredAgents: ctx.routing?.offeredAgents,
      declined: ctx.routing?.declined,
      agentId: ctx.agentId ?? null,
      foreignEvents: events.filter(
        (e) => !['WA.CONNECT', 'ROUTING.NO_AGENTS', 'TIMER.FIRED', 'CALL.REROUTE'].includes(e),
      ),
    };
  };

  beforeAll(async () => {
    prefix = testPrefix();
    redis = new Redis(redisUrl());
    const env = {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      GRAPH_API_BASE_URL: 'http://127.0.0.1:9',
      CALL_ANSWER_DEADLINE_SECONDS: '600',
    };
    [http, worker] = await Promise.all([spawnRole('http', prefix, env), spawnRole('worker', prefix, env)]);
    // One real call that must not change while the fuzz runs.
    baselineCallId = 'wacid.FUZZBASELINE';
    const body = JSON.stringify(
      callsEnvelope(BUSINESS, [
        connectCall(BUSINESS, { callId: baselineCallId, from: '919800012345', sdp: META_OFFER }),
      ]),
    );
    const res = await fetch(`${http.url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, DEMO.appSecret) },
      body,
    });
    expect(res.status).toBe(200);
    await waitUntil(async () => Number(await redis.hget(`${prefix}:call:{${baselineCallId}}`, 'version')) >= 2, {
      what: 'baseline call routed',
    });
  }, 120_000);
  afterAll(async () => {
    console.info(`[fuzz] seed ${seed}; outcomes: ${JSON.stringify(counts)}`);
    await http?.stop();
    await worker?.stop();
    redis?.disconnect();
    await cleanupPrefix(prefix);
  });

  /** Mutations of a valid webhook that make it invalid: what arrives is never a usable connect/terminate. */
  const mutateWebhook = (): { raw: string; label: string } => {
    const id = `wacid.F${Math.floor(rnd() * 1e9)}`;
    const valid = callsEnvelope(BUSINESS, [
      connectCall(BUSINESS, { callId: id, from: '919800012345', sdp: META_OFFER }),
    ]);
    const json = JSON.stringify(valid);
    const call = () =>
      (valid.entry as { changes: { value: { calls: Record<string, unknown>[] } }[] }[])[0]!.changes[0]!.value.calls[0]!;
    switch (Math.floor(rnd() * 12)) {
      case 0: {
        const i = Math.floor(rnd() * json.length);
        return { raw: json.slice(0, i), label: 'truncated' };
      }
      case 1: {
        const chars = json.split('');
        for (let k = 0; k < 5; k++)
          chars[Math.floor(rnd() * chars.length)] = pick(['{', '}', '"', ',', ':', '\\', ']']);
        let raw = chars.join('');
        try {
          JSON.parse(raw);
          raw += '}'; // the flips happened to keep it valid JSON: make sure it is not
        } catch {
          // invalid JSON, as intended
        }
        return { raw, label: 'byte-flip' };
      }
      case 2:
        call().session = junk();
        return { raw: JSON.stringify(valid), label: 'bad-session' };
      case 3:
        call().id = pick(['wacid.{x}', 'a:b', '', 'x'.repeat(400), 42, null]);
        return { raw: JSON.stringify(valid), label: 'bad-id' };
      case 4:
        call().event = pick(['CONNECT', 'ring', '', null, 7]);
        return { raw: JSON.stringify(valid), label: 'bad-event' };
      case 5:
        (valid.entry as { changes: { value: Record<string, unknown> }[] }[])[0]!.changes[0]!.value.metadata = junk();
        return { raw: JSON.stringify(valid), label: 'bad-metadata' };
      case 6:
        (valid.entry as { changes: { value: { metadata: { phone_number_id: string } } }[] }[])[0]!
          .changes[0]!.value.metadata.phone_number_id = '999';
        return { raw: JSON.stringify(valid), label: 'foreign-number' };
      case 7:
        return { raw: JSON.stringify(junk()), label: 'junk' };
      case 8:
        valid.entry = junk();
        return { raw: JSON.stringify(valid), label: 'bad-entry' };
      case 9:
        call().session = { sdp_type: 'answer', sdp: META_OFFER };
        call().direction = 'BUSINESS_INITIATED';
        return { raw: JSON.stringify(valid), label: 'business-initiated' };
      case 10: {
        const t = terminateCall(BUSINESS, { callId: id, from: '1', status: 'COMPLETED' });
        t.status = pick(['DONE', 7, null, '']);
        return { raw: JSON.stringify(callsEnvelope(BUSINESS, [t])), label: 'bad-terminate' };
      }
      default:
        valid.object = pick(['page', 'instagram', 42]);
        return { raw: JSON.stringify(valid), label: 'other-object' };
    }
  };

  it('10,000+ webhook and socket messages: no crash, no state change from invalid ones, bounded memory', async () => {
    const before = await stateFingerprint();
    const rss0 = rssKb(http.proc.pid!);
    let sent = 0;
    const bad5xx: string[] = [];
    // Webhooks: half signed over their (mutated) bytes, half unsigned or signed wrongly.
    const N_WEBHOOKS = 6000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < N_WEBHOOKS) {
          next++;
          const { raw, label } = mutateWebhook();
          const signed = rnd() < 0.5;
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (signed) headers['x-hub-signature-256'] = signBody(raw, DEMO.appSecret);
          else if (rnd() < 0.5)
            headers['x-hub-signature-256'] = pick(['sha256=', 'sha1=abc', `sha256=${'0'.repeat(64)}`, 'garbage']);
          const res = await fetch(`${http.url}/webhooks/whatsapp`, { method: 'POST', headers, body: raw });
          await res.arrayBuffer();
          sent++;
          count(`webhook ${signed ? 'signed' : 'unsigned'} ${label} → ${res.status}`);
          if (res.status >= 500) bad5xx.push(`${label} ${res.status}`);
          if (!signed) expect(res.status).toBe(401);
        }
      }),
    );
    expect(bad5xx).toEqual([]);
    // A body over the limit is refused before it is read whole.
    const huge = await fetch(`${http.url}/webhooks/whatsapp`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);

    // The agent protocol: random events and payloads on an authenticated socket, and unauthenticated attempts.
    const login = await fetch(`${http.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A supervisor: never offered calls, so no random payload can be a legitimate action on the baseline call.
      body: JSON.stringify({ username: 'boss', password: 'pw' }),
    });
    const { token } = (await login.json()) as { token: string };
    const events = [
      'presence:set',
      'call:accept',
      'call:decline',
      'call:hangup',
      'rtc:offer',
      'rtc:candidate',
      'agent:sync',
      'agent:heartbeat',
      'nope',
      '__proto__',
      'constructor',
    ];
    let socket: Socket = ioClient(`${http.url}/agents`, { transports: ['websocket'], auth: { token } });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const N_SOCKET = 4200;
    for (let k = 0; k < N_SOCKET; k++) {
      if (!socket.connected) {
        socket = ioClient(`${http.url}/agents`, { transports: ['websocket'], auth: { token } });
        await new Promise<void>((r) => socket.once('connect', () => r()));
        count('socket reconnect');
      }
      const ev = pick(events);
      const payload =
        rnd() < 0.2 ? { callId: pick([baselineCallId, 'wacid.none', junk()]), ...(junk() as object) } : junk();
      const known = events.slice(0, 8).includes(ev);
      sent++;
      if (!known) {
        // The server has no handler: nothing answers, nothing happens.
        socket.emit(ev, payload);
        count('socket unknown-event → ignored');
        continue;
      }
      const ack = await new Promise<{ ok?: boolean; error?: string } | 'no-ack'>((resolve) => {
        const t = setTimeout(() => resolve('no-ack'), 5000);
        socket.emit(ev, payload, (res: { ok?: boolean; error?: string }) => {
          clearTimeout(t);
          resolve(res);
        });
      });
      count(`socket ${ev} → ${ack === 'no-ack' ? 'no-ack' : ack.ok ? 'ok' : ack.error}`);
      // Known events always answer; only heartbeat, sync and presence may succeed with nonsense.
      expect(ack).not.toBe('no-ack');
      if (ack !== 'no-ack' && ack.ok) {
        expect(
          ['agent:sync', 'agent:heartbeat', 'presence:set'],
          `${ev} ${JSON.stringify(payload)?.slice(0, 200)}`,
        ).toContain(ev);
      }
    }
    socket.close();
    for (let k = 0; k < 50; k++) {
      const s = ioClient(`${http.url}/agents`, {
        transports: ['websocket'],
        auth: { token: junk() },
        reconnection: false,
      });
      const r = await new Promise<string>((resolve) => {
        s.once('connect', () => resolve('connected'));
        s.once('connect_error', (e: Error & { data?: { code?: string } }) => resolve(e.data?.code ?? 'error'));
      });
      s.close();
      sent++;
      count(`socket bad-token → ${r}`);
      expect(r).not.toBe('connected');
    }

    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(http.proc.exitCode).toBeNull();
    expect(worker.proc.exitCode).toBeNull();
    const after = await stateFingerprint();
    expect(after).toEqual(before);
    const growthMb = (rssKb(http.proc.pid!) - rss0) / 1024;
    counts[`http RSS growth MB ${growthMb.toFixed(1)}`] = 1;
    expect(growthMb).toBeLessThan(150);
    expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
  }, 300_000);
});

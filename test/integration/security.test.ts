/**
 * Security edges found by trying the product as an attacker would:
 * - an unsigned chunked webhook body was read whole into memory (128 MiB took RSS from 128 to 502 MB);
 * - 30 bad logins from one address (every agent behind a balancer shares it) locked the whole floor out, and
 *   unknown usernames answered in 5 ms against 34–94 ms for known ones;
 * - demo mode signed tokens with a secret from the repository and would happily listen on 0.0.0.0;
 * - the inspector bridge listened on *:8484 without a token and relayed whatever any client sent;
 * - DTMF keys (PINs) were shown in clear; Bull Board's sign-in put a 12-hour token in the URL;
 * - an unknown /api path answered the console page with 200; the console had no Content-Security-Policy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AgentDirectory, hashPassword } from '../../src/agents/directory.js';
import { freePort } from '../../src/cluster/process.js';
import { createApp } from '../../src/http/app.js';
import { LoginLimiter } from '../../src/http/auth.js';
import { ClientAddress } from '../../src/http/client-address.js';
import { loadConfig } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type InProcessService, newSimulator, startInProcess } from '../harness.js';
import { cleanupPrefix, fetchCall, loginToken, META_OFFER, testPrefix, waitUntil } from '../helpers.js';

/**
 * Sends `total` bytes as a chunked POST over a raw socket, 64 KiB at a time, honouring backpressure, until the
 * server answers or closes. Returns the status line and how many bytes the server took before it answered.
 */
function chunkedPost(url: string, pathname: string, total: number): Promise<{ status: number; written: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    let written = 0;
    let answered = false;
    let response = '';
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const finish = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
      sock.destroy();
      resolve({ status: m ? Number(m[1]) : 0, written });
    };
    sock.on('data', (d) => {
      response += String(d);
      if (!answered && /\r\n\r\n/.test(response)) {
        answered = true;
        setTimeout(finish, 50);
      }
    });
    sock.on('error', () => (answered ? undefined : finish()));
    sock.on('close', () => (answered ? undefined : finish()));
    sock.once('connect', () => {
      sock.write(
        `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
      );
      const pump = () => {
        while (!answered && !sock.destroyed && written < total) {
          written += chunk.length;
          if (!sock.write(frame)) {
            sock.once('drain', pump);
            return;
          }
        }
        if (written >= total && !answered && !sock.destroyed) sock.write('0\r\n\r\n');
      };
      pump();
    });
    setTimeout(() => reject(new Error('no answer within 60 s')), 60_000).unref();
  });
}

describe('security edges', () => {
  let prefix: string;
  let sim: WhatsAppSimulator;
  let svc: InProcessService;
  let inspectPort: number;

  beforeAll(async () => {
    prefix = testPrefix();
    inspectPort = await freePort();
    sim = newSimulator();
    await sim.start();
    svc = await startInProcess(prefix, sim, {
      AGENTS_FILE: 'test/fixtures/agents.test.json',
      TRUSTED_PROXIES: '127.0.0.1/32,::1/128',
      XSTATE_INSPECT: '1',
      XSTATE_INSPECT_PORT: String(inspectPort),
    });
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
    await sim?.stop();
    await cleanupPrefix(prefix);
  });

  it('an unsigned chunked 128 MiB webhook body is cut off at the 1 MiB cap, before it is buffered', async () => {
    const rssBefore = process.memoryUsage().rss;
    const res = await chunkedPost(svc.url, '/webhooks/whatsapp', 128 * 1024 * 1024);
    expect(res.status).toBe(413);
    // The server stopped reading at the cap: what it took is the cap plus socket buffers, not the body.
    expect(res.written).toBeLessThan(24 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    // And the service goes on.
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });

  it('an API body streamed past 64 KiB is refused with a JSON 413 before it is buffered', async () => {
    const res = await chunkedPost(svc.url, '/api/login', 128 * 1024 * 1024);
    expect(res.status).toBe(413);
    expect(res.written).toBeLessThan(24 * 1024 * 1024);
    const big = await fetch(`${svc.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'a1', password: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('too-large');
  });

  it('failed logins slow down one account from one source only, with growing delays, each refusal counted', async () => {
    const attempt = (username: string, password: string, from: string) =>
      fetch(`${svc.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `${from}, 127.0.0.1` },
        body: JSON.stringify({ username, password }),
      });
    // 40 failures for other accounts from one shared address (a balancer's) lock nobody else out.
    for (let i = 0; i < 40; i++) expect((await attempt(`nobody${i}`, 'wrong', '10.0.0.9')).status).toBe(401);
    expect((await attempt('a8', 'pw', '10.0.0.9')).status).toBe(200);
    // One account from one source: five free attempts, then it waits, longer each time.
    for (let i = 0; i < 6; i++) expect((await attempt('a9', 'wrong', '10.0.0.1')).status).toBe(401);
    const refused = await attempt('a9', 'pw', '10.0.0.1');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The same agent from another source (their own desk) logs in at once.
    expect((await attempt('a9', 'pw', '10.0.0.2')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await attempt('a9', 'wrong', '10.0.0.1')).status).toBe(401);
    const second = await attempt('a9', 'pw', '10.0.0.1');
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/wacc_login_refusals_total\{reason="rate-limited"\} 2/);
    expect(metrics).toMatch(/wacc_login_refusals_total\{reason="bad-credentials"\} 47/);
  });

  it('the limiter grows its delay per pair and forgets the pair after a success', async () => {
    const limiter = new LoginLimiter(svc.core.redis, svc.core.keys, { freeAttempts: 2, maxDelayS: 8 });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) delays.push(await limiter.failed('x', '10.1.1.1', 0));
    expect(delays).toEqual([0, 0, 1, 2, 4, 8, 8]);
    await expect(limiter.check('x', '10.1.1.1', 1000)).rejects.toThrow(/wait 7 s/);
    await expect(limiter.check('x', '10.1.1.2', 1000)).resolves.toBeUndefined();
    await limiter.succeeded('x', '10.1.1.1');
    await expect(limiter.check('x', '10.1.1.1', 1000)).resolves.toBeUndefined();
  });

  it('X-Forwarded-For counts only when the peer is a trusted proxy', () => {
    const none = new ClientAddress(undefined);
    expect(none.resolve('10.0.0.5', '1.2.3.4')).toBe('10.0.0.5');
    const lb = new ClientAddress(['10.0.0.0/24']);
    expect(lb.resolve('10.0.0.5', '6.6.6.6, 1.2.3.4, 10.0.0.7')).toBe('1.2.3.4');
    expect(lb.resolve('192.168.1.1', '1.2.3.4')).toBe('192.168.1.1');
    expect(lb.resolve('::ffff:10.0.0.5', '1.2.3.4')).toBe('1.2.3.4');
  });

  it('an unknown username costs the same work as a known one with a wrong password', () => {
    const dir = new AgentDirectory([
      { id: 'hashed', name: 'H', passwordHash: hashPassword('secret'), role: 'agent' },
      { id: 'plain', name: 'P', password: 'secret', role: 'agent' },
    ]);
    // CPU time of this process (scrypt runs on this thread), not wall time: other processes on a busy machine
    // stretch the latter, not the former.
    const median = (fn: () => void) => {
      const t: number[] = [];
      for (let i = 0; i < 9; i++) {
        const s = process.cpuUsage();
        fn();
        const d = process.cpuUsage(s);
        t.push(d.user + d.system);
      }
      return t.sort((a, b) => a - b)[4]!;
    };
    const known = median(() => dir.verify('hashed', 'wrong'));
    const unknown = median(() => dir.verify('nobody', 'wrong'));
    const plain = median(() => dir.verify('plain', 'wrong'));
    // Both run one scrypt; today's unknown path took a tenth of the known one.
    expect(unknown / known).toBeGreaterThan(0.4);
    expect(plain / known).toBeGreaterThan(0.4);
    expect(dir.verify('plain', 'secret')?.id).toBe('plain');
    expect(dir.verify('hashed', 'secret')?.id).toBe('hashed');
  });

  it('demo mode signs with a random secret per start and refuses a non-loopback address unless forced', () => {
    const base = { PATH: process.env.PATH, CONSOLE_BUILD: 'never' };
    const a = loadConfig(base).auth.jwtSecret;
    const b = loadConfig(base).auth.jwtSecret;
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(() => loadConfig({ ...base, HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HOST: '0.0.0.0' })).toThrow(/DEMO_ALLOW_REMOTE/);
    expect(loadConfig({ ...base, HOST: '0.0.0.0', DEMO_ALLOW_REMOTE: '1' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...base, HOST: '::1' }).host).toBe('::1');
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/99' })).toThrow(/TRUSTED_PROXIES/);
  });

  it('the inspector bridge wants its token, takes events only from sources, and sees no caller data or DTMF', async () => {
    const token = svc.config.inspectToken;
    expect((await fetch(`http://127.0.0.1:${inspectPort}/`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${inspectPort}/?token=${token}`)).status).toBe(200);
    const refused = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${inspectPort}/`);
      ws.once('open', () => resolve(false));
      ws.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    const seen: StatelyInspectionEvent[] = [];
    createWebSocketReceiver({ server: `ws://127.0.0.1:${inspectPort}/?token=${token}` }).subscribe((e) => seen.push(e));
    // A viewer that tries to inject an event reaches nobody.
    const intruder = new WebSocket(`ws://127.0.0.1:${inspectPort}/?token=${token}`);
    await new Promise((r) => intruder.once('open', r));
    await new Promise((r) => setTimeout(r, 300));
    intruder.send(JSON.stringify({ type: '@xstate.event', sessionId: 'forged', event: { type: 'FORGED' } }));
    const { call } = await sim.placeCall({ sdp: META_OFFER, name: 'Secret Name' });
    await waitUntil(() => svc.core.store.load(call.callId), { what: 'the call to exist' });
    for (const digit of ['4', '2', '#']) {
      await svc.core.deliverer.deliver(call.callId, { type: 'MEDIA.DTMF', digit, at: Date.now() });
    }
    await waitUntil(() => JSON.stringify(seen).includes('MEDIA.DTMF'), { what: 'DTMF events at the inspector' });
    intruder.close();
    const all = JSON.stringify(seen);
    expect(all).not.toContain('FORGED');
    expect(all).not.toContain('Secret Name');
    expect(all).not.toContain(call.from);
    expect(all).not.toMatch(/digit=[0-9#]|"dtmf":"42#"/);
    // The API masks the keys too.
    const boss = await loginToken(svc.url, 'boss', 'pw');
    const d: CallDetail = await fetchCall(svc.url, boss, call.callId);
    expect(d.dtmf).toBe('•••');
    expect(d.timeline.filter((t) => t.event === 'MEDIA.DTMF').map((t) => t.detail)).toEqual([
      'digit=•',
      'digit=•',
      'digit=•',
    ]);
    await sim.hangup(call.callId);
  });

  it('Bull Board signs in with a POSTed token (never one in the URL); the cookie is Secure behind HTTPS', async () => {
    const boss = await loginToken(svc.url, 'boss', 'pw');
    const viaUrl = await fetch(`${svc.url}/admin/login?token=${boss}`, { redirect: 'manual' });
    expect(viaUrl.status).toBe(405);
    expect(viaUrl.headers.get('set-cookie')).toBeNull();
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${svc.url}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ token: boss }).toString(),
      });
    const res = await post();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toMatch(/Secure/i);
    expect((await post({ 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    const page = await fetch(`${svc.url}/admin/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const agent = await loginToken(svc.url, 'a1', 'pw');
    const asAgent = await fetch(`${svc.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: agent }).toString(),
    });
    expect(asAgent.status).toBe(403);
  });

  it('an unknown /api path is a JSON 404 next to a built console, which carries a Content-Security-Policy', async () => {
    const webRoot = mkdtempSync(path.join(os.tmpdir(), 'console-'));
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>console</title>');
    const { core } = svc;
    const app = createApp({
      config: svc.config,
      logger: silentLogger,
      metrics: core.metrics,
      redis: core.redis,
      store: core.store,
      index: core.index,
      deliverer: core.deliverer,
      ingest: undefined as never,
      tokens: core.tokens,
      directory: core.directory,
      limiter: new LoginLimiter(core.redis, core.keys),
      presence: core.presence,
      actions: core.actions,
      webRoot,
    });
    const missing = await app.request('/api/no-such-thing');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not-found');
    expect((await app.request('/api/calls/x/nope', { method: 'POST' })).status).toBe(404);
    const page = await app.request('/some/console/route');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
  });
});

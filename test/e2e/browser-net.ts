import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { MIC_HZ } from './console-helpers.js';

/**
 * Chromium for the browser tests: a network namespace of its own (so its media can only flow over the test's link)
 * and a fake microphone playing a known tone.
 */

const CHROMIUM = '/usr/bin/chromium';
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // For a Chromium outside a namespace of its own (startConsoleRig gives it one; see createBrowserNet): loopback
  // only. Chromium gathers 127.0.0.1 / ::1 candidates only with this switch, but on its own it is not enough: libwebrtc ranks pairs by network cost before priority, and a
  // loopback adapter costs 50 against 0 for eth0, so Chromium nominates eth0 address → media node loopback, and
  // the node answers that peer-reflexive eth0 address. The IP handling policy turns off adapter enumeration:
  // Chromium binds wildcard sockets and signals only its default-route address (which the media node drops, it is
  // outside MEDIA_ALLOWED_NETWORKS); its checks to the node's loopback candidates leave from a loopback source, so
  // the pair that connects is prflx 127.0.0.1 / ::1 ↔ host 127.0.0.1 / ::1 on both sides. Tests check that pair.
  '--allow-loopback-in-peer-connection',
  '--webrtc-ip-handling-policy=default_public_and_private_interfaces',
];

/**
 * A network namespace of Chromium's own, so that no media goes to the machine's interface address: a veth pair
 * (host side `hostIp`, namespace side `nsIp`, a /30 the test draws at random in 10.231.0.0/16), the namespace's
 * default route via the host side, and Chromium started through `ip netns exec`. The service listens on `hostIp`
 * and MEDIA_ALLOWED_NETWORKS covers the link, so the only way media can flow is over it. Needs root and iproute2.
 */
export interface BrowserNet {
  name: string;
  hostIp: string;
  nsIp: string;
  cidr: string;
  /** A script that runs Chromium inside the namespace (Playwright's executablePath). */
  executable: string;
  close(): void;
}

export function createBrowserNet(): BrowserNet {
  const tag = randomBytes(3).toString('hex');
  const name = `wacc-e2e-${tag}`;
  const [hostEnd, nsEnd] = [`wc${tag}h`, `wc${tag}n`];
  const block = randomInt(0, 16_384) * 4;
  const base = `10.231.${Math.floor(block / 256)}.`;
  const last = block % 256;
  const hostIp = `${base}${last + 1}`;
  const nsIp = `${base}${last + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsEnd);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostIp);
  } catch (err) {
    try {
      ip('netns', 'del', name);
    } catch {}
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(
      `browser tests give Chromium a network namespace of its own (ip netns, veth) and need root and iproute2: ${why}`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'e2e-netns-'));
  const executable = path.join(dir, 'chromium');
  writeFileSync(executable, `#!/bin/sh\nexec ip netns exec ${name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  let closed = false;
  return {
    name,
    hostIp,
    nsIp,
    cidr: `${base}${last}/30`,
    executable,
    close() {
      if (closed) return;
      closed = true;
      // Deleting the namespace takes its veth end, and with it the host's.
      try {
        ip('netns', 'del', name);
      } catch {}
      try {
        ip('link', 'del', hostEnd);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The service's env for Chromium in `net`: it listens on the link's host end at `port` (the demo's loopback-only
 * rule is lifted for it) and media is allowed on loopback (the simulated callers) and the link.
 */
export const linkEnv = (net: BrowserNet, port: number): Record<string, string> => ({
  HOST: net.hostIp,
  PORT: String(port),
  DEMO_ALLOW_REMOTE: '1',
  MEDIA_ALLOWED_NETWORKS: `127.0.0.0/8,::1/128,${net.cidr}`,
});

/** Is `address` one end of the test's own link (where all of Chromium's media must flow)? */
export const onTestLink = (net: BrowserNet, address: string): boolean => address === net.hostIp || address === net.nsIp;

/** Writes `seconds` of a sine at `hz` as a 48 kHz mono 16-bit WAV (what Chromium's fake capture device plays). */
export function writeToneWav(file: string, hz: number, seconds = 10): void {
  const rate = 48_000;
  const n = rate * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  // A whole number of cycles (integer hz × seconds), so the loop has no click.
  for (let i = 0; i < n; i++)
    buf.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  writeFileSync(file, buf);
}

/**
 * Chromium with a fake microphone that plays a {@link MIC_HZ} tone (a WAV in a temp dir, removed with the browser).
 * `micPrompt: 'deny'` leaves out the flag that auto-accepts the permission prompt (headless then denies:
 * NotAllowedError); `device: false` leaves out the fake device (NotFoundError).
 */
export async function launchChromium(
  opts: { micPrompt?: 'accept' | 'deny'; device?: boolean; net?: BrowserNet | undefined; origin?: string } = {},
): Promise<Browser> {
  const args = [...BASE_ARGS];
  // The console is served on the link's host address: plain http there is not a secure context (no microphone)
  // unless Chromium is told to treat that one origin as one.
  if (opts.origin) args.push(`--unsafely-treat-insecure-origin-as-secure=${opts.origin}`);
  let dir: string | undefined;
  if (opts.device !== false) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'e2e-mic-'));
    const wav = path.join(dir, `tone-${MIC_HZ}.wav`);
    writeToneWav(wav, MIC_HZ);
    args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`);
  }
  if (opts.micPrompt !== 'deny') args.push('--use-fake-ui-for-media-stream');
  const browser = await chromium.launch({ executablePath: opts.net?.executable ?? CHROMIUM, args });
  if (dir) {
    const tmp = dir;
    browser.on('disconnected', () => rmSync(tmp, { recursive: true, force: true }));
  }
  return browser;
}

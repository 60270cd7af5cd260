/**
 * docker-compose.yml, read as Docker would (no daemon here). The compose demo could not work: an empty
 * GRAPH_API_BASE_URL made workers call Meta with the demo token while each http replica started its own simulator;
 * media replicas on host networking got the same node id (host name plus pid 1); worker and media served no
 * /metrics; Redis was published on 6379, clashing with a host Redis; nothing terminated TLS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultNodeId } from '../../src/roles/media.role.js';
import { loadConfig } from '../../src/shared/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  network_mode?: string;
  volumes?: string[];
}

/** The file as YAML (merge keys resolved) through PyYAML, which the machine has (python3-yaml). */
function readCompose(): { services: Record<string, Service> } {
  const json = execFileSync(
    'python3',
    ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: readFileSync(path.join(ROOT, 'docker-compose.yml')), encoding: 'utf8' },
  );
  return JSON.parse(json);
}

/** `${VAR:-default}` → default (what compose does with nothing set in the caller's environment). */
function withDefaults(env: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')]),
  );
}

const configOf = (svc: Service, role: string) =>
  loadConfig({ ...withDefaults(svc.environment), ROLE: role, AGENTS_FILE: '', PATH: process.env.PATH });

describe('docker-compose.yml', () => {
  const { services } = readCompose();

  it('the demo works: workers and http replicas all talk to one simulator service, which posts to the balancer', () => {
    const sim = services.sim!;
    expect(sim.command).toEqual(expect.arrayContaining(['src/sim/cli.ts', 'serve', '--host', '0.0.0.0']));
    expect(sim.command!.join(' ')).toMatch(/--port 3001 .*--webhook http:\/\/lb:8080\/webhooks\/whatsapp/);
    const worker = configOf(services.worker!, 'worker');
    expect(worker.demo).toBe(true);
    expect(worker.graph.baseUrl).toBe('http://sim:3001');
    const http = configOf(services.http!, 'http');
    // Set, so no http replica starts a simulator of its own; demo calls go to the shared one.
    expect(http.graphBaseUrlSet).toBe(true);
    expect(http.graph.baseUrl).toBe('http://sim:3001');
    // Outside the demo the same file talks to Meta.
    const real = loadConfig({
      ...withDefaults(services.worker!.environment),
      ROLE: 'worker',
      AGENTS_FILE: '',
      WHATSAPP_APP_SECRET: 's',
      WHATSAPP_VERIFY_TOKEN: 'v',
      WHATSAPP_ACCESS_TOKEN: 't',
      WHATSAPP_PHONE_NUMBER_ID: '1',
      JWT_SECRET: 'x'.repeat(32),
    });
    expect(real.graph.baseUrl).toBe('https://graph.facebook.com');
  });

  it('every role loads its configuration from the file as written', () => {
    for (const [name, role] of [
      ['http', 'http'],
      ['worker', 'worker'],
      ['media', 'media'],
    ] as const) {
      expect(() => configOf(services[name]!, role), name).not.toThrow();
    }
  });

  it('media nodes get distinct ids and, like workers, serve /metrics', () => {
    const media = services.media!;
    expect(media.network_mode).toBe('host');
    expect(media.environment?.MEDIA_NODE_ID).toBeUndefined();
    const ids = new Set(Array.from({ length: 20 }, () => defaultNodeId()));
    expect(ids.size).toBe(20);
    expect(configOf(media, 'media').metricsPort).toBe(9200);
    expect(configOf(services.worker!, 'worker').metricsPort).toBe(9100);
  });

  it('Redis is published on the host loopback on a port other than 6379, and the media nodes use that port', () => {
    const ports = services.redis!.ports!;
    expect(ports).toHaveLength(1);
    const [host, published] = withDefaults({ p: ports[0]! }).p!.split(':');
    expect(host).toBe('127.0.0.1');
    expect(published).not.toBe('6379');
    expect(configOf(services.media!, 'media').redis.url).toBe(`redis://127.0.0.1:${published}`);
  });

  it('a TLS front (Caddy) takes 443 and passes everything to the balancer, which forwards the client address', () => {
    const tls = services.tls!;
    expect(tls.image).toMatch(/^caddy:/);
    expect(tls.ports).toContain('443:443');
    const caddyfile = readFileSync(path.join(ROOT, 'deploy/Caddyfile'), 'utf8');
    expect(caddyfile).toMatch(/reverse_proxy lb:8080/);
    expect(readFileSync(path.join(ROOT, 'deploy/haproxy.cfg'), 'utf8')).toMatch(/option forwardfor/);
    // The balancer itself is on the host's loopback only.
    expect(withDefaults({ p: services.lb!.ports![0]! }).p).toMatch(/^127\.0\.0\.1:/);
    expect(configOf(services.http!, 'http').trustedProxies).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    expect(configOf(services.http!, 'http').publicUrl).toMatch(/^https:/);
  });

  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  it.skipIf(compose.status !== 0)('docker compose config accepts the file (client-side check)', () => {
    const r = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

/**
 * Drill: Redis restarts under a running cluster (its own redis-server with an append-only file, so the restart keeps
 * the data). Everything reconnects; a live call goes on and ends normally; a ringing call still meets its deadline;
 * nothing is stuck.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { reportBothWays } from '../../src/audio/audio-peer.js';
import { type Cluster, startCluster } from '../../src/cluster/cluster.js';
import { freePort } from '../../src/cluster/process.js';
import { nowMs } from '../../src/rtc/clock.js';
import { redisAnswers } from '../../src/shared/embedded-redis.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { TestAgent } from '../../src/testing/agent-harness.js';
import { newSimulator } from '../harness.js';
import { loginToken, META_OFFER, testPrefix, waitUntil } from '../helpers.js';

describe('Redis restarts under a running cluster', () => {
  let dir: string;
  let port: number;
  let redis: ChildProcess;
  let sim: WhatsAppSimulator;
  let cluster: Cluster;
  let boss: string;
  const agents: TestAgent[] = [];

  const startRedis = () =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
  const detail = async (id: string) =>
    (await (
      await fetch(`${cluster.url}/api/calls/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${boss}` },
      })
    ).json()) as CallDetail;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wacc-restart-'));
    port = await freePort();
    redis = startRedis();
    await waitUntil(() => redisAnswers(`redis://127.0.0.1:${port}`), { what: 'redis' });
    sim = newSimulator({ callerFactory: createCallerFactory({ markers: true, watchHz: [660] }) });
    await sim.start();
    cluster = await startCluster({
      http: 1,
      worker: 1,
      media: 1,
      sim: false,
      port: 0,
      redisUrl: `redis://127.0.0.1:${port}`,
      env: {
        KEY_PREFIX: testPrefix(),
        GRAPH_API_BASE_URL: sim.baseUrl,
        AGENTS_FILE: 'test/fixtures/agents.test.json',
        MEDIA_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
        WRAP_UP_SECONDS: '0',
        WORKER_LOCK_MS: '3000',
        CALL_ANSWER_DEADLINE_SECONDS: '20',
      },
    });
    sim.setWebhookUrl(`${cluster.url}/webhooks/whatsapp`);
    boss = await loginToken(cluster.url, 'boss', 'pw');
  }, 180_000);
  afterAll(async () => {
    for (const a of agents) a.close();
    await cluster?.stop();
    await sim?.stop();
    redis?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('reconnects everything; the live call continues and the ringing call still ends at its deadline', async () => {
    const a1 = await TestAgent.connect(cluster.url, 'a1', { password: 'pw' });
    agents.push(a1);
    const { call } = await sim.placeCall({ name: 'Live' });
    await a1.offered(call.callId);
    expect((await a1.client.accept(call.callId)).ok).toBe(true);
    const peer = await a1.startMedia(call.callId, { markers: true, watchHz: [440] });
    await call.waitFor('accepted', 20_000);
    await waitUntil(() => a1.live.includes(call.callId), { what: 'live' });
    // A second call rings nobody (a1 is busy): its answer deadline is a delayed job that must survive the restart.
    const ringing = (await sim.placeCall({ sdp: META_OFFER, name: 'Waiting' })).call;
    await waitUntil(async () => (await detail(ringing.callId)).state === 'ringing', { what: 'ringing call' });

    const outageStart = nowMs();
    expect(spawnSync('redis-cli', ['-p', String(port), 'shutdown'], { encoding: 'utf8' }).status).toBe(0);
    await waitUntil(async () => !(await redisAnswers(`redis://127.0.0.1:${port}`)), { what: 'redis down' });
    await new Promise((r) => setTimeout(r, 2000));
    redis = startRedis();
    await waitUntil(() => redisAnswers(`redis://127.0.0.1:${port}`), { what: 'redis back' });
    await waitUntil(async () => (await fetch(`${cluster.url}/readyz`)).status === 200, {
      what: 'readyz',
      timeoutMs: 30_000,
    });

    // Media never depended on Redis: no marker was lost through the outage, either way.
    await new Promise((r) => setTimeout(r, 1000));
    const until = nowMs();
    await drainAnalysis();
    const { atAgent, atCaller } = reportBothWays(call.caller as CallerPeer, peer, { since: outageStart, until });
    expect(atAgent.markers?.missing).toEqual([]);
    expect(atCaller.markers?.missing).toEqual([]);
    expect((await detail(call.callId)).state).toBe('live');

    // Signaling works again (the socket, the adapter, the workers): the agent hangs up normally.
    expect((await a1.client.hangup(call.callId)).ok).toBe(true);
    await call.waitFor('ended', 15_000);
    await waitUntil(async () => (await detail(call.callId)).state === 'ended', { what: 'live call ended' });
    expect((await detail(call.callId)).reason).toBe('completed');
    expect(sim.okActions(call.callId, 'terminate')).toBe(1);

    // The ringing call met its deadline: missed, one reject. (a1 became free when the first call ended, and may
    // have been offered it: then it still ends by its deadline, as a1 does not answer.)
    const d = await waitUntil(
      async () => {
        const x = await detail(ringing.callId);
        return x.state === 'ended' ? x : undefined;
      },
      { what: 'ringing call to end', timeoutMs: 30_000 },
    );
    expect(d.reason).toBe('missed');
    await waitUntil(() => sim.okActions(ringing.callId, 'reject') > 0, { what: 'the reject to reach Meta' });
    expect(sim.okActions(ringing.callId, 'reject')).toBe(1);
  });
});

/**
 * Failure drills on the multi-process topology (`npm run cluster`'s: 2 http behind a TCP balancer, 2 workers,
 * 2 media nodes). Each drill asserts that no call is lost or stranded and that Meta (the simulator) sees each
 * action once.
 */
import os from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysis } from '../../src/audio/analyzer.js';
import { reportBothWays } from '../../src/audio/audio-peer.js';
import type { Cluster } from '../../src/cluster/cluster.js';
import type { RoleProcess } from '../../src/cluster/process.js';
import { nowMs } from '../../src/rtc/clock.js';
import type { CallDetail } from '../../src/shared/rest-types.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { CallerPeer } from '../../src/sim/caller-peer.js';
import type { WhatsAppSimulator } from '../../src/sim/simulator.js';
import { callsEnvelope, connectCall, terminateCall } from '../../src/sim/webhook-sender.js';
import type { TestAgent } from '../../src/testing/agent-harness.js';
import { BUSINESS, type DrillCluster, startDrillCluster } from '../harness.js';
import { META_OFFER, waitForCallState, waitUntil } from '../helpers.js';

describe('failure drills on the cluster topology', () => {
  let drill: DrillCluster;
  let prefix: string;
  let sim: WhatsAppSimulator;
  let cluster: Cluster;
  let boss: string;
  let agents: readonly TestAgent[];

  const api = async <T>(path: string, init: RequestInit = {}) => {
    const res = await fetch(`${cluster.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${boss}`, ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const detail = async (id: string) => (await api<CallDetail>(`/api/calls/${encodeURIComponent(id)}`)).body;
  const ended = (id: string, timeoutMs = 20_000) => waitForCallState(cluster.url, boss, id, 'ended', timeoutMs);
  const agent = (id: string) => drill.agent(id);
  /** Places a call with audio and markers; `a` accepts and opens media; resolves once live. */
  const liveCall = async (a: TestAgent) => {
    const { call } = await sim.placeCall({ name: 'Drill' });
    await a.offered(call.callId, 15_000);
    const ack = await a.client.accept(call.callId);
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    const peer = await a.startMedia(call.callId, { markers: true, watchHz: [440] });
    await call.waitFor('accepted', 30_000);
    await waitUntil(() => a.live.includes(call.callId), { what: 'call:live', timeoutMs: 15_000 });
    return { call, peer, caller: call.caller as CallerPeer };
  };
  const byPid = (procs: RoleProcess[], pid: number) => procs.find((p) => p.proc.pid === pid);

  beforeAll(async () => {
    drill = await startDrillCluster({
      sim: { callerFactory: createCallerFactory({ markers: true, watchHz: [660] }), answerWindowMs: 120_000 },
      http: 2,
      worker: 2,
      media: 2,
      env: {
        GRAPH_TIMEOUT_MS: '1500',
        CALL_ANSWER_DEADLINE_SECONDS: '15',
        ACCEPT_DEADLINE_SECONDS: '15',
        LOG_LEVEL: 'info',
      },
    });
    ({ prefix, sim, cluster, boss, agents } = drill);
  }, 180_000);
  afterAll(() => drill?.stop(), 120_000);

  it('SIGKILL the http replica holding a live agent socket: the agent reconnects to the other and the call goes on', async () => {
    const a1 = await agent('a1');
    const { call, peer, caller } = await liveCall(a1);
    const holder = cluster.http.find((h) =>
      /"agentId":"a1"[^\n]*agent socket connected|agent socket connected[^\n]*"agentId":"a1"/.test(h.output()),
    );
    expect(holder).toBeDefined();
    const connectsBefore = a1.client.status.connects;
    const killedAt = nowMs();
    holder!.proc.kill('SIGKILL');
    await waitUntil(() => a1.client.status.connects > connectsBefore, {
      what: 'the agent socket to reconnect',
      timeoutMs: 15_000,
    });
    // The session the other replica sends knows the live call.
    await waitUntil(() => a1.client.session?.activeCall?.callId === call.callId, {
      what: 'the session to carry the call',
    });
    await new Promise((r) => setTimeout(r, 1500));
    const until = nowMs();
    await drainAnalysis();
    // Audio never stopped: every marker sent since the kill arrived, both ways.
    const { atAgent, atCaller } = reportBothWays(caller, peer, { since: killedAt, until });
    expect(atAgent.markers?.missing).toEqual([]);
    expect(atCaller.markers?.missing).toEqual([]);
    expect(atAgent.markers?.expected).toBeGreaterThanOrEqual(10);
    expect((await detail(call.callId)).state).toBe('live');
    // And it ends normally over the new socket.
    expect((await a1.client.hangup(call.callId)).ok).toBe(true);
    const d = await ended(call.callId);
    expect(d.reason).toBe('completed');
    await call.waitFor('ended', 10_000); // the terminate job reaches Meta after the actor has ended
    expect(
      sim
        .actionsFor(call.callId)
        .filter((a) => a.ok)
        .map((a) => a.action),
    ).toEqual(['pre_accept', 'accept', 'terminate']);
    await cluster.add('http'); // back to two replicas
  });

  it('SIGKILL a worker mid-job: the job is retried by the other worker and Meta sees the action once', async () => {
    const a2 = await agent('a2');
    const conn = new Redis(cluster.redisUrl);
    const graph = new Queue('graph', { connection: conn, prefix: `{${prefix}-bull}` });
    try {
      // Meta takes 2.5 s to answer this accept: the worker sending it is killed meanwhile.
      sim.inject({ action: 'accept', delayMs: 2500 });
      const reached = new Promise<void>((resolve) =>
        sim.requests.on('request', ({ action }: { action: string }) => action === 'accept' && resolve()),
      );
      const { call } = await sim.placeCall({ name: 'Drill' });
      await a2.offered(call.callId, 15_000);
      expect((await a2.client.accept(call.callId)).ok).toBe(true);
      await a2.startMedia(call.callId, { watchHz: [440] });
      await reached;
      const job = (await graph.getActive()).find((j) => j.data.callId === call.callId && j.data.action === 'accept');
      expect(job?.processedBy).toBeDefined();
      const pid = Number(job!.processedBy!.slice(job!.processedBy!.lastIndexOf('-') + 1));
      expect(job!.processedBy!.startsWith(os.hostname())).toBe(true);
      const victim = byPid(cluster.worker, pid);
      expect(victim).toBeDefined();
      victim!.proc.kill('SIGKILL');
      await call.waitFor('accepted', 20_000);
      await waitUntil(async () => (await detail(call.callId)).state === 'live', {
        what: 'live after the retry',
        timeoutMs: 30_000,
      });
      expect(sim.okActions(call.callId, 'accept')).toBe(1);
      await a2.client.hangup(call.callId);
      await ended(call.callId);
      await call.waitFor('ended', 10_000); // the terminate job reaches Meta after the actor has ended
      expect(sim.okActions(call.callId, 'terminate')).toBe(1);
    } finally {
      await graph.close();
      conn.disconnect();
    }
    await cluster.add('worker');
  });

  it('SIGKILL a media node: only its calls end, cleanly, within 10 s; the others are unaffected', async () => {
    const [a3, a4] = await Promise.all([agent('a3'), agent('a4')]);
    const first = await liveCall(a3);
    const second = await liveCall(a4);
    const [n1, n2] = [(await detail(first.call.callId)).mediaNodeId, (await detail(second.call.callId)).mediaNodeId];
    expect(n1).not.toBe(n2);
    const victim = cluster.media.find((m) => m.output().includes(`"nodeId":"${n1}"`))!;
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    const d = await ended(first.call.callId, 12_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(d.reason).toBe('media-failed');
    await first.call.waitFor('ended', 5000);
    expect(sim.okActions(first.call.callId, 'terminate')).toBe(1);
    expect((await detail(second.call.callId)).state).toBe('live');
    const since = nowMs();
    await new Promise((r) => setTimeout(r, 1200));
    const until = nowMs();
    await drainAnalysis();
    expect(reportBothWays(second.caller, second.peer, { since, until }).atAgent.markers?.missing).toEqual([]);
    await a4.client.hangup(second.call.callId);
    await ended(second.call.callId);
    await cluster.add('media');
  });

  it('a storm of 500 webhooks with duplicates, batches and terminate-before-connect: every call ends right, each action once', async () => {
    // No agent takes calls here: everyone who might is made away first.
    for (const a of agents) await a.client.setPresence('away');
    const calls: Awaited<ReturnType<WhatsAppSimulator['placeCall']>>['call'][] = [];
    for (let i = 0; i < 200; i++) calls.push((await sim.placeCall({ sdp: META_OFFER, deliver: false })).call);
    const hungUp = new Set(calls.slice(0, 150).map((c) => c.callId));
    type Item = { body: Record<string, unknown>; before?: string; after?: string };
    const items: Item[] = [];
    for (const c of calls) {
      const connect = { body: connectCall(BUSINESS, { callId: c.callId, from: c.from, sdp: META_OFFER }) };
      items.push(connect);
      if (items.length % 2 === 0) items.push({ ...connect }); // a duplicate delivery
      if (hungUp.has(c.callId)) {
        const term = {
          body: terminateCall(BUSINESS, { callId: c.callId, from: c.from, status: 'COMPLETED' as const }),
        };
        items.push(term);
        if (items.length % 3 === 0) items.push({ ...term });
      }
    }
    // Shuffle, then group into 500 webhooks (some batches carry several items).
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const posts: Record<string, unknown>[][] = Array.from({ length: 500 }, () => []);
    for (const [i, it] of items.entries()) posts[i < 500 ? i : Math.floor(Math.random() * 500)]!.push(it.body);
    const terminatesFirst = calls.filter((c) => {
      const first = items.findIndex((x) => (x.body as { id: string }).id === c.callId);
      return (items[first]!.body as { event: string }).event === 'terminate';
    }).length;
    expect(terminatesFirst).toBeGreaterThan(10);
    let i = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < posts.length) {
          const batch = posts[i++]!;
          statuses.push((await sim.sender.send(callsEnvelope(BUSINESS, batch))).status);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(500);
    // Every call ends: hung-up ones as caller-hung-up (no action at Meta), the rest missed with one reject each.
    await waitUntil(
      async () => {
        const list = await Promise.all(calls.map((c) => detail(c.callId)));
        return list.every((d) => d.state === 'ended');
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'every storm call to end' },
    );
    // Each missed call's reject job reaches Meta just after its actor ended.
    await waitUntil(() => calls.every((c) => hungUp.has(c.callId) || sim.okActions(c.callId, 'reject') > 0), {
      timeoutMs: 20_000,
      what: 'every missed call rejected at Meta',
    });
    for (const c of calls) {
      const d = await detail(c.callId);
      expect(d.reason).toBe(hungUp.has(c.callId) ? 'caller-hung-up' : 'missed');
      expect(d.timeline.filter((t) => t.event === 'WA.CONNECT')).toHaveLength(1);
      const okRejects = sim.okActions(c.callId, 'reject');
      expect(okRejects).toBe(hungUp.has(c.callId) ? 0 : 1);
      expect(sim.actionsFor(c.callId).filter((a) => a.action !== 'reject')).toEqual([]);
    }
    for (const a of agents) await a.client.setPresence('online');
  }, 180_000);

  it('Graph API answering 500s, then timing out, then recovering: accept lands once and the call goes live', async () => {
    const a5 = await agent('a5');
    sim.inject({ action: 'accept', status: 500, times: 2 });
    sim.inject({ action: 'accept', delayMs: 2500 }); // longer than GRAPH_TIMEOUT_MS (1.5 s)
    const { call } = await liveCall(a5);
    const accepts = sim.actionsFor(call.callId, 'accept').map((a) => a.status);
    expect(accepts.slice(0, 2)).toEqual([500, 500]);
    expect(accepts.filter((s) => s === 200)).toHaveLength(1);
    expect(sim.okActions(call.callId, 'accept')).toBe(1);
    const d = await detail(call.callId);
    expect(d.state).toBe('live');
    await a5.client.hangup(call.callId);
    await ended(call.callId);
  });

  it('no log line of any process carries an SDP body, a token, a secret or a full phone number', async () => {
    const logs = [...cluster.http, ...cluster.worker, ...cluster.media].map((p) => p.output()).join('\n');
    expect(logs.length).toBeGreaterThan(10_000);
    expect(logs).not.toMatch(/a=fingerprint|a=ice-pwd|a=candidate|v=0\\r\\n|m=audio/);
    expect(logs).not.toMatch(/eyJhbGciOi/); // a JWT
    expect(logs).not.toContain('demo-access-token');
    expect(logs).not.toContain('demo-app-secret');
    expect(logs).not.toContain('demo-jwt-secret');
    const numbers = [...sim.calls.values()].map((c) => c.from);
    expect(numbers.length).toBeGreaterThan(100);
    for (const n of numbers) expect(logs.includes(n), `full number ${n.slice(0, 4)}… in a log`).toBe(false);
  });
});

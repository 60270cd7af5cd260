/**
 * Queue drills on the multi-process topology (2 http behind the balancer, 2 workers, 1 forward media node): an
 * http replica and a worker are SIGKILLed while callers wait in the queue. No caller is lost and the order of
 * service is still the order of entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/cluster/cluster.js';
import { createCallerFactory } from '../../src/sim/caller-factory.js';
import type { SimCall, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type DrillCluster, startDrillCluster } from '../harness.js';
import { fetchCall, waitUntil } from '../helpers.js';
import { autoAnswer } from '../queue-agents.js';

describe('queue drills on the cluster topology', () => {
  let drill: DrillCluster;
  let sim: WhatsAppSimulator;
  let cluster: Cluster;
  let boss: string;

  const detail = (id: string) => fetchCall(cluster.url, boss, id);

  beforeAll(async () => {
    drill = await startDrillCluster({
      sim: { callerFactory: createCallerFactory({ watchHz: [660] }), mediaWatchdogMs: 0 },
      http: 2,
      worker: 2,
      media: 1,
      env: {
        GRAPH_TIMEOUT_MS: '1500',
        ROUTING_FILE: 'test/fixtures/routing.queue.json',
        MEDIA_ENGINE: 'forward',
        LOG_LEVEL: 'info',
      },
    });
    ({ sim, cluster, boss } = drill);
  }, 180_000);
  afterAll(() => drill?.stop(), 120_000);

  it('SIGKILL an http replica and a worker while callers wait: none is lost and they are served in order', async () => {
    const calls: SimCall[] = [];
    const place = async (n: number) => {
      for (let i = 0; i < n; i++) {
        calls.push((await sim.placeCall({ name: `Waiting ${calls.length}` })).call);
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    // Nobody is online: every caller is answered by the business and waits.
    await place(6);
    for (const c of calls) await c.waitFor('accepted', 15_000);
    await waitUntil(
      async () => (await Promise.all(calls.map((c) => detail(c.callId)))).every((d) => d.state === 'queued'),
      {
        what: 'six callers queued',
      },
    );
    cluster.http[0]!.proc.kill('SIGKILL');
    cluster.worker[0]!.proc.kill('SIGKILL');
    // More callers arrive while a replica and a worker are gone.
    await place(2);
    for (const c of calls.slice(6)) await c.waitFor('accepted', 20_000);

    const violations: string[] = [];
    const served: string[] = [];
    for (const id of ['a1', 'a2']) autoAnswer(await drill.agent(id), violations, served);
    for (const c of calls) await c.waitFor('ended', 90_000);
    const details = await Promise.all(calls.map((c) => detail(c.callId)));
    expect(violations).toEqual([]);
    expect(served).toHaveLength(calls.length);
    for (const d of details) expect(d.reason, d.id).toBe('completed');
    const byEntry = [...details].sort((a, b) => a.createdAt - b.createdAt);
    const offered = byEntry.map((d) => d.offeredAt!);
    expect(offered).toEqual([...offered].sort((a, b) => a - b));
    for (const c of calls) {
      expect(
        sim
          .actionsFor(c.callId)
          .filter((a) => a.ok)
          .map((a) => a.action),
      ).toEqual(['pre_accept', 'accept', 'terminate']);
    }
  });
});

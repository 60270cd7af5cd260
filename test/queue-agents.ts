import type { TestAgent } from '../src/testing/agent-harness.js';
import { waitUntil } from './helpers.js';

const TALK_MS = 1200;

/** Answers every offer like a quick agent: accept, open the leg, talk a little, hang up. Flags a double offer. */
export function autoAnswer(agent: TestAgent, violations: string[], served: string[]): void {
  let busyWith: string | undefined;
  // Free again once the server says the call ended (or stopped ringing for this agent): that comes before any
  // new offer on the same socket.
  const free = (callId: string) => {
    if (busyWith === callId) busyWith = undefined;
  };
  agent.client.on('call:ended', (e) => free(e.callId));
  agent.client.on('call:withdrawn', (w) => free(w.callId));
  const onOffer = (o: { callId: string }) => {
    if (busyWith !== undefined) violations.push(`${agent.id} offered ${o.callId} while on ${busyWith}`);
    busyWith = o.callId;
    void (async () => {
      try {
        const acked = await agent.client.accept(o.callId);
        if (!acked.ok) throw new Error(`accept refused: ${acked.error}`);
        await agent.startMedia(o.callId, { markers: false, watchHz: [440] });
        await waitUntil(() => agent.live.includes(o.callId), { what: `${o.callId} live`, timeoutMs: 20_000 });
        served.push(o.callId);
        await new Promise((r) => setTimeout(r, TALK_MS));
        await agent.client.hangup(o.callId);
      } catch (err) {
        violations.push(`${agent.id} on ${o.callId}: ${(err as Error).message}`);
      } finally {
        agent.peer?.close();
      }
    })();
  };
  // An offer may have come between the agent's session and this call.
  for (const o of agent.offers) onOffer(o);
  agent.client.on('call:offered', onOffer);
}

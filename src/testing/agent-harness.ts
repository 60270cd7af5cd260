import { AgentClient, login } from '../client/agent-client.js';
import type { CallOffered, CallPermissionNews, CallProgress } from '../shared/protocol.js';
import { NodeAgentPeer, type NodeAgentPeerOptions } from './node-agent-peer.js';

/**
 * An agent for tests and load tools: the typed agent client (Socket.IO) plus, once a call is accepted, a wrtc peer
 * that plays the browser's part (offer, trickle, a tone, analysis of what arrives).
 */
export class TestAgent {
  readonly offers: CallOffered[] = [];
  readonly taken: { callId: string; agentId: string }[] = [];
  readonly ended: { callId: string; reason: string }[] = [];
  readonly withdrawn: { callId: string; reason: string }[] = [];
  readonly live: string[] = [];
  /** Business-initiated calls: progress of this agent's dials and permission replies. */
  readonly progress: CallProgress[] = [];
  readonly permissions: CallPermissionNews[] = [];
  peer: NodeAgentPeer | undefined;
  #peerCallId: string | undefined;

  private constructor(
    readonly id: string,
    readonly client: AgentClient,
  ) {
    client.on('call:offered', (o) => this.offers.push(o));
    client.on('call:taken', (t) => this.taken.push(t));
    client.on('call:ended', (e) => this.ended.push(e));
    client.on('call:withdrawn', (w) => this.withdrawn.push(w));
    client.on('call:live', (l) => this.live.push(l.callId));
    client.on('call:progress', (p) => this.progress.push(p));
    client.on('call:permission', (p) => this.permissions.push(p));
    client.on('rtc:answer', ({ callId, sdp }) => {
      if (callId === this.#peerCallId) void this.peer?.applyAnswer(sdp).catch(() => undefined);
    });
    client.on('rtc:candidate', ({ callId, candidate }) => {
      if (callId === this.#peerCallId && candidate) {
        void this.peer?.addCandidate({
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? null,
          sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        });
      }
    });
  }

  /** Logs in and connects; resolves once the first `agent:session` arrived. */
  static async connect(
    baseUrl: string,
    id: string,
    opts: { password?: string; timeoutMs?: number } = {},
  ): Promise<TestAgent> {
    const { token } = await login(baseUrl, id, opts.password ?? 'demo');
    const client = new AgentClient({ baseUrl, token });
    const agent = new TestAgent(id, client);
    const session = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${id}: no agent:session`)), opts.timeoutMs ?? 10_000);
      const off = client.on('session', () => {
        clearTimeout(t);
        off();
        resolve();
      });
    });
    client.connect();
    await session;
    return agent;
  }

  /** Resolves with the offer for `callId` (or the first offer), waiting up to `timeoutMs`. */
  async offered(callId?: string, timeoutMs = 10_000): Promise<CallOffered> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const o = this.offers.find((x) => callId === undefined || x.callId === callId);
      if (o) return o;
      if (Date.now() > deadline) throw new Error(`${this.id}: no call:offered${callId ? ` for ${callId}` : ''}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Opens the agent leg like the console does after an accept: offer, trickle both ways. */
  async startMedia(callId: string, opts: NodeAgentPeerOptions = {}): Promise<NodeAgentPeer> {
    this.peer?.close();
    const peer = await NodeAgentPeer.create({ toneHz: 660, watchHz: [440], name: this.id, ...opts });
    this.peer = peer;
    this.#peerCallId = callId;
    const res = await this.client.sendOffer(callId, peer.offerSdp);
    if (!res.ok) throw new Error(`${this.id}: rtc:offer refused: ${res.error} ${res.message}`);
    peer.trickle((c) => void this.client.sendCandidate(callId, c));
    return peer;
  }

  close(): void {
    this.peer?.close();
    this.client.close();
  }
}

import { AgentClient } from '../client/agent-client.js';
import { login } from '../client/api-request.js';
import type { IceCandidateMessage } from '../rtc/engine.js';
import type { CallOffered, CallPermissionNews, CallProgress } from '../shared/protocol.js';
import { NodeAgentPeer, type NodeAgentPeerOptions } from './node-agent-peer.js';

/** What the agent protocol needs of the browser's side of a leg. */
export interface AgentMediaPeer {
  readonly offerSdp: string;
  trickle(sink: (c: IceCandidateMessage) => void): void;
  applyAnswer(sdp: string): Promise<void>;
  addCandidate(c: IceCandidateMessage): Promise<boolean>;
  close(): void;
}

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
  /** The peer the protocol's answer and candidates go to: `peer`, or one given to {@link attachPeer}. */
  #media: AgentMediaPeer | undefined;
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
      if (callId === this.#peerCallId) void this.#media?.applyAnswer(sdp).catch(() => undefined);
    });
    client.on('rtc:candidate', ({ callId, candidate }) => {
      if (callId === this.#peerCallId && candidate) {
        void this.#media?.addCandidate({
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
    const peer = await NodeAgentPeer.create({ toneHz: 660, watchHz: [440], name: this.id, ...opts });
    await this.attachPeer(callId, peer);
    this.peer = peer;
    return peer;
  }

  /** Opens the agent leg with a peer of the caller's making (e.g. a rig peer that does not decode). */
  async attachPeer(callId: string, peer: AgentMediaPeer): Promise<void> {
    this.#media?.close();
    this.peer = undefined;
    this.#media = peer;
    this.#peerCallId = callId;
    const res = await this.client.sendOffer(callId, peer.offerSdp);
    if (!res.ok) throw new Error(`${this.id}: rtc:offer refused: ${res.error} ${res.message}`);
    peer.trickle((c) => void this.client.sendCandidate(callId, c));
  }

  close(): void {
    this.#media?.close();
    this.client.close();
  }
}

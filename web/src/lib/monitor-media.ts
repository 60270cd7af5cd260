import type { AgentClient } from '../../../src/client/agent-client.js';
import type { RtcCandidateInit } from '../../../src/shared/protocol.js';

export type MonitorMode = 'listen' | 'whisper';

const toInit = (c: RTCIceCandidate): RtcCandidateInit => ({
  candidate: c.candidate,
  sdpMid: c.sdpMid,
  sdpMLineIndex: c.sdpMLineIndex,
  usernameFragment: c.usernameFragment,
});

/**
 * A supervisor's monitoring leg (`sup:<id>`): their microphone on the first audio m-line (heard only by the agent,
 * and only while whispering), and two incoming tracks, the caller and the agent, mixed here in one AudioContext
 * into the `<audio data-testid="monitor-audio">` element.
 */
export class MonitorMedia {
  readonly #pc: RTCPeerConnection;
  readonly #ctx: AudioContext;
  readonly #mix: MediaStreamAudioDestinationNode;
  readonly #el: HTMLAudioElement;
  readonly #offs: (() => void)[] = [];
  readonly #remoteQueue: RtcCandidateInit[] = [];
  readonly #players: HTMLAudioElement[] = [];
  #closed = false;

  private constructor(
    readonly callId: string,
    readonly legId: string,
    readonly client: AgentClient,
    readonly mic: MediaStream,
    iceServers: RTCIceServer[],
  ) {
    this.#pc = new RTCPeerConnection({ iceServers });
    this.#ctx = new AudioContext();
    this.#mix = this.#ctx.createMediaStreamDestination();
    this.#el = document.createElement('audio');
    this.#el.autoplay = true;
    this.#el.dataset.testid = 'monitor-audio';
    this.#el.dataset.callId = callId;
    this.#el.style.display = 'none';
    this.#el.srcObject = this.#mix.stream;
    document.body.append(this.#el);
  }

  /** Opens the leg: the server must already have accepted `call:monitor` for this supervisor. */
  static async open(opts: {
    callId: string;
    supervisorId: string;
    client: AgentClient;
    iceServers?: RTCIceServer[];
  }): Promise<MonitorMedia> {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    const m = new MonitorMedia(opts.callId, `sup:${opts.supervisorId}`, opts.client, mic, opts.iceServers ?? []);
    await m.#negotiate();
    return m;
  }

  async #negotiate(): Promise<void> {
    const pc = this.#pc;
    for (const t of this.mic.getAudioTracks()) pc.addTransceiver(t, { direction: 'sendrecv', streams: [this.mic] });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      // Each incoming track (caller, agent) into the one mix; Chromium needs the element playing for WebAudio.
      const src = this.#ctx.createMediaStreamSource(new MediaStream([e.track]));
      src.connect(this.#mix);
      const keep = new Audio();
      keep.muted = true;
      keep.srcObject = new MediaStream([e.track]);
      void keep.play().catch(() => undefined);
      this.#players.push(keep);
      void this.#ctx.resume().catch(() => undefined);
      void this.#el.play().catch(() => undefined);
    };
    const sent: RtcCandidateInit[] = [];
    let acked = false;
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      const c = toInit(e.candidate);
      if (acked) void this.client.sendLegCandidate(this.callId, c);
      else sent.push(c);
    };
    this.#offs.push(
      this.client.on('rtc:answer', (p) => {
        if (p.callId !== this.callId || p.legId !== this.legId || this.#closed) return;
        void pc
          .setRemoteDescription({ type: 'answer', sdp: p.sdp })
          .then(async () => {
            for (const c of this.#remoteQueue.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
          })
          .catch(() => undefined);
      }),
      this.client.on('rtc:candidate', (p) => {
        if (p.callId !== this.callId || p.legId !== this.legId || !p.candidate || this.#closed) return;
        if (pc.remoteDescription) void pc.addIceCandidate(p.candidate).catch(() => undefined);
        else this.#remoteQueue.push(p.candidate);
      }),
    );
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const res = await this.client.sendLegOffer(this.callId, pc.localDescription?.sdp ?? '');
    if (!res.ok) {
      this.close();
      throw new Error(res.message);
    }
    acked = true;
    for (const c of sent.splice(0)) void this.client.sendLegCandidate(this.callId, c);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#pc.close();
    for (const t of this.mic.getTracks()) t.stop();
    this.#el.srcObject = null;
    this.#el.remove();
    for (const p of this.#players) p.srcObject = null;
    void this.#ctx.close().catch(() => undefined);
  }
}

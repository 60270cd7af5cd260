import type { NetworkFilter } from '../../rtc/cidr.js';
import type { IceCandidateMessage } from '../../rtc/engine.js';
import { toCandidateMessage } from '../../rtc/ice-candidate.js';
import { parseCandidate } from '../sdp/parse.js';
import { filterCandidate } from '../sdp/rewrite.js';

/**
 * The ICE candidate bookkeeping every leg does, whatever the engine. Local candidates are filtered by the allowed
 * networks (host addresses rewritten to the announced IP) and held until {@link release}, so that none reaches the
 * remote before our answer does. Remote (trickled) candidates are checked and, until the remote description is set,
 * queued (at most {@link MAX_QUEUED}).
 */
export class CandidateGate {
  static readonly MAX_QUEUED = 100;
  /** Local candidates kept and not yet released, in gathering order. */
  readonly held: IceCandidateMessage[] = [];
  /** Local candidates dropped by the allowed networks. */
  dropped = 0;
  #holding = true;
  #remoteSet = false;
  #queued: IceCandidateMessage[] = [];
  readonly #networks: NetworkFilter;
  readonly #announcedIp: string | undefined;
  readonly #emit: (c: IceCandidateMessage) => void;

  constructor(networks: NetworkFilter, announcedIp: string | undefined, emit: (c: IceCandidateMessage) => void) {
    this.#networks = networks;
    this.#announcedIp = announcedIp;
    this.#emit = emit;
  }

  /** A local candidate gathered: dropped, held, or emitted once released. */
  local(candidate: string, sdpMid: string | null, sdpMLineIndex: number | null): void {
    const rewritten = filterCandidate(candidate, { allowedNetworks: this.#networks, announcedIp: this.#announcedIp });
    if (rewritten === undefined) {
      this.dropped++;
      return;
    }
    const c: IceCandidateMessage = { candidate: rewritten, sdpMid, sdpMLineIndex };
    if (this.#holding) this.held.push(c);
    else this.#emit(c);
  }

  /** Emits the held candidates, then every later one as it comes. Idempotent. */
  release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    for (const c of this.held.splice(0)) this.#emit(c);
  }

  /**
   * A remote candidate as a browser trickles it (RTCIceCandidateInit or a bare string). Returns the candidate to add
   * now, `true` when there is nothing to add yet (end of candidates, or queued until the remote description is set),
   * or `false` for garbage and addresses outside the allowed networks.
   */
  remote(input: unknown): IceCandidateMessage | boolean {
    const c = toCandidateMessage(input);
    if (c === 'end') return true;
    if (!c) return false;
    const parsed = parseCandidate(c.candidate);
    if (!parsed || !this.#networks.allows(parsed.address)) return false;
    if (this.#remoteSet) return c;
    if (this.#queued.length < CandidateGate.MAX_QUEUED) this.#queued.push(c);
    return true;
  }

  /** The remote description is set: returns the candidates queued before it, to add now. */
  remoteReady(): IceCandidateMessage[] {
    this.#remoteSet = true;
    return this.#queued.splice(0);
  }

  /** Forgets everything held or queued (the leg closed). */
  clear(): void {
    this.held.length = 0;
    this.#queued = [];
  }
}

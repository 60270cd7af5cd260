import { createSocket, type Socket } from 'node:dgram';

/**
 * The address a node-datachannel offerer advertises until it has the answer: a UDP socket that reads and drops
 * everything, so the far side's early connectivity checks and DTLS go unanswered, like a media server that does not
 * take the call before it knows the answer. The peer's real socket stays out of the offer; once it has the answer
 * it sends checks from there itself, and the far side learns it as a peer-reflexive candidate.
 *
 * Why: libdatachannel 0.24 (node-datachannel 0.33) gives its ICE agent the remote description before it keeps it
 * for the DTLS fingerprint check. An offerer that already answered the far side's checks connects at once, and a
 * handshake reaching that check in between fails ("DTLS alert: unknown CA"), killing both ends. On a loaded machine
 * that happened in about one call in two; with nothing answered early, the handshake needs several round trips
 * after the answer and the fingerprint is long kept by then.
 */
export class OfferGate {
  readonly port: number;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
  }

  /** Binds the gate on `address` (the peer's own bind address) at a free port. */
  static open(address = '127.0.0.1'): Promise<OfferGate> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', () => {});
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        socket.unref();
        resolve(new OfferGate(socket));
      });
    });
  }

  /** `sdp` with the port of every UDP candidate on `address` (and of the m-line) moved to the gate. */
  shape(sdp: string, address = '127.0.0.1'): string {
    return sdp
      .split('\r\n')
      .map((line) =>
        line.startsWith('m=') ? line.replace(/^(m=\S+ )\d+/, `$1${this.port}`) : this.candidate(line, address),
      )
      .join('\r\n');
  }

  /** A candidate line (`a=candidate:…` or `candidate:…`) moved to the gate when it is UDP on `address`. */
  candidate(line: string, address = '127.0.0.1'): string {
    if (!line.startsWith('a=candidate:') && !line.startsWith('candidate:')) return line;
    const f = line.split(' ');
    if (f[2]?.toUpperCase() !== 'UDP' || f[4] !== address) return line;
    f[5] = String(this.port);
    return f.join(' ');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}

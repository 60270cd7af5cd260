import net from 'node:net';
import type { Logger } from '../shared/log.js';

export interface Backend {
  host: string;
  port: number;
}

/**
 * A TCP round-robin balancer for the http replicas of `npm run cluster`: plain TCP, so websockets (Socket.IO runs
 * websocket-only) pass through untouched and need no sticky sessions. A backend that refuses a connection is
 * skipped for a while and the client is sent to the next one.
 */
export class TcpBalancer {
  readonly #backends: Backend[];
  readonly #down = new Map<string, number>();
  readonly #logger: Logger;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #next = 0;

  constructor(backends: Backend[], logger: Logger) {
    this.#backends = backends;
    this.#logger = logger;
    this.#server = net.createServer((client) => this.#route(client, 0));
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const a = this.#server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  addBackend(b: Backend): void {
    this.#backends.push(b);
  }

  /** Stops sending clients to `b` (its process is gone). */
  removeBackend(b: Backend): void {
    const i = this.#backends.findIndex((x) => x.host === b.host && x.port === b.port);
    if (i >= 0) this.#backends.splice(i, 1);
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #pick(): Backend | undefined {
    const now = Date.now();
    for (let i = 0; i < this.#backends.length; i++) {
      const b = this.#backends[(this.#next + i) % this.#backends.length]!;
      if ((this.#down.get(`${b.host}:${b.port}`) ?? 0) <= now) {
        this.#next = (this.#next + i + 1) % this.#backends.length;
        return b;
      }
    }
    return undefined;
  }

  #route(client: net.Socket, tries: number): void {
    const backend = this.#pick();
    if (!backend || tries >= Math.max(1, this.#backends.length)) {
      client.destroy();
      return;
    }
    client.pause();
    const upstream = net.connect(backend.port, backend.host);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const cleanup = () => {
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once('error', (err) => {
      if (!connected) {
        this.#down.set(`${backend.host}:${backend.port}`, Date.now() + 2000);
        this.#logger.warn(
          { backend: `${backend.host}:${backend.port}`, err: err.message },
          'backend down; trying the next',
        );
        upstream.destroy();
        this.#sockets.delete(upstream);
        this.#route(client, tries + 1);
        return;
      }
      client.destroy();
    });
    client.once('error', () => upstream.destroy());
    client.once('close', () => {
      upstream.destroy();
      cleanup();
    });
    upstream.once('close', () => {
      if (connected) client.destroy();
      cleanup();
    });
  }
}

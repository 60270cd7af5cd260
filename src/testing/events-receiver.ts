import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyEventSignature } from '../events/call-events.js';
import type { CallEventBody } from '../shared/call-event.js';

export interface ReceivedEvent {
  body: CallEventBody | undefined;
  raw: string;
  signatureOk: boolean;
  /** What this receiver answered (0 = held, never answered). */
  status: number;
  at: number;
}

/**
 * An outside system receiving call events, for tests and the demo: checks every signature, and can fail (answer
 * 503) or hang (never answer) on demand, to exercise retries.
 */
export class EventsReceiver {
  readonly received: ReceivedEvent[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  readonly #server: Server;
  readonly #held = new Set<ServerResponse>();
  #url = '';

  constructor(readonly secret: string) {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/events`;
    return this;
  }

  /** Ids this receiver answered 200 for, in arrival order (a duplicate shows twice). */
  get acceptedIds(): string[] {
    return this.received.filter((r) => r.status === 200).map((r) => r.body?.id ?? '?');
  }

  async stop(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const signatureOk = verifyEventSignature(raw, req.headers['x-signature-256'] as string | undefined, this.secret);
    let body: CallEventBody | undefined;
    try {
      body = JSON.parse(raw) as CallEventBody;
    } catch {
      body = undefined;
    }
    const entry: ReceivedEvent = { body, raw, signatureOk, status: 0, at: Date.now() };
    this.received.push(entry);
    if (this.mode === 'hang') {
      this.#held.add(res);
      res.on('close', () => this.#held.delete(res));
      return;
    }
    entry.status = !signatureOk ? 401 : this.mode === 'fail' ? 503 : 200;
    res.writeHead(entry.status, { 'content-type': 'text/plain' }).end(entry.status === 200 ? 'ok' : 'no');
  }
}

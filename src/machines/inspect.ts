import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { type WebSocket, WebSocketServer } from 'ws';
import { errorMessage } from '../shared/errors.js';
import { type Logger, maskDigits, maskNumber } from '../shared/log.js';
import { callMachine } from './call.machine.js';
import type { TimelineEntry } from './call.store.js';
import type { CallSnapshot } from './deliver.js';

/** Is something already listening on `host:port` (another replica's inspector bridge)? */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface CallInspector {
  /** The page to open (carries the token): for the operator's terminal, never for a log. */
  viewUrl: string | undefined;
  onTransition(callId: string, entry: TimelineEntry, snapshot: CallSnapshot): void;
  stop(): void;
}

export interface CallInspectorOptions {
  port: number;
  /** Where the bridge listens. @default '127.0.0.1' */
  host?: string;
  /** Viewers and sources must present it (`?token=`); sources also say `role=source`. */
  token: string;
  startBridge: boolean;
  /** Show DTMF keys (they can be PINs). @default false */
  showDtmf?: boolean;
  logger: Logger;
}

function sameToken(given: string | null, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const BRIDGE_PAGE = (wsUrl: string) => `<!doctype html>
<html><head><title>Call actors: Stately inspector</title>
<style>*{margin:0;padding:0}html,body,iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
const frame = document.getElementById('inspector');
const buffer = [];
let connected = false;
addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    for (const ev of buffer.splice(0)) frame.contentWindow.postMessage(ev, '*');
  }
});
const ws = new WebSocket(${JSON.stringify(wsUrl)} + location.search);
ws.onmessage = (m) => {
  const ev = JSON.parse(m.data);
  if (connected) frame.contentWindow.postMessage(ev, '*'); else buffer.push(ev);
};
</script></body></html>`;

/**
 * The inspector bridge: a page and a WebSocket relay, on loopback unless told otherwise, behind a token. Only
 * sources (this codebase's processes, `role=source`) may send events; what viewers send is dropped, so a viewer
 * cannot inject transitions into anyone else's view.
 */
function startBridge(opts: { host: string; port: number; token: string }): Promise<{ stop(): void }> {
  const recent: string[] = [];
  const viewers = new Set<WebSocket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (!sameToken(url.searchParams.get('token'), opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('The inspector needs ?token= (printed at start).');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.end(BRIDGE_PAGE(`ws://${req.headers.host ?? `127.0.0.1:${opts.port}`}/`));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (!sameToken(url.searchParams.get('token'), opts.token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    const source = url.searchParams.get('role') === 'source';
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (source) {
        ws.on('message', (data) => {
          const msg = data.toString();
          recent.push(msg);
          if (recent.length > 200) recent.shift();
          for (const v of viewers) if (v.readyState === v.OPEN) v.send(msg);
        });
      } else {
        viewers.add(ws);
        for (const msg of recent) ws.send(msg);
        ws.on('message', () => undefined); // viewers only listen
        ws.on('close', () => viewers.delete(ws));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () =>
      resolve({
        stop() {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.close();
        },
      }),
    );
  });
}

/**
 * Streams call actors to the Stately inspector (XSTATE_INSPECT=1, a development aid): every committed transition
 * becomes an inspection event sent over a WebSocket to the inspector bridge, which the process with the http role
 * starts on XSTATE_INSPECT_HOST:XSTATE_INSPECT_PORT (loopback by default, behind XSTATE_INSPECT_TOKEN). Call actors
 * are registered with the machine definition so the inspector draws the state machine. No SDP is ever in a
 * context; the only caller data sent is the masked number, and DTMF keys are masked unless `showDtmf`.
 */
export async function createCallInspector(opts: CallInspectorOptions): Promise<CallInspector> {
  const host = opts.host ?? '127.0.0.1';
  const dialHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const hostPart = dialHost.includes(':') ? `[${dialHost}]` : dialHost;
  let bridge: { stop(): void } | undefined;
  let viewUrl: string | undefined;
  if (opts.startBridge && !(await portTaken(dialHost, opts.port))) {
    bridge = await startBridge({ host, port: opts.port, token: opts.token });
    viewUrl = `http://${hostPart}:${opts.port}/?token=${encodeURIComponent(opts.token)}`;
    opts.logger.info({ host, port: opts.port }, 'Stately inspector bridge: open the URL printed at start');
  }
  const inspector = createWebSocketInspector({
    url: `ws://${hostPart}:${opts.port}/?role=source&token=${encodeURIComponent(opts.token)}`,
  });
  inspector.start();
  // The inspector reads the machine definition from `actorRef.logic.config`, so calls are registered as refs.
  const refOf = (callId: string) =>
    ({ sessionId: callId, id: callId, logic: { config: callMachine.config } }) as unknown as Parameters<
      typeof inspector.actor
    >[0];
  const known = new Set<string>();
  const view = (s: CallSnapshot) => ({
    status: s.status,
    value: s.value,
    context: {
      ...s.context,
      caller: { waId: maskNumber(s.context.caller.waId) },
      dtmf: opts.showDtmf ? s.context.caller.dtmf : maskDigits(s.context.caller.dtmf),
    },
  });
  const detailOf = (entry: TimelineEntry) =>
    entry.detail && !opts.showDtmf ? entry.detail.replace(/\bdigit=\S+/g, 'digit=•') : entry.detail;
  return {
    viewUrl,
    onTransition(callId, entry, snapshot) {
      try {
        if (!known.has(callId)) {
          if (known.size > 5000) known.clear();
          known.add(callId);
          inspector.actor(refOf(callId), view(snapshot), { rootId: callId, parentId: callId });
        }
        const detail = detailOf(entry);
        const event = { type: entry.event, ...(detail ? { detail } : {}) };
        inspector.event(callId, event);
        inspector.snapshot(callId, view(snapshot), { event });
      } catch (err) {
        opts.logger.debug({ err: errorMessage(err) }, 'inspector send failed');
      }
    },
    stop() {
      inspector.stop();
      bridge?.stop();
    },
  };
}

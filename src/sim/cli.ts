import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEMO } from '../shared/config.js';
import { errorMessage } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { createCallerFactory } from './caller-factory.js';
import { checkCallOptions, checkServerOptions } from './cli-options.js';
import { KeypadCaller } from './keypad-caller.js';
import { WhatsAppSimulator } from './simulator.js';

const HELP = `WhatsApp simulator — plays Meta for this service (loopback only).

  npm run sim [-- serve]       run a simulator: Graph API on --port, webhooks to --webhook
  npm run sim -- call          place a call on a running simulator (the demo one by default)
  npm run sim -- call --offer <file>   the caller is a peer of yours (a browser page): the simulator relays its
                    offer (complete, Opus 111 + telephone-event/8000 126 only) and prints the business's answer
  npm run sim -- hangup <id>   the caller hangs up
  npm run sim -- keys <id> <digits>   the caller presses keys (RFC 4733 with --caller keypad)
  npm run sim -- list          calls the simulator knows and their state
  npm run sim -- user <digits> a WhatsApp user agents may call (--permission none|temporary|permanent)

options:
  --sim <url>       a running simulator (default http://127.0.0.1:3001, the demo's)
  --port <n>        serve: Graph API port (default 3001)
  --host <addr>     serve: where the Graph API listens (default 127.0.0.1; 0.0.0.0 in a container of its own,
                    where callers also offer every network, not only loopback)
  --webhook <url>   serve: where to post webhooks (default http://127.0.0.1:3000/webhooks/whatsapp)
  --name <name>     call: the caller's profile name
  --from <digits>   call: the caller's number
  --caller <kind>   serve: tone (a wrtc caller that speaks a tone, in-band DTMF) or keypad (RFC 4733 keys,
                    silent; what the forward engine reads); default tone
Secrets default to the demo ones; set WHATSAPP_APP_SECRET / WHATSAPP_ACCESS_TOKEN / WHATSAPP_PHONE_NUMBER_ID to match a
service run with other values.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      sim: { type: 'string', default: 'http://127.0.0.1:3001' },
      port: { type: 'string', default: '3001' },
      host: { type: 'string', default: '127.0.0.1' },
      webhook: { type: 'string', default: 'http://127.0.0.1:3000/webhooks/whatsapp' },
      name: { type: 'string' },
      from: { type: 'string' },
      offer: { type: 'string' },
      permission: { type: 'string', default: 'temporary' },
      caller: { type: 'string', default: 'tone' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd = 'serve', arg] = positionals;
  if (values.help) return void console.log(HELP);
  const problems = [
    ...checkServerOptions({ port: values.port, sim: values.sim, webhook: values.webhook }),
    ...(cmd === 'call' ? checkCallOptions({ from: values.from, name: values.name }) : []),
  ];
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(2);
  }
  const sim = values.sim.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch(() => {
      throw new Error(`no simulator answers at ${sim}: start the service in demo mode (npm start) or run npm run sim`);
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  switch (cmd) {
    case 'call': {
      const sdp = values.offer === undefined ? undefined : readFileSync(values.offer, 'utf8');
      const placed = (await call('POST', '/_sim/calls', { name: values.name, from: values.from, sdp })) as {
        callId: string;
      };
      console.log(JSON.stringify(placed));
      if (sdp !== undefined) {
        const answered = await call('GET', `/_sim/calls/${encodeURIComponent(placed.callId)}/answer?waitMs=30000`);
        console.log((answered as { sdp: string }).sdp);
      }
      return;
    }
    case 'hangup':
      if (!arg) throw new Error('usage: npm run sim -- hangup <callId>');
      console.log(JSON.stringify(await call('POST', `/_sim/calls/${encodeURIComponent(arg)}/hangup`)));
      return;
    case 'user':
      if (!arg) throw new Error('usage: npm run sim -- user <digits> [--permission none|temporary|permanent]');
      console.log(JSON.stringify(await call('POST', '/_sim/users', { waId: arg, permission: values.permission })));
      return;
    case 'keys': {
      const digits = positionals[2];
      if (!arg || !digits) throw new Error('usage: npm run sim -- keys <callId> <digits>');
      console.log(JSON.stringify(await call('POST', `/_sim/calls/${encodeURIComponent(arg)}/keys`, { digits })));
      return;
    }
    case 'list':
      console.log(JSON.stringify(await call('GET', '/_sim/calls'), null, 2));
      return;
    case 'serve': {
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', name: 'sim' });
      const s = new WhatsAppSimulator({
        webhookUrl: values.webhook,
        appSecret: process.env.WHATSAPP_APP_SECRET || DEMO.appSecret,
        accessToken: process.env.WHATSAPP_ACCESS_TOKEN || DEMO.accessToken,
        business: {
          phoneNumberId: process.env.WHATSAPP_PHONE_NUMBER_ID?.split(',')[0] || DEMO.phoneNumberId,
          displayPhoneNumber: DEMO.displayPhoneNumber,
          wabaId: '200000000000002',
        },
        callerFactory:
          values.caller === 'keypad'
            ? () => KeypadCaller.create()
            : createCallerFactory({
                logger,
                allowedNetworks: values.host === '127.0.0.1' ? ['127.0.0.0/8', '::1/128'] : undefined,
              }),
        logger,
      });
      const url = await s.start(Number(values.port), values.host);
      console.log(
        `WhatsApp simulator: Graph API at ${url} (set GRAPH_API_BASE_URL=${url}), webhooks to ${values.webhook}`,
      );
      const stop = async () => {
        await s.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
      return;
    }
    default:
      console.error(HELP);
      process.exit(2);
  }
}

main().catch((err) => {
  console.error(errorMessage(err));
  process.exit(1);
});

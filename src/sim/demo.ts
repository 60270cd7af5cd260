import type { DemoSimulator } from '../roles/start.js';
import type { Config } from '../shared/config.js';
import { DEMO } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import { createCallerFactory } from './caller-factory.js';
import { KeypadCaller } from './keypad-caller.js';
import { WhatsAppSimulator } from './simulator.js';

/**
 * The embedded default's stand-in for Meta: Graph API on SIM_PORT (default PORT+1), callers that send a tone and
 * listen, webhooks to this process. Lets a new user see a whole call with audio without a Meta account.
 */
export async function startDemoSimulator(config: Config, logger: Logger): Promise<DemoSimulator> {
  const sim = new WhatsAppSimulator({
    webhookUrl: `http://127.0.0.1:${config.port}/webhooks/whatsapp`,
    appSecret: config.whatsapp.appSecret,
    accessToken: config.graph.accessToken,
    business: {
      phoneNumberId: config.whatsapp.phoneNumberIds[0] ?? DEMO.phoneNumberId,
      displayPhoneNumber: DEMO.displayPhoneNumber,
      wabaId: '200000000000002',
    },
    // The forward engine reads keys as RFC 4733 events, which only the keypad caller sends (it is silent otherwise).
    callerFactory:
      config.media.engine === 'forward'
        ? () => KeypadCaller.create()
        : createCallerFactory({ logger, allowedNetworks: config.media.allowedNetworks }),
    logger: logger.child({ component: 'sim' }),
  });
  const port = config.simPort ?? (config.port === 0 ? 0 : config.port + 1);
  const baseUrl = await sim.start(port);
  logger.info({ baseUrl }, 'demo simulator plays Meta');
  let n = 0;
  const names = ['Priya Sharma', 'João Pereira', 'Amina Yusuf', 'Lena Fischer', 'Kenji Sato'];
  return {
    baseUrl,
    async placeCall() {
      const { call } = await sim.placeCall({ name: names[n++ % names.length] });
      return { callId: call.callId };
    },
    pressKeys: (callId, digits) => sim.pressKeys(callId, digits),
    setWebhookUrl: (url) => sim.setWebhookUrl(url),
    stop: () => sim.stop(),
  };
}

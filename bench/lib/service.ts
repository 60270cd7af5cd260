import { DEMO } from '../../src/shared/config.js';
import { silentLogger } from '../../src/shared/log.js';
import { type CallerFactory, WhatsAppSimulator } from '../../src/sim/simulator.js';
import { type Child, type RoleChild, spawnRole } from './procs.js';

/** Meta's side for a service section: callers from `callerFactory`, a long answer window and no media watchdog. */
export function benchSimulator(callerFactory: CallerFactory): WhatsAppSimulator {
  return new WhatsAppSimulator({
    webhookUrl: 'http://127.0.0.1:9/unset',
    appSecret: DEMO.appSecret,
    accessToken: DEMO.accessToken,
    business: { phoneNumberId: DEMO.phoneNumberId, displayPhoneNumber: DEMO.displayPhoneNumber, wabaId: '2' },
    callerFactory,
    answerWindowMs: 600_000,
    mediaWatchdogMs: 0,
    logger: silentLogger,
  });
}

/**
 * The http, worker and media roles on `prefix`, started side by side (named `<name>-http` …) and added to
 * `children` once all three are up; `sim` then posts its webhooks to the http role.
 */
export async function startServiceRoles(
  name: string,
  redisUrl: string,
  prefix: string,
  env: Record<string, string>,
  sim: WhatsAppSimulator,
  children: (Child | undefined)[],
): Promise<{ http: RoleChild; worker: RoleChild; media: RoleChild }> {
  const [http, worker, media] = await Promise.all([
    spawnRole('http', `${name}-http`, redisUrl, prefix, env),
    spawnRole('worker', `${name}-worker`, redisUrl, prefix, env),
    spawnRole('media', `${name}-media`, redisUrl, prefix, env),
  ]);
  children.push(http, worker, media);
  sim.setWebhookUrl(`${http.url}/webhooks/whatsapp`);
  return { http, worker, media };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/log.js';
import { META_OFFER_SDP } from '../testing/sdp-fixtures.js';
import { WhatsAppSimulator } from './simulator.js';

const TOKEN = 'token';
const BIZ = { phoneNumberId: '100200300', displayPhoneNumber: '15550001111', wabaId: '1' };

describe("the simulator's business-initiated calling rules", () => {
  const sim = new WhatsAppSimulator({
    webhookUrl: 'http://127.0.0.1:9/none',
    appSecret: 's',
    accessToken: TOKEN,
    business: BIZ,
    logger: silentLogger,
  });
  const app = sim.graphApp();
  const connect = (to: string, sdp: string) =>
    app.request(`/v23.0/${BIZ.phoneNumberId}/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to,
        action: 'connect',
        session: { sdp_type: 'offer', sdp },
      }),
    });
  const code = async (res: Response) => ((await res.json()) as { error?: { code?: number } }).error?.code;
  // A complete WhatsApp-shaped offer (actpass, 111 + 126, loopback candidates, no trickle) minus Meta's ice-lite.
  const offer = META_OFFER_SDP.replace('a=ice-lite\r\n', '');

  beforeAll(() => {
    sim.business.addUser('4915100000010');
    sim.business.addUser('4915100000011', { permission: 'temporary', answer: 'ignore' });
  });
  afterAll(() => sim.stop());

  it('refuses a connect without permission (138006), to an unknown number (138001), with a bad number (100)', async () => {
    expect(await code(await connect('4915100000010', offer))).toBe(138006);
    expect(await code(await connect('4915100009999', offer))).toBe(138001);
    expect(await code(await connect('not-a-number', offer))).toBe(100);
  });

  it('refuses a trickle offer and an answer-shaped one, naming the problem', async () => {
    const trickle = await connect(
      '4915100000011',
      offer.replace('a=mid:audio', 'a=ice-options:trickle\r\na=mid:audio'),
    );
    const body = (await trickle.json()) as { error: { code: number; error_data: { details: string } } };
    expect(body.error.code).toBe(100);
    expect(body.error.error_data.details).toMatch(/trickle/);
    const active = await connect('4915100000011', offer.replace('a=setup:actpass', 'a=setup:active'));
    expect(((await active.json()) as { error: { error_data: { details: string } } }).error.error_data.details).toMatch(
      /actpass/,
    );
  });

  it('a permitted user gets a call id; a second call to them at once is a duplicate (138003)', async () => {
    const first = await connect('4915100000011', offer);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { calls: { id: string }[] }).calls[0]!.id).toMatch(/^wacid\./);
    expect(await code(await connect('4915100000011', offer))).toBe(138003);
    expect(sim.actions.filter((a) => a.action === 'connect').map((a) => a.status)).toEqual([
      401, 400, 400, 400, 400, 200, 400,
    ]);
  });
});

import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { mungeWhatsAppAnswer } from '../media/sdp/rewrite.js';
import { LOOPBACK_NETWORKS } from '../rtc/cidr.js';
import { silentLogger } from '../shared/log.js';
import { META_OFFER_SDP, RAW_ANSWER_SDP } from '../testing/sdp-fixtures.js';
import { WhatsAppSimulator } from './simulator.js';

const TOKEN = 'token';
const BIZ = { phoneNumberId: '100200300', displayPhoneNumber: '15550001111', wabaId: '1' };
const OPT_IN = { status: 'ENABLED', purpose: 'quality assurance', announcement_language: 'en_US' };

describe("the simulator's Meta-side recording and transcription", () => {
  const sim = new WhatsAppSimulator({
    webhookUrl: 'http://127.0.0.1:9/none',
    appSecret: 's',
    accessToken: TOKEN,
    business: BIZ,
    logger: silentLogger,
  });
  const app = sim.graphApp();
  const answer = mungeWhatsAppAnswer(RAW_ANSWER_SDP, { allowedNetworks: LOOPBACK_NETWORKS });
  const action = (callId: string, name: string, extra: Record<string, unknown> = {}) =>
    app.request(`/v23.0/${BIZ.phoneNumberId}/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        call_id: callId,
        action: name,
        session: { sdp_type: 'answer', sdp: answer },
        ...extra,
      }),
    });
  const message = async (res: Response) => ((await res.json()) as { error?: { message?: string } }).error?.message;
  const get = (url: string, auth = true) =>
    app.request(url.replace(sim.baseUrl, ''), { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
  afterAll(() => sim.stop());

  it('takes the opt-in on accept only, and refuses a malformed one naming the field', async () => {
    const { call } = await sim.placeCall({ sdp: META_OFFER_SDP, deliver: false });
    const early = await action(call.callId, 'pre_accept', { recording: OPT_IN });
    expect(early.status).toBe(400);
    expect(await message(early)).toMatch(/chosen on accept or connect, not on pre_accept/);
    const bad = await action(call.callId, 'accept', { transcription: { ...OPT_IN, status: 'ON' } });
    expect(await message(bad)).toMatch(/transcription\.status/);
    const noPurpose = await action(call.callId, 'accept', {
      recording: { status: 'ENABLED', announcement_language: 'en_US' },
    });
    expect(await message(noPurpose)).toMatch(/recording\.purpose/);
    expect(call.state).toBe('ringing');
    expect((await action(call.callId, 'accept', { recording: OPT_IN, transcription: OPT_IN })).status).toBe(200);
    expect(call.capture).toEqual({ kinds: ['recording', 'transcription'], purpose: 'quality assurance' });
  });

  it('after the call serves each file behind the bearer token (401 without, 404 unknown), and can fail one', async () => {
    const { call } = await sim.placeCall({ sdp: META_OFFER_SDP, deliver: false });
    sim.capture.fail('transcription');
    expect((await action(call.callId, 'accept', { recording: OPT_IN, transcription: OPT_IN })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await action(call.callId, 'terminate')).status).toBe(200);
    await new Promise((r) => setTimeout(r, sim.capture.delayMs + 200));
    const sent = sim.capture.sent.filter((s) => s.callId === call.callId);
    expect(sent.map((s) => [s.kind, s.status])).toEqual([
      ['recording', 'AVAILABLE'],
      ['transcription', 'FAILED'],
    ]);
    const mediaId = sent[0]!.mediaId;
    expect((await get(`/v23.0/${mediaId}`, false)).status).toBe(401);
    expect((await get(`/v23.0/${sent[1]!.mediaId}`)).status).toBe(404);
    const info = (await (await get(`/v23.0/${mediaId}`)).json()) as { url: string; sha256: string; file_size: number };
    expect((await get(info.url, false)).status).toBe(401);
    const file = Buffer.from(await (await get(info.url)).arrayBuffer());
    expect(file.length).toBe(info.file_size);
    expect(createHash('sha256').update(file).digest('hex')).toBe(info.sha256);
    expect(file.subarray(0, 4).toString()).toBe('OggS');
  });
});

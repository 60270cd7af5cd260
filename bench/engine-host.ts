/**
 * A media process for the engines bench: one engine (`BENCH_ENGINE=forward|wrtc`) hosting calls that the bench
 * process sets up over IPC (offers, answers, candidates, routes, plays). Only signalling crosses IPC; media flows
 * between the bench's peers and this process over loopback UDP, so this process's CPU and RSS are the engine's.
 */
import { mediaEngine } from '../src/media/engines/index.js';
import { ClipCache } from '../src/media/opus/clips.js';
import { LOOPBACK_NETWORKS } from '../src/rtc/cidr.js';
import type { CallMedia, MediaEngineName } from '../src/rtc/engine.js';

export type HostRequest =
  | { id: number; op: 'create'; callId: string; offerSdp: string }
  | { id: number; op: 'agentOffer'; callId: string; sdp: string }
  | { id: number; op: 'agentCandidate'; callId: string; candidate: unknown }
  | { id: number; op: 'bridge'; callId: string }
  | { id: number; op: 'wait'; callId: string }
  | { id: number; op: 'close'; callId: string };

export type HostMessage =
  | { id: number; ok: true; answer?: string }
  | { id: number; ok: false; error: string }
  | { event: 'agent-candidate'; callId: string; candidate: unknown }
  | { event: 'connected'; callId: string; leg: 'wa' | 'agent' }
  | { event: 'dtmf'; callId: string; digit: string };

const engineName = (process.env.BENCH_ENGINE ?? 'forward') as MediaEngineName;
const engine = mediaEngine(engineName);
const calls = new Map<string, CallMedia>();
const send = (m: HostMessage) => process.send?.(m);

async function handle(req: HostRequest): Promise<string | undefined> {
  if (req.op === 'create') {
    const call = await engine.createCall({
      offerSdp: req.offerSdp,
      callId: req.callId,
      allowedNetworks: LOOPBACK_NETWORKS,
      silenceBeforeAccept: true,
    });
    calls.set(req.callId, call);
    call.on('agent-candidate', (candidate) => send({ event: 'agent-candidate', callId: req.callId, candidate }));
    call.on('wa-connected', () => send({ event: 'connected', callId: req.callId, leg: 'wa' }));
    call.on('agent-connected', () => send({ event: 'connected', callId: req.callId, leg: 'agent' }));
    call.on('dtmf', ({ digit }) => send({ event: 'dtmf', callId: req.callId, digit }));
    return call.waAnswerSdp;
  }
  const call = calls.get(req.callId);
  if (!call) throw new Error(`no call ${req.callId}`);
  switch (req.op) {
    case 'agentOffer':
      return call.acceptAgentOffer(req.sdp);
    case 'agentCandidate':
      await call.addAgentCandidate(req.candidate);
      return undefined;
    case 'bridge':
      // The forward engine's default table already routes agent ⇄ caller once the agent's audio starts.
      call.stopPlay();
      call.startAgentAudio();
      return undefined;
    case 'wait':
      call.setRoutes({ caller: ['player'] });
      call.play('wait', [await ClipCache.shared.load('music')], true);
      return undefined;
    case 'close':
      call.close('bench');
      calls.delete(req.callId);
      return undefined;
  }
}

process.on('message', (req: HostRequest) => {
  handle(req).then(
    (answer) => send({ id: req.id, ok: true, ...(answer === undefined ? {} : { answer }) }),
    (err: unknown) => send({ id: req.id, ok: false, error: String(err) }),
  );
});
process.on('disconnect', () => {
  for (const c of calls.values()) c.close('bench over');
  process.exit(0);
});
process.stdout.write(`engine host ready (${engine.name})\n`);

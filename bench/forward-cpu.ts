/**
 * CPU and RSS per call of the forward engine on loopback: N calls on a bridge in its own process (child), the peers
 * (callers and agents that do not decode: numbered 20 ms Opus-sized payloads both ways) in this one. Every packet is
 * counted at the far side, so a step only counts when the bridge really carried its calls.
 *
 *   for n in 1 10 50 100; do npx tsx bench/forward-cpu.ts $n; done
 *
 * One step per run: a second step in the same process sometimes failed to set up its first peer ("remote
 * candidate without ICE transport") after the previous step's peers closed; a fresh process per step avoids it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ForwardCall } from '../src/media/engines/forward/call.js';
import { LOOPBACK_NETWORKS } from '../src/rtc/cidr.js';
import type { IceCandidateMessage } from '../src/rtc/engine.js';
import { RawRtpPeer } from '../src/testing/raw-rtp-peer.js';

type ToBridge =
  | { type: 'call'; id: number; offer: string }
  | { type: 'leg'; id: number; offer: string }
  | { type: 'candidate'; id: number; candidate: IceCandidateMessage }
  | { type: 'measure'; ms: number }
  | { type: 'closeAll' };
type FromBridge =
  | { type: 'answer'; id: number; sdp: string }
  | { type: 'legAnswer'; id: number; sdp: string }
  | { type: 'candidate'; id: number; candidate: IceCandidateMessage }
  | { type: 'measured'; cpuPct: number; rssMb: number }
  | { type: 'closed' };

const WINDOW_MS = 10_000;

async function bridge(): Promise<void> {
  const calls = new Map<number, ForwardCall>();
  const send = (m: FromBridge): void => void process.send?.(m);
  process.on('message', async (m: ToBridge) => {
    if (m.type === 'call') {
      const call = await ForwardCall.create({
        offerSdp: m.offer,
        allowedNetworks: LOOPBACK_NETWORKS,
        agentLegId: 'agent',
      });
      calls.set(m.id, call);
      call.on('leg-candidate', ({ candidate }) => send({ type: 'candidate', id: m.id, candidate }));
      send({ type: 'answer', id: m.id, sdp: call.waAnswerSdp });
    } else if (m.type === 'leg') {
      const call = calls.get(m.id)!;
      const sdp = await call.acceptLegOffer('agent', m.offer);
      call.startAgentAudio();
      send({ type: 'legAnswer', id: m.id, sdp });
    } else if (m.type === 'candidate') {
      await calls.get(m.id)?.addLegCandidate('agent', m.candidate);
    } else if (m.type === 'measure') {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, m.ms));
      const cpu = process.cpuUsage(cpu0);
      const cpuPct = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
      send({ type: 'measured', cpuPct, rssMb: process.memoryUsage().rss / 1e6 });
    } else if (m.type === 'closeAll') {
      for (const c of calls.values()) c.close();
      calls.clear();
      send({ type: 'closed' });
    }
  });
}

function request<T extends FromBridge['type']>(
  child: ChildProcess,
  msg: ToBridge,
  want: T,
  match: (m: Extract<FromBridge, { type: T }>) => boolean = () => true,
): Promise<Extract<FromBridge, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${want} in 30 s`)), 30_000);
    const on = (m: FromBridge): void => {
      if (m.type === want && match(m as Extract<FromBridge, { type: T }>)) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as Extract<FromBridge, { type: T }>);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function step(child: ChildProcess, n: number): Promise<string> {
  const pairs: { caller: RawRtpPeer; agent: RawRtpPeer }[] = [];
  const agents = new Map<number, RawRtpPeer>();
  const onCandidate = (m: FromBridge): void => {
    if (m.type === 'candidate') agents.get(m.id)?.addCandidate(m.candidate);
  };
  child.on('message', onCandidate);
  for (let i = 0; i < n; i++) {
    const caller = await RawRtpPeer.create({ iceLite: true });
    const { sdp } = await request(child, { type: 'call', id: i, offer: caller.offerSdp }, 'answer', (m) => m.id === i);
    caller.applyAnswer(sdp);
    const agent = await RawRtpPeer.create({ mid: '0' });
    agents.set(i, agent);
    const legAnswer = await request(
      child,
      { type: 'leg', id: i, offer: agent.offerSdp },
      'legAnswer',
      (m) => m.id === i,
    );
    agent.applyAnswer(legAnswer.sdp);
    await Promise.all([caller.waitConnected(), agent.waitConnected()]);
    caller.startNumbered('C');
    agent.startNumbered('A');
    pairs.push({ caller, agent });
  }
  await new Promise((r) => setTimeout(r, 2000));
  const before = pairs.map((p) => [p.caller.received.length, p.agent.received.length, p.caller.sent, p.agent.sent]);
  const { cpuPct, rssMb } = await request(child, { type: 'measure', ms: WINDOW_MS }, 'measured');
  await new Promise((r) => setTimeout(r, 200));
  let sent = 0;
  let got = 0;
  for (const [i, p] of pairs.entries()) {
    const [cr, ar, cs, as] = before[i]!;
    sent += p.caller.sent - cs! + (p.agent.sent - as!);
    got += p.caller.received.length - cr! + (p.agent.received.length - ar!);
  }
  for (const p of pairs) {
    p.caller.close();
    p.agent.close();
  }
  await request(child, { type: 'closeAll' }, 'closed');
  child.off('message', onCandidate);
  const perCall = cpuPct / n;
  // Silence frames to the caller fill in when an agent packet is late, so "got" can exceed what the peers sent.
  return `| ${n} | ${cpuPct.toFixed(1)} % | ${perCall.toFixed(2)} % | ${rssMb.toFixed(0)} MB | ${got} / ${sent} |`;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10);
  const child = fork(fileURLToPath(import.meta.url), ['--bridge'], { execArgv: ['--import', 'tsx'] });
  console.log('| calls | bridge CPU (one core) | per call | bridge RSS | packets at far side / sent |');
  console.log('|---|---|---|---|---|');
  try {
    console.log(await step(child, n));
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--bridge')) void bridge();
else void main().then(() => process.exit(0));

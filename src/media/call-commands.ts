import type { Emitter } from '@socket.io/redis-emitter';
import type { CallMedia, OpusClip, OpusPacketSink } from '../rtc/engine.js';
import type { Logger } from '../shared/log.js';
import type { MediaCommand } from './commands.js';
import { MediaError } from './errors.js';

/** One call a media node hosts. */
export interface HostedCall {
  callId: string;
  agentId: string | undefined;
  /** Set once the engine's createCall resolved. */
  bridge: CallMedia | undefined;
  /** Commands that arrived while the bridge was being built. */
  pending: MediaCommand[];
  /** Per browser leg, the socket whose offer made it: answers and candidates go to it only. */
  legSockets: Map<string, string>;
  /** The recording's files, once recording was turned on (kept across pauses). */
  recording: { caller: OpusPacketSink; agents: OpusPacketSink } | undefined;
  statsTimer: NodeJS.Timeout | undefined;
  samples: number;
  closing: boolean;
}

/** What a call's commands need from the node. */
interface CallCommandDeps {
  emitter: Emitter;
  logger: Logger;
  /** Loads a prompt name or an Ogg Opus path as a clip; none: call.play is refused. */
  clips?: ((nameOrPath: string) => Promise<OpusClip>) | undefined;
  /** Opens the two files of a call's recording; none: call.record is refused. */
  recorder?: ((callId: string) => { caller: OpusPacketSink; agents: OpusPacketSink }) | undefined;
}

/** A browser leg id for an agent's console leg. */
export function agentLegId(agentId: string): string {
  return `agent:${agentId}`;
}

/**
 * Runs one command on a hosted call's media. Throws what the engine refuses (what it cannot do included: it never
 * pretends); {@link failureReason} words it.
 */
export async function runCallCommand(
  deps: CallCommandDeps,
  hosted: HostedCall,
  media: CallMedia,
  cmd: MediaCommand,
): Promise<void> {
  switch (cmd.type) {
    case 'agent.offer':
      await legOffer(deps, hosted, media, agentLegId(cmd.agentId), cmd.socketId, cmd.sdp);
      return;
    case 'leg.offer':
      await legOffer(deps, hosted, media, cmd.legId, cmd.socketId, cmd.sdp);
      return;
    case 'agent.candidate':
      if (cmd.candidate && hosted.agentId !== undefined)
        await media.addLegCandidate(agentLegId(hosted.agentId), cmd.candidate);
      return;
    case 'leg.candidate':
      if (cmd.candidate) await media.addLegCandidate(cmd.legId, cmd.candidate);
      return;
    case 'leg.close':
      hosted.legSockets.delete(cmd.legId);
      media.closeLeg(cmd.legId);
      return;
    case 'bridge.startAgentAudio':
      media.startAgentAudio();
      return;
    case 'bridge.applyAnswer':
      await media.applyWaAnswer(cmd.sdp);
      return;
    case 'call.route':
      media.setRoutes(cmd.routes);
      return;
    case 'call.play': {
      const load = deps.clips;
      if (!load) throw new MediaError('unsupported', 'this media node has no Ogg Opus player');
      // A clip that cannot be loaded is skipped (logged): the rest plays, and PLAY_ENDED still comes.
      const loadAll = async (names: string[]) =>
        (
          await Promise.all(
            names.map((c) =>
              load(c).catch((err: unknown) => {
                deps.logger.error({ callId: hosted.callId, clip: c, err: (err as Error).message }, 'clip skipped');
                return undefined;
              }),
            ),
          )
        ).filter((c): c is OpusClip => c !== undefined);
      const [clips, thenLoop] = await Promise.all([loadAll(cmd.clips), loadAll(cmd.thenLoop ?? [])]);
      media.play(cmd.playId, clips, cmd.loop ?? false, thenLoop.length ? thenLoop : undefined);
      return;
    }
    case 'call.stopPlay':
      media.stopPlay();
      return;
    case 'call.record': {
      if (!cmd.on) {
        media.record(null);
        return;
      }
      const open = deps.recorder;
      if (!open) throw new MediaError('unsupported', 'this media node has no recording tap');
      hosted.recording ??= open(hosted.callId);
      media.record(hosted.recording);
      return;
    }
    default:
      return;
  }
}

/** The reason a failed command ends its call with; undefined when the failure is an expected one. */
export function failureReason(cmd: MediaCommand, err: unknown): string | undefined {
  const code = (err as { code?: string }).code;
  if (code === 'agent-offer-superseded' || code === 'media-closed') return undefined;
  const what =
    cmd.type === 'agent.offer'
      ? "the agent's offer is unusable"
      : cmd.type === 'leg.offer'
        ? `the offer of browser leg ${cmd.legId} is unusable`
        : cmd.type === 'bridge.applyAnswer'
          ? "could not apply WhatsApp's answer"
          : `${cmd.type} failed`;
  return `${what}: ${(err as Error).message}`;
}

/** Answers a browser leg's offer and sends the answer to the socket that made it (its candidates follow there). */
async function legOffer(
  deps: CallCommandDeps,
  hosted: HostedCall,
  media: CallMedia,
  legId: string,
  socketId: string,
  sdp: string,
): Promise<void> {
  const answer = await media.acceptLegOffer(legId, sdp);
  hosted.legSockets.set(legId, socketId);
  deps.emitter.to(socketId).emit('rtc:answer', { callId: hosted.callId, legId, sdp: answer });
}

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaNode } from '../media/media.node.js';
import { ClipCache } from '../media/opus/clips.js';
import { RecordingTap } from '../media/opus/recording.js';
import { addStoreJob, recordingQueue } from '../recording/recording.worker.js';
import type { Core } from '../runtime.js';

export interface MediaRole {
  node: MediaNode;
  /** No new calls; resolves when the live ones have ended or `timeoutMs` passed. */
  drain(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A media node's id when MEDIA_NODE_ID is unset: host name, pid and a random tail. Host name and pid alone repeat
 * across containers on host networking (same host name, pid 1 in each), and two nodes with one id would take each
 * other's commands.
 */
export function defaultNodeId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The media role: one media node (one process per core; see README, Performance). */
export async function startMediaRole(core: Core): Promise<MediaRole> {
  const { config, logger } = core;
  const nodeId = config.media.nodeId ?? defaultNodeId();
  const recordingsDir = path.resolve(config.media.recordingsDir);
  mkdirSync(recordingsDir, { recursive: true });
  const recordings = recordingQueue(core.factory.create('recording-queue'), core.keys);
  const node = new MediaNode({
    nodeId,
    media: config.media,
    redis: core.redis,
    commandConn: core.factory.create('media-commands', { blocking: true }),
    keys: core.keys,
    store: core.store,
    deliverer: core.deliverer,
    registry: core.nodes,
    emitter: core.emitter,
    logger: logger.child({ nodeId }),
    metrics: core.metrics,
    clips: (nameOrPath) => ClipCache.shared.load(nameOrPath),
    recorder: (callId) => new RecordingTap({ dir: recordingsDir, callId, logger }).sinks(),
    // A worker combines the two direction files into the call's one recording and stores it.
    onRecordingSaved: async (callId, paths) => {
      await addStoreJob(recordings, callId, paths);
    },
  });
  await node.start();
  return {
    node,
    drain: (ms) => node.drain(ms),
    stop: async () => {
      await node.stop();
      await recordings.close();
    },
  };
}

import type nodeDataChannel from 'node-datachannel';

type PeerConnection = InstanceType<(typeof nodeDataChannel)['PeerConnection']>;

/**
 * Resolves once a node-datachannel peer connection has gathered all its local candidates, or after `timeoutMs` at
 * the latest (the description then carries what was gathered so far). Call it before the description that starts
 * gathering is set: it replaces the connection's gathering-state callback.
 */
export function gatheringComplete(pc: PeerConnection, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

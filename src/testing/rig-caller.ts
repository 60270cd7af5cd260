import type { CallerFactory } from '../sim/simulator.js';
import { OpusRigPeer } from './opus-peer.js';

/**
 * Simulated WhatsApp callers for the simulator that do not decode: each call's caller is a rig peer sending
 * `frames` numbered (see {@link OpusRigPeer}). The peers are kept in `peers` by call id for the test to check.
 */
export function createRigCallerFactory(
  frames: readonly Buffer[],
  opts: { iceLite?: boolean } = {},
): {
  factory: CallerFactory;
  peers: Map<string, OpusRigPeer>;
} {
  const peers = new Map<string, OpusRigPeer>();
  return {
    peers,
    factory: async (callId) => {
      const peer = await OpusRigPeer.offer('caller', { frames, name: callId.slice(0, 16), ...opts });
      peers.set(callId, peer);
      return peer;
    },
  };
}

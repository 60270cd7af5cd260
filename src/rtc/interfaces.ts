import { networkInterfaces } from 'node:os';
import type { NetworkFilter } from './cidr.js';

/**
 * The one local address a media socket should bind to so that every candidate stays inside the allowed networks:
 * an interface address they allow, preferring a real interface over loopback and IPv4 over IPv6; undefined (bind
 * everywhere, candidates filtered afterwards) when every network is allowed or no local address is inside them.
 * node-datachannel gathers loopback candidates only when bound to a loopback address.
 */
export function bindAddressFor(networks: NetworkFilter): string | undefined {
  if (!networks.networks) return undefined;
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => networks.allows(i.address))
    .sort(
      (a, b) => Number(a.internal) - Number(b.internal) || Number(a.family !== 'IPv4') - Number(b.family !== 'IPv4'),
    );
  return addresses[0]?.address;
}

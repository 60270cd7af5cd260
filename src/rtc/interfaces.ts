import { networkInterfaces } from 'node:os';
import type { NetworkFilter } from './cidr.js';

/**
 * The one local address a media socket should bind to so that every candidate stays inside the allowed networks:
 * the first interface address they allow (IPv4 first), or undefined (bind everywhere) when every network is allowed
 * or none of this host's addresses is inside them.
 */
export function bindAddressFor(networks: NetworkFilter): string | undefined {
  if (!networks.networks) return undefined;
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => networks.allows(i.address))
    .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1));
  return addresses[0]?.address;
}

import { BlockList, isIP } from 'node:net';

/** The loopback networks: what tests and the simulators use for `allowedNetworks`. */
export const LOOPBACK_NETWORKS: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

/**
 * A set of CIDR networks that answers "is this address inside?". `undefined` networks mean "allow all".
 * Hostnames (mDNS `.local` candidates) are never inside a restricted set.
 */
export class NetworkFilter {
  readonly #list: BlockList | undefined;
  readonly networks: readonly string[] | undefined;

  constructor(networks: readonly string[] | undefined) {
    this.networks = networks === undefined ? undefined : [...networks];
    if (networks === undefined) {
      this.#list = undefined;
      return;
    }
    const list = new BlockList();
    for (const cidr of networks) {
      const parsed = parseCidr(cidr);
      list.addSubnet(parsed.address, parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6');
    }
    this.#list = list;
  }

  /** True when everything is allowed (no `allowedNetworks` configured). */
  get allowsAll(): boolean {
    return this.#list === undefined;
  }

  allows(address: string): boolean {
    if (this.#list === undefined) return true;
    const bare = stripZone(address);
    const family = isIP(bare);
    if (family === 0) return false;
    return this.#list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Parses `a.b.c.d/n` or `x::y/n` (a bare address means a host route); throws a clear error otherwise. */
export function parseCidr(cidr: string): Cidr {
  const [address = '', prefixText, extra] = cidr.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    throw new Error(`invalid network "${cidr}": expected CIDR notation such as 127.0.0.0/8 or ::1/128`);
  }
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new Error(`invalid prefix length in "${cidr}": expected an integer from 0 to ${max}`);
  }
  return { address, prefix, family: family === 4 ? 4 : 6 };
}

/** `fe80::1%eth0` → `fe80::1`. */
function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i === -1 ? address : address.slice(0, i);
}

const LOOPBACK_FILTER = new NetworkFilter(LOOPBACK_NETWORKS);

export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK_FILTER.allows(address);
}

import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { NetworkFilter } from '../rtc/cidr.js';

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that IPv4 networks match on a dual-stack listener. */
function unmap(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The client's address for rate limits and logs. Behind a balancer every request comes from the balancer: when the
 * direct peer is a trusted proxy (`TRUSTED_PROXIES`), the address is the right-most entry of X-Forwarded-For that
 * is not itself a trusted proxy. Without trusted proxies X-Forwarded-For is ignored (anyone can write it).
 */
export class ClientAddress {
  readonly #trusted: NetworkFilter | undefined;

  constructor(trustedProxies: readonly string[] | undefined) {
    this.#trusted = trustedProxies?.length ? new NetworkFilter(trustedProxies) : undefined;
  }

  of(c: Context): string {
    let peer: string;
    try {
      peer = unmap(getConnInfo(c).remote.address ?? 'unknown');
    } catch {
      peer = 'unknown';
    }
    return this.resolve(peer, c.req.header('x-forwarded-for'));
  }

  /** The pure part of {@link of}: the peer's address and the X-Forwarded-For header. */
  resolve(peer: string, forwardedFor: string | undefined): string {
    const trusted = this.#trusted;
    if (!trusted?.allows(peer) || !forwardedFor) return peer;
    const hops = forwardedFor
      .split(',')
      .map((h) => unmap(h.trim()))
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!trusted.allows(hops[i]!)) return hops[i]!.slice(0, 64);
    return hops[0]?.slice(0, 64) ?? peer;
  }
}

import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, LOOPBACK_NETWORKS, NetworkFilter, parseCidr } from './cidr.js';

describe('NetworkFilter', () => {
  it('allows everything when no networks are configured', () => {
    const f = new NetworkFilter(undefined);
    expect(f.allowsAll).toBe(true);
    expect(f.allows('192.0.2.2')).toBe(true);
    expect(f.allows('not-an-ip.local')).toBe(true);
  });

  it('checks IPv4 and IPv6 membership, ignoring zone ids', () => {
    const f = new NetworkFilter(['10.0.0.0/8', 'fd00::/8', ...LOOPBACK_NETWORKS]);
    expect(f.allows('10.1.2.3')).toBe(true);
    expect(f.allows('11.0.0.1')).toBe(false);
    expect(f.allows('fd00::2')).toBe(true);
    expect(f.allows('fe80::1%eth0')).toBe(false);
    expect(f.allows('127.5.5.5')).toBe(true);
    expect(f.allows('::1')).toBe(true);
    expect(f.allows('abcd-1234.local')).toBe(false);
    expect(f.allows('')).toBe(false);
  });

  it('an empty list allows nothing', () => {
    expect(new NetworkFilter([]).allows('127.0.0.1')).toBe(false);
  });

  it('isLoopbackAddress', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('192.0.2.2')).toBe(false);
  });
});

describe('parseCidr', () => {
  it('parses prefixes and bare addresses', () => {
    expect(parseCidr('127.0.0.0/8')).toEqual({ address: '127.0.0.0', prefix: 8, family: 4 });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 6 });
  });

  it.each(['', 'x/8', '10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/8/9', '10.0.0.0/ 8', '10.0.0.0/a'])(
    'rejects %j with a clear error',
    (bad) => {
      expect(() => parseCidr(bad)).toThrow(/invalid (network|prefix)/);
    },
  );
});

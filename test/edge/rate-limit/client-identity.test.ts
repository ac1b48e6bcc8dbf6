// Who is charged: an IPv4 address as it is, an IPv6 address by its /64 (one host usually holds a whole
// /64: RFC 6177, RFC 8981), an IPv4-mapped IPv6 address as its IPv4 address.
import { describe, expect, it } from 'vitest';
import { addressClientId, ipv6Groups } from '../../../edge/rate-limit/client-identity';

describe('addressClientId', () => {
  it.each([
    ['203.0.113.7', 'ip:203.0.113.7'],
    ['2001:db8:85a3:1:aaaa:bbbb:cccc:dddd', 'ip6:2001:db8:85a3:1::/64'],
    ['2001:0DB8:85A3:0001:0:0:0:1', 'ip6:2001:db8:85a3:1::/64'],
    ['2001:db8:85a3:1::1', 'ip6:2001:db8:85a3:1::/64'],
    ['[2001:db8:85a3:1::2]', 'ip6:2001:db8:85a3:1::/64'],
    ['fe80::1%eth0', 'ip6:fe80:0:0:0::/64'],
    ['::1', 'ip6:0:0:0:0::/64'],
    ['2001:db8::', 'ip6:2001:db8:0:0::/64'],
    ['::ffff:203.0.113.7', 'ip:203.0.113.7'],
    ['::ffff:cb00:7107', 'ip:203.0.113.7'],
    ['not an address', 'ip:not an address'],
    ['1::2::3', 'ip:1::2::3'],
    [undefined, 'ip:unknown'],
  ])('%s → %s', (address, id) => {
    expect(addressClientId(address)).toBe(id);
  });

  it('puts every address of one /64 in one bucket and a neighbouring /64 in another', () => {
    const ids = new Set(['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:1234::'].map(addressClientId));
    expect(ids).toEqual(new Set(['ip6:2001:db8:1:2::/64']));
    expect(addressClientId('2001:db8:1:3::1')).not.toBe(addressClientId('2001:db8:1:2::1'));
  });
});

describe('ipv6Groups', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['1::8', [1, 0, 0, 0, 0, 0, 0, 8]],
    ['::2:3:4:5:6:7:8', [0, 2, 3, 4, 5, 6, 7, 8]],
    ['64:ff9b::192.0.2.33', [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]],
  ])('reads %s', (text, groups) => {
    expect(ipv6Groups(text)).toEqual(groups);
  });

  it.each(['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', '::g', '::1.2.3', '::256.1.1.1', ':1:2:3:4:5:6:7'])(
    'refuses %s',
    (text) => {
      expect(ipv6Groups(text)).toBeUndefined();
    },
  );
});

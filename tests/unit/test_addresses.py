# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Unit tests of openstack_ext.addresses.

Many cases here (scoped, bracketed, NAT64, global IPv6, long proxy chains)
cannot be produced by the loopback functional tests, which only have
127.0.0.0/8 and ::1.
"""

import ipaddress

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import testtools

from openstack_ext import addresses as a

ip = ipaddress.ip_address
net = ipaddress.ip_network
FAST = settings(max_examples=150, deadline=None)


class TestParseAddress(testtools.TestCase):

    def test_plain(self):
        for text, want in [('192.0.2.1', ip('192.0.2.1')),
                           (' 192.0.2.1\t', ip('192.0.2.1')),
                           ('2001:db8::1', ip('2001:db8::1')),
                           ('2001:DB8:0:0::1', ip('2001:db8::1')),
                           ('::1', ip('::1'))]:
            self.assertEqual(want, a.parse_address(text), text)

    def test_ipv4_mapped_becomes_ipv4(self):
        # What a proxy bound to "::" reports for an IPv4 client.
        for text in ('::ffff:192.0.2.1', '::FFFF:c000:201',
                     '[::ffff:192.0.2.1]', '0:0:0:0:0:ffff:192.0.2.1'):
            got = a.parse_address(text)
            self.assertEqual(ip('192.0.2.1'), got, text)
            self.assertEqual(4, got.version)

    def test_other_embeddings_stay_ipv6(self):
        # Only ::ffff:0:0/96 means "this IPv4 host"; NAT64 and the
        # deprecated IPv4-compatible form are other hosts.
        for text in ('::192.0.2.1', '64:ff9b::192.0.2.1', '::ffff:0:c000:201'):
            self.assertEqual(6, a.parse_address(text).version, text)

    def test_brackets_and_scope(self):
        self.assertEqual(ip('2001:db8::1'), a.parse_address('[2001:db8::1]'))
        self.assertEqual(ip('fe80::1'), a.parse_address('fe80::1%eth0'))
        self.assertEqual(ip('fe80::1'), a.parse_address('[fe80::1%25]'))

    def test_refused_and_named(self):
        for text in ('', ' ', 'nonsense', '10.0.0.300', '192.0.2.1/32',
                     '010.0.0.1', '[192.0.2.1', '192.0.2.1:80',
                     '[2001:db8::1]:443', '2001:db8:::1', 'unknown'):
            for _attempt in range(2):  # parses are cached; refusals are not
                err = self.assertRaises(ValueError, a.parse_address, text)
                self.assertIn(repr(text), str(err))

    def test_non_text_refused(self):
        for value in (None, 3232235521, b'192.0.2.1', ip('192.0.2.1'),
                      ['192.0.2.1']):
            self.assertRaises(ValueError, a.parse_address, value)


class TestParseNetwork(testtools.TestCase):

    def test_cidr_and_single_host(self):
        for text, want in [('10.0.0.0/8', net('10.0.0.0/8')),
                           (' 10.0.0.0/8 ', net('10.0.0.0/8')),
                           ('192.0.2.1', net('192.0.2.1/32')),
                           ('0.0.0.0/0', net('0.0.0.0/0')),
                           ('2001:db8::/32', net('2001:db8::/32')),
                           ('[2001:db8::]/32', net('2001:db8::/32')),
                           ('fe80::%eth0/64', net('fe80::/64')),
                           ('::1', net('::1/128')),
                           ('::/0', net('::/0'))]:
            self.assertEqual(want, a.parse_network(text), text)

    def test_mapped_networks_become_ipv4(self):
        self.assertEqual(net('192.0.2.0/24'),
                         a.parse_network('::ffff:192.0.2.0/120'))
        self.assertEqual(net('0.0.0.0/0'), a.parse_network('::ffff:0:0/96'))
        self.assertEqual(net('127.0.0.2/32'),
                         a.parse_network('::ffff:127.0.0.2'))

    def test_host_bits_refused_naming_the_network(self):
        # 10.1.2.3/16 would silently mean 10.1.0.0/16: a typo, refused.
        err = self.assertRaises(ValueError, a.parse_network, '10.1.2.3/16')
        self.assertIn("'10.1.2.3/16'", str(err))
        self.assertIn('10.1.0.0/16', str(err))
        self.assertRaises(ValueError, a.parse_network, '2001:db8::1/32')
        self.assertRaises(ValueError, a.parse_network, '::ffff:192.0.2.1/120')

    def test_bad_prefixes_refused_and_named(self):
        for text in ('10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1',
                     '10.0.0.0/+8', '10.0.0.0/ 8', '10.0.0.0/8.0',
                     '10.0.0.0/255.0.0.0', '2001:db8::/129',
                     '::ffff:0:0/95', '::ffff:192.0.2.0/129', '10.0.0.0/8/8',
                     'nonsense/8', '/8', '10.0.0.300/32',
                     '10.0.0.0/\u00b2'):
            err = self.assertRaises(ValueError, a.parse_network, text)
            self.assertIn(repr(text), str(err))

    def test_prefix_digits_are_ascii(self):
        # str.isdigit() also accepts e.g. Arabic-Indic digits, which int()
        # then reads: a rule must not mean /8 when nobody can see an 8.
        self.assertRaises(ValueError, a.parse_network, '10.0.0.0/\u0668')

    def test_non_text_refused(self):
        for value in (None, 10, net('10.0.0.0/8')):
            self.assertRaises(ValueError, a.parse_network, value)

    def test_lists(self):
        self.assertEqual(['a', 'b', 'c', 'd'],
                         a.split_list(' a, b  c,,d,\n'))
        self.assertEqual([], a.split_list(' , '))
        self.assertEqual([net('10.0.0.0/8'), net('::1/128'),
                          net('127.0.0.2/32')],
                         [a.parse_network(entry) for entry in a.split_list(
                             '10.0.0.0/8,::1 ::ffff:127.0.0.2')])

    @FAST
    @given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
           st.data())
    def test_round_trip(self, address, data):
        prefix = data.draw(st.integers(0, address.max_prefixlen))
        network = net((address, prefix), strict=False)
        if network.version == 6 and network.prefixlen >= 96 and \
                network.network_address.ipv4_mapped is not None:
            return  # normalised to IPv4: covered by the next test
        self.assertEqual(network, a.parse_network(str(network)))
        self.assertEqual(network, a.parse_network(network.compressed))

    @FAST
    @given(st.ip_addresses(v=4), st.integers(0, 32))
    def test_mapped_round_trip(self, address, prefix):
        network = net((address, prefix), strict=False)
        text = '::ffff:%s/%d' % (network.network_address, prefix + 96)
        self.assertEqual(network, a.parse_network(text))


class TestNetworkMap(testtools.TestCase):

    def _map(self, *items):
        return a.NetworkMap((net(n), v) for n, v in items)

    def test_longest_prefix_wins(self):
        m = self._map(('10.1.0.0/16', 'b'), ('10.0.0.0/8', 'a'),
                      ('10.1.2.0/24', 'c'), ('10.1.2.3/32', 'd'))
        for address, want in [('10.1.2.3', 'd'), ('10.1.2.4', 'c'),
                              ('10.1.3.3', 'b'), ('10.200.0.0', 'a')]:
            self.assertEqual(want, m.lookup(ip(address))[1], address)
        self.assertIsNone(m.lookup(ip('11.0.0.0')))
        self.assertEqual(4, len(m))
        self.assertEqual(['d', 'c', 'b', 'a'], [v for _, v in m.networks()])

    def test_ipv6_longest_prefix(self):
        m = self._map(('2001:db8::/32', 'a'), ('2001:db8:1::/48', 'b'),
                      ('2001:db8:1::1/128', 'c'), ('::/0', 'any'))
        self.assertEqual('c', m.lookup(ip('2001:db8:1::1'))[1])
        self.assertEqual('b', m.lookup(ip('2001:db8:1::2'))[1])
        self.assertEqual('a', m.lookup(ip('2001:db8:2::1'))[1])
        self.assertEqual('any', m.lookup(ip('fd00::2'))[1])

    def test_families_are_separate(self):
        m = self._map(('0.0.0.0/0', 'v4'), ('::/0', 'v6'))
        self.assertEqual('v4', m.lookup(ip('127.0.0.1'))[1])
        self.assertEqual('v6', m.lookup(ip('::1'))[1])
        self.assertEqual('v6', m.lookup(ip('::7f00:1'))[1])
        only4 = self._map(('0.0.0.0/0', 'v4'))
        self.assertIsNone(only4.lookup(ip('::1')))
        # Normalise first: a mapped address then finds its IPv4 network.
        self.assertEqual('v4', only4.lookup(
            a.parse_address('::ffff:127.0.0.2'))[1])

    def test_duplicates_refused(self):
        err = self.assertRaises(a.DuplicateNetworkError, self._map,
                                ('10.0.0.0/8', 1), ('10.0.0.0/8', 2))
        self.assertIsInstance(err, ValueError)
        self.assertIn('10.0.0.0/8', str(err))
        # Same number, other length: two distinct networks.
        self.assertEqual(2, len(self._map(('10.0.0.0/8', 1),
                                          ('10.0.0.0/16', 2))))

    def test_empty(self):
        m = a.NetworkMap()
        self.assertEqual(0, len(m))
        self.assertIsNone(m.lookup(ip('10.0.0.1')))
        self.assertEqual([], m.networks())

    @FAST
    @given(st.lists(st.tuples(st.ip_addresses(v=4), st.integers(0, 32)),
                    max_size=20),
           st.lists(st.ip_addresses(v=4), min_size=1, max_size=10))
    def test_matches_brute_force(self, specs, probes):
        networks = {net(s, strict=False) for s in specs}
        m = a.NetworkMap((n, str(n)) for n in networks)
        for address in probes + [n.network_address for n in networks]:
            covering = [n for n in networks if address in n]
            got = m.lookup(address)
            if not covering:
                self.assertIsNone(got)
            else:
                best = max(covering, key=lambda n: n.prefixlen)
                self.assertEqual((best, str(best)), got)


class TestNetworkSet(testtools.TestCase):

    def test_membership(self):
        s = a.NetworkSet([net('127.0.0.0/30'), net('::1/128'),
                          net('127.0.0.0/30')])
        self.assertEqual(2, len(s))
        for address in ('127.0.0.0', '127.0.0.2', '127.0.0.3', '::1'):
            self.assertIn(ip(address), s)
        for address in ('127.0.0.4', '127.0.0.5', '::2', '::7f00:2'):
            self.assertNotIn(ip(address), s)
        self.assertNotIn(ip('127.0.0.1'), a.NetworkSet())

    def test_addresses_of_subclasses_are_looked_up_by_family(self):
        class V4(ipaddress.IPv4Address):
            pass

        class V6(ipaddress.IPv6Address):
            pass

        s = a.NetworkSet([net('127.0.0.0/30'), net('::1/128')])
        self.assertIn(V4('127.0.0.2'), s)
        self.assertNotIn(V4('127.0.0.4'), s)
        self.assertIn(V6('::1'), s)
        self.assertNotIn(V6('::2'), s)

    def test_merged_ranges_keep_their_edges(self):
        # 10.0.0.0/25 and 10.0.0.128/25 touch, /26 lies inside: one range.
        s = a.NetworkSet([net('10.0.0.0/25'), net('10.0.0.128/25'),
                          net('10.0.0.64/26'), net('10.0.2.0/31')])
        self.assertEqual(4, len(s))
        for address in ('10.0.0.0', '10.0.0.127', '10.0.0.128',
                        '10.0.0.255', '10.0.2.0', '10.0.2.1'):
            self.assertIn(ip(address), s)
        for address in ('9.255.255.255', '10.0.1.0', '10.0.1.255',
                        '10.0.2.2', '0.0.0.0', '255.255.255.255'):
            self.assertNotIn(ip(address), s)
        everything = a.NetworkSet([net('0.0.0.0/0'), net('::/0')])
        for address in ('0.0.0.0', '255.255.255.255', '::', 'ffff::1'):
            self.assertIn(ip(address), everything)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 2 ** 32 - 1),
                              st.integers(20, 32)), max_size=30),
           st.lists(st.integers(0, 2 ** 32 - 1), max_size=20))
    def test_membership_is_any_network_containing(self, items, probes):
        networks = [net((n, p), strict=False) for n, p in items]
        s = a.NetworkSet(networks)
        for number in _edges(networks, probes):
            address = ipaddress.IPv4Address(number)
            self.assertEqual(any(address in n for n in networks),
                             address in s, address)


def _edges(networks, probes):
    """*probes*, and the edges of every IPv4 network and just outside."""
    numbers = set(probes)
    for network in networks:
        first = int(network.network_address)
        last = int(network.broadcast_address)
        numbers.update(n for n in (first - 1, first, last, last + 1)
                       if 0 <= n < 2 ** 32)
    return sorted(numbers)


def _trusted(*texts):
    return a.NetworkSet(a.parse_network(t) for t in texts)


class TestForwardedClient(testtools.TestCase):

    def test_without_header_or_trust_the_peer_is_the_client(self):
        trusted = _trusted('127.0.0.4')
        self.assertEqual(ip('127.0.0.3'),
                         a.forwarded_client('127.0.0.3', None, trusted))
        # A trusted proxy that does not say for whom: unknown.
        self.assertIsNone(a.forwarded_client('127.0.0.4', '', trusted))
        self.assertIsNone(a.forwarded_client('127.0.0.4', None, trusted))
        # Spoofed by an untrusted client: ignored.
        self.assertEqual(ip('127.0.0.3'), a.forwarded_client(
            '127.0.0.3', '127.0.0.2', trusted))
        self.assertEqual(ip('127.0.0.4'), a.forwarded_client(
            '127.0.0.4', '127.0.0.2', a.NetworkSet()))

    def test_right_to_left_through_trusted_hops(self):
        trusted = _trusted('10.0.0.0/8', '2001:db8:ffff::/48')
        walk = a.forwarded_client
        self.assertEqual(ip('198.51.100.7'), walk(
            '10.0.0.1', '203.0.113.9, 198.51.100.7', trusted))
        # The client prepended 127.0.0.2; the hop it reached wrote the rest.
        self.assertEqual(ip('198.51.100.7'), walk(
            '10.0.0.1', '127.0.0.2, 198.51.100.7, 10.0.0.2, 10.0.0.3',
            trusted))
        self.assertEqual(ip('2001:db8::7'), walk(
            '2001:db8:ffff::1', '[2001:db8::7],2001:db8:ffff::2', trusted))
        # Every hop trusted: whom they serve is unknown.
        self.assertIsNone(walk('10.0.0.1', '10.0.0.9, 10.0.0.2', trusted))

    def test_normalises_peer_and_entries(self):
        trusted = _trusted('10.0.0.0/8', 'fe80::/10')
        self.assertEqual(ip('198.51.100.7'), a.forwarded_client(
            '::ffff:10.0.0.1', '::ffff:198.51.100.7', trusted))
        self.assertEqual(ip('198.51.100.7'), a.forwarded_client(
            'fe80::1%eth0', '198.51.100.7', trusted))
        self.assertEqual(ip('127.0.0.2'), a.forwarded_client(
            '::ffff:127.0.0.2', None, trusted))
        self.assertIsNone(a.forwarded_client('::ffff:10.0.0.1', None,
                                             trusted))

    def test_garbage_that_would_be_believed_denies(self):
        trusted = _trusted('10.0.0.0/8')
        for header in ('garbage', '198.51.100.7, garbage',
                       '198.51.100.7,', '198.51.100.7:4711',
                       '198.51.100.7, unknown, 10.0.0.2', '_hidden'):
            self.assertIsNone(
                a.forwarded_client('10.0.0.1', header, trusted), header)
        self.assertIsNone(a.forwarded_client('garbage', None, trusted))
        self.assertIsNone(a.forwarded_client('', '198.51.100.7', trusted))

    def test_garbage_left_of_the_client_is_ignored(self):
        self.assertEqual(ip('198.51.100.7'), a.forwarded_client(
            '10.0.0.1', 'garbage, 198.51.100.7', _trusted('10.0.0.0/8')))
        # ...and an untrusted peer's header is not read at all.
        self.assertEqual(ip('127.0.0.3'), a.forwarded_client(
            '127.0.0.3', 'garbage', _trusted('10.0.0.0/8')))

    @FAST
    @given(st.lists(st.sampled_from(
        ['10.0.0.1', '10.9.9.9', '198.51.100.7', '203.0.113.9',
         '::ffff:10.0.0.3', 'junk', '']), min_size=1, max_size=6),
        st.sampled_from(['10.0.0.2', '198.51.100.8']))
    def test_result_only_crosses_trusted_hops(self, entries, peer):
        trusted = _trusted('10.0.0.0/8')
        header = ', '.join(entries)
        got = a.forwarded_client(peer, header, trusted)
        # An empty header is no header.
        chain = [peer] + (list(reversed(entries)) if header else [])
        for hop in chain:
            try:
                address = a.parse_address(hop)
            except ValueError:
                self.assertIsNone(got)
                return
            if address not in trusted:
                self.assertEqual(address, got)
                return
        self.assertIsNone(got)  # every hop trusted


class TestChainClient(testtools.TestCase):

    def test_hops(self):
        chain = '203.0.113.9, 198.51.100.7'
        self.assertEqual(ip('198.51.100.7'), a.chain_client(chain, 1))
        self.assertEqual(ip('203.0.113.9'), a.chain_client(chain, 2))
        self.assertIsNone(a.chain_client(chain, 3))
        self.assertIsNone(a.chain_client(chain, 0))
        self.assertEqual(ip('198.51.100.7'),
                         a.chain_client('198.51.100.7', 0))
        self.assertEqual(ip('198.51.100.7'),
                         a.chain_client('198.51.100.7', 1))

    def test_normalisation_and_garbage(self):
        self.assertEqual(ip('192.0.2.1'),
                         a.chain_client('junk, ::ffff:192.0.2.1', 1))
        self.assertEqual(ip('2001:db8::1'),
                         a.chain_client('[2001:db8::1], 10.0.0.1', 2))
        self.assertIsNone(a.chain_client('192.0.2.1, junk', 1))
        self.assertIsNone(a.chain_client('', 0))
        self.assertIsNone(a.chain_client('', 1))
        self.assertIsNone(a.chain_client(None, 1))

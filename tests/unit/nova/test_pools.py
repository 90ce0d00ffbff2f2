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

"""The mapping core of IP pools: no Nova, no service."""

import ipaddress
import os
import tempfile
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
from oslo_config import cfg
import testtools

from openstack_ext import addresses
from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import pools

SECRET = 'unit-test-secret-0123456789'
OTHER = 'unit-test-other-secret-9876543210'


def pool_map(*items, default=None):
    return pools.PoolMap(pools.parse_client_networks(items), default)


def pool_of(mapping, text):
    return mapping.pool_for(addresses.parse_address(text)).pool


class PoolMapTest(testtools.TestCase):

    def test_longest_prefix_wins_and_no_string_prefixes(self):
        mapping = pool_map('10.0.0.0/8=lab', '10.1.0.0/16=doc',
                           '10.1.2.0/24=ops', '10.2.0.0/16=ops')
        self.assertEqual('ops', pool_of(mapping, '10.1.2.3'))
        self.assertEqual('doc', pool_of(mapping, '10.1.3.1'))
        # The guide matched '10.10...' as '10.1'.
        self.assertEqual('lab', pool_of(mapping, '10.10.0.1'))
        self.assertEqual('lab', pool_of(mapping, '10.20.0.1'))
        self.assertIsNone(pool_of(mapping, '11.0.0.1'))

    def test_ipv6_and_ipv4_mapped_clients(self):
        mapping = pool_map('2001:db8::/32=lab', '2001:db8:1::/48=doc',
                           '10.2.0.0/16=ops')
        self.assertEqual('doc', pool_of(mapping, '2001:db8:1::7'))
        self.assertEqual('lab', pool_of(mapping, '2001:db8:2::7'))
        self.assertEqual('ops', pool_of(mapping, '::ffff:10.2.0.9'))
        self.assertIsNone(pool_of(mapping, '2001:db9::1'))
        self.assertIsNone(pool_of(mapping, '::a02:9'))  # not mapped

    def test_default_pool_or_refusal(self):
        match = pool_map('10.1.0.0/16=doc', default='dev').pool_for(
            addresses.parse_address('192.0.2.1'))
        self.assertEqual(('dev', None), (match.pool, match.network))
        match = pool_map('10.1.0.0/16=doc').pool_for(
            addresses.parse_address('192.0.2.1'))
        self.assertEqual((None, None), (match.pool, match.network))
        match = pool_map('10.1.0.0/16=doc', default='dev').pool_for(
            addresses.parse_address('10.1.0.1'))
        self.assertEqual(('doc', ipaddress.ip_network('10.1.0.0/16')),
                         (match.pool, match.network))
        self.assertEqual({'doc', 'dev'},
                         pool_map('10.1.0.0/16=doc', default='dev').pools)

    def test_forwarded_chains(self):
        mapping = pool_map('10.1.0.0/16=doc', '10.2.0.0/16=ops',
                           default='dev')
        for chain, hops, pool in [
                ('10.1.0.1', 0, 'doc'),
                ('10.1.0.1, 10.2.0.1', 0, None),  # all client-written
                ('10.1.0.1, 10.2.0.1', 1, 'ops'),  # forged entry skipped
                ('10.1.0.1, 10.2.0.1', 2, 'doc'),
                ('10.2.0.1', 2, None),  # did not come through both proxies
                ('not-an-address', 0, None),
                (None, 0, None)]:
            match = mapping.pool_for_chain(chain, hops)
            self.assertEqual(pool, match.pool, (chain, hops))
            self.assertEqual(pool is None, match.address is None)

    @given(st.lists(st.tuples(st.integers(0, 2 ** 32 - 1),
                              st.integers(0, 32)), max_size=40),
           st.lists(st.integers(0, 2 ** 32 - 1), max_size=20))
    def test_lookup_matches_a_linear_longest_prefix_scan(self, nets, ips):
        networks = {ipaddress.ip_network((n, length), strict=False)
                    for n, length in nets}
        entries = [(network, 'p%d' % i) for i, network in enumerate(networks)]
        mapping = pools.PoolMap(entries)
        for number in ips:
            address = ipaddress.ip_address(number)
            best = max((e for e in entries if address in e[0]),
                       key=lambda e: e[0].prefixlen, default=(None, None))
            self.assertEqual(best[1], mapping.pool_for(address).pool)


class HostnamePoolsTest(testtools.TestCase):

    def test_pool_name_ends_at_a_separator_and_longest_wins(self):
        hostnames = pools.HostnamePools(['doc', 'dev', 'dev-eu', 'devops'])
        for hostname, pool in [
                ('doc', 'doc'), ('doc-1', 'doc'), ('doc.example.org', 'doc'),
                ('doc_2', 'doc'), ('docker-1', None), ('doc1', None),
                ('dev-eu-1', 'dev-eu'), ('dev-eu', 'dev-eu'),
                ('dev-us-1', 'dev'), ('devops-1', 'devops'),
                ('devopsy', None), ('DOC-1', None), ('do', None), ('', None),
                ('-doc', None)]:
            self.assertEqual(pool, hostnames.pool_of(hostname), hostname)

    def test_each_hostname_is_worked_out_once(self):
        hostnames = pools.HostnamePools(['doc'])
        with mock.patch.object(hostnames, '_find',
                               wraps=hostnames._find) as find:
            for _ in range(3):
                self.assertEqual('doc', hostnames.pool_of('doc-1'))
                self.assertIsNone(hostnames.pool_of('ops-1'))
        self.assertEqual(2, find.call_count)


class StampTest(testtools.TestCase):

    def test_round_trip(self):
        for pool in ('doc', pools.NO_POOL):
            stamp = pools.sign_stamp(SECRET, pool, 'project-a')
            self.assertEqual(pool, pools.verify_stamp(SECRET, stamp,
                                                      'project-a'))

    def test_forgeries_and_replays_do_not_verify(self):
        stamp = pools.sign_stamp(SECRET, 'doc', 'project-a')
        _, _, mac = stamp.partition(':')
        for candidate, secret, project in [
                (stamp, SECRET, 'project-b'),            # other project
                (stamp, SECRET + 'x', 'project-a'),      # other secret
                (stamp, None, 'project-a'),              # no secret here
                (stamp, SECRET, None),
                ('ops:' + mac, SECRET, 'project-a'),     # pool swapped
                (stamp[:-1] + 'f', SECRET, 'project-a'),
                ('doc', SECRET, 'project-a'),
                ('doc:', SECRET, 'project-a'),
                ('doc:' + '\u00e9' * 64, SECRET, 'project-a'),
                ([stamp], SECRET, 'project-a'),
                (None, SECRET, 'project-a')]:
            self.assertIsNone(pools.verify_stamp(secret, candidate, project),
                              (candidate, secret, project))

    def test_rotation_first_signs_all_verify(self):
        old = pools.sign_stamp(SECRET, 'doc', 'project-a')
        new = pools.sign_stamp(OTHER, 'ops', 'project-a')
        # Overlap: both verify, and which one signed is known.
        self.assertEqual(('doc', 1), pools.check_stamp((OTHER, SECRET), old,
                                                       'project-a'))
        self.assertEqual(('ops', 0), pools.check_stamp((OTHER, SECRET), new,
                                                       'project-a'))
        # The old secret removed: its stamps no longer verify.
        self.assertEqual((None, None), pools.check_stamp((OTHER,), old,
                                                         'project-a'))
        self.assertIsNone(pools.verify_stamp((), new, 'project-a'))
        # Positive control for the removal.
        self.assertEqual('ops', pools.verify_stamp((OTHER,), new,
                                                   'project-a'))

    def test_stamps_differ_by_project_and_pool(self):
        self.assertEqual(4, len({
            pools.sign_stamp(SECRET, pool, project)
            for pool in ('doc', 'ops') for project in ('a', 'b')}))


class LoadSettingsTest(testtools.TestCase):

    def conf(self, text='', **overrides):
        conf = cfg.ConfigOpts()
        pool_conf.register_opts(conf)
        with tempfile.NamedTemporaryFile('w', suffix='.conf',
                                         delete=False) as f:
            f.write('[ip_pools]\n' + text)
        self.addCleanup(os.unlink, f.name)
        conf(['--config-file', f.name])
        for name, value in overrides.items():
            conf.set_override(name, value, pool_conf.GROUP)
        return conf

    def assertConfigError(self, conf, *expected, **kwargs):
        error = self.assertRaises(pools.PoolConfigError,
                                  pools.load_settings, conf, **kwargs)
        for text in expected:
            self.assertIn(text, str(error))
        return error

    def test_guide_mapping(self):
        settings = pools.load_settings(self.conf(
            'client_networks = 10.1.0.0/16=doc, 10.2.0.0/16 = ops\n'
            'default_pool = dev\n'))
        self.assertEqual({'doc', 'ops', 'dev'}, settings.pool_map.pools)
        self.assertEqual('hostname_prefix', settings.host_selection)
        self.assertEqual(0, settings.trusted_proxy_hops)
        self.assertEqual((), settings.stamp_secrets)

    def test_errors_name_the_option_and_the_value(self):
        for text, expected in [
                ('client_networks = 10.1.2.3/16=doc',
                 ['[ip_pools] client_networks', "'10.1.2.3/16=doc'",
                  'host bits set; the network is 10.1.0.0/16']),
                ('client_networks = 10.1.0.0/40=doc',
                 ['client_networks', '10.1.0.0/40=doc', 'prefix length']),
                ('client_networks = doc.example.org/16=doc',
                 ['client_networks', 'doc.example.org/16=doc',
                  'not an IP network']),
                ('client_networks = 10.1.0.0/16',
                 ['client_networks', "'10.1.0.0/16'", 'CIDR=pool']),
                ('client_networks = =doc',
                 ['client_networks', "'=doc'", 'CIDR=pool']),
                ('client_networks = 10.1.0.0/16=',
                 ['client_networks', "'10.1.0.0/16='", 'pool name']),
                ('client_networks = 10.1.0.0/16=d o c',
                 ['client_networks', '10.1.0.0/16=d o c', "'d o c'"]),
                ('client_networks = 10.1.0.0/16=doc, 10.1.0.0/16=ops',
                 ['client_networks', '10.1.0.0/16=doc, 10.1.0.0/16=ops',
                  'more than once']),
                ('client_networks = 2001:db8::/32=doc, 2001:DB8::/32=doc',
                 ['client_networks', 'more than once']),
                ('client_networks = 10.1.0.0/16=doc, ::ffff:10.1.0.0/112=doc',
                 ['client_networks', 'more than once']),
                ('', ['client_networks', 'default_pool']),
                ('client_networks =\ndefault_pool =',
                 ['default_pool', "''", 'pool name']),
                ('default_pool = -dev', ['default_pool', "'-dev'"]),
                ('default_pool = dev\nhost_selection = hostname',
                 ['[ip_pools] host_selection', "'hostname'"]),
                ('default_pool = dev\ntrusted_proxy_hops = -1',
                 ['[ip_pools] trusted_proxy_hops', 'greater than or equal']),
                ('default_pool = dev\nhost_selection = aggregate_metadata\n'
                 'aggregate_metadata_key = ',
                 ['aggregate_metadata_key', "''"])]:
            self.assertConfigError(self.conf(text), *expected)

    def test_stamp_secret(self):
        error = self.assertConfigError(
            self.conf('default_pool = dev\nstamp_secret = tiny-secret'),
            '[ip_pools] stamp_secret', '16 characters')
        self.assertNotIn('tiny-secret', str(error))
        self.assertConfigError(self.conf('default_pool = dev'),
                               '[ip_pools] stamp_secret', 'ip_pool_stamp',
                               require_secret=True)
        settings = pools.load_settings(
            self.conf('default_pool = dev\nstamp_secret = ' + SECRET),
            require_secret=True)
        self.assertEqual((SECRET,), settings.stamp_secrets)
        settings = pools.load_settings(self.conf(
            'default_pool = dev\nstamp_secret = %s, %s' % (SECRET, OTHER)))
        self.assertEqual((SECRET, OTHER), settings.stamp_secrets)
        for text, expected in [
                ('%s,tiny-secret' % SECRET, 'value 2 of 2 is shorter'),
                ('%s,%s' % (SECRET, SECRET), 'more than once')]:
            error = self.assertConfigError(
                self.conf('default_pool = dev\nstamp_secret = ' + text),
                '[ip_pools] stamp_secret = ****', expected)
            self.assertNotIn(SECRET, str(error))

    def test_default_pool_any(self):
        settings = pools.load_settings(self.conf(
            'client_networks = 10.1.0.0/16=doc\ndefault_pool = *'))
        self.assertEqual(frozenset(['doc']), settings.pool_map.pools)
        self.assertEqual(pools.ANY_POOL, settings.pool_map.pool_for(
            addresses.parse_address('192.0.2.1')).pool)
        self.assertEqual('doc', settings.pool_map.pool_for(
            addresses.parse_address('10.1.0.1')).pool)
        # '*' is no pool name: not as a client network's pool.
        self.assertConfigError(self.conf('client_networks = 10.1.0.0/16=*'),
                               'client_networks', 'pool name')

    def test_exclusive_pools(self):
        settings = pools.load_settings(self.conf(
            'client_networks = 10.1.0.0/16=doc, 10.2.0.0/16=ops\n'
            'default_pool = *\nexclusive_pools = doc, ops'))
        self.assertEqual(frozenset(['doc', 'ops']), settings.exclusive_pools)
        self.assertEqual(frozenset(), pools.load_settings(self.conf(
            'default_pool = *\nclient_networks = 10.1.0.0/16=doc'))
            .exclusive_pools)
        for text in ('doc, qa', '*'):
            self.assertConfigError(self.conf(
                'client_networks = 10.1.0.0/16=doc\ndefault_pool = *\n'
                'exclusive_pools = ' + text),
                '[ip_pools] exclusive_pools = %s' % text,
                'is not a pool of client_networks')

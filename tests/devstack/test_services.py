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

"""The files the plugin produced, loaded by the real Swift and Nova.

After two post-config runs on a gate-like host, inside DevStack's own
library (tests/devstack/harness.py), the proxy-server.conf is loaded with
Swift's own loadapp, the nova.conf by the Nova scheduler's host manager
and, with api-paste.ini, into nova-api's v2.1 pipelines, each in a process
of its own (service_probe.py).
"""

import importlib.util

import testtools

from tests.devstack import harness
from tests.devstack.harness import API_PASTE
from tests.devstack.harness import NOVA_CONF
from tests.devstack.harness import PROXY_CONF

WHITELIST = 'openstack_ext.swift.ip_whitelist.IPWhitelistMiddleware'
POOL_FILTER = 'openstack_ext.nova.pool_filter.ClientNetworkPoolFilter'
POOL_STAMP = 'openstack_ext.nova.pool_stamp.PoolStampMiddleware'
KEYSTONE_CONTEXT = 'nova.api.auth.NovaKeystoneContext'
# Swift middleware by module, as service_probe.py reports them.
SWIFT = 'swift.common.middleware.'
MUST_PRECEDE = [SWIFT + 'tempurl.TempURL', SWIFT + 'tempauth.TempAuth',
                SWIFT + 'keystoneauth.KeystoneAuth',
                'keystonemiddleware.auth_token.AuthProtocol']
MUST_FOLLOW = [SWIFT + 'bulk.Bulk', SWIFT + 'formpost.FormPost',
               SWIFT + 'staticweb.StaticWeb',
               SWIFT + 'copy.ServerSideCopyMiddleware',
               SWIFT + 'container_quotas.ContainerQuotaMiddleware',
               SWIFT + 'account_quotas.AccountQuotaMiddleware',
               SWIFT + 'slo.StaticLargeObject',
               SWIFT + 'dlo.DynamicLargeObject',
               SWIFT + 'versioned_writes.legacy.VersionedWritesMiddleware',
               SWIFT + 'symlink.SymlinkMiddleware']
DEVSTACK_ADDRESSES = ['127.0.0.1', '::1', harness.HOST_IP, harness.HOST_IPV6]


def missing(module):
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:
        found = False
    return not found


class ProducedConfigTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super(ProducedConfigTest, cls).setUpClass()
        cls.host = harness.Host(cls.addClassCleanup)
        cls.host.run('stack')

    def produced(self, relpath):
        # Post-config ran twice; test_plugin checks the runs agree.
        return self.host.snapshot_file('post-config-again', relpath)

    @testtools.skipIf(missing('openstack_ext.swift.ip_whitelist'),
                      'the Swift ip_whitelist middleware is not there yet')
    def test_swift_loads_the_pipeline_with_the_whitelist_in_place(self):
        result = self.host.probe('swift', self.produced(PROXY_CONF),
                                 *DEVSTACK_ADDRESSES + ['203.0.113.9'])
        chain = result['pipeline']
        self.assertEqual(1, chain.count(WHITELIST), chain)
        here = chain.index(WHITELIST)
        for name in MUST_PRECEDE:
            self.assertLess(chain.index(name), here, name)
        for name in MUST_FOLLOW:
            self.assertGreater(chain.index(name), here, name)
        self.assertEqual('swift.proxy.server.Application', chain[-1])
        # DevStack's own addresses are always allowed and, with tls-proxy,
        # trusted as proxies; anybody else is neither.
        expected = dict.fromkeys(DEVSTACK_ADDRESSES, True)
        expected['203.0.113.9'] = False
        self.assertEqual(expected, result['always_allow'])
        self.assertEqual(expected, result['trusted_proxies'])
        # stack.sh's "is swift up" probe still answers, and says so.
        self.assertEqual(200, result['info_status'])
        self.assertIn('ip_whitelist', result['info_sections'])

    @testtools.skipIf(missing('openstack_ext.swift.ip_whitelist'),
                      'the Swift ip_whitelist middleware is not there yet')
    def test_swift_loads_the_s3api_pipeline(self):
        host = harness.Host(self.addCleanup, lines=['enable_service s3api'])
        host.run('stack')
        chain = host.probe('swift', host.path(PROXY_CONF),
                           harness.HOST_IP)['pipeline']
        self.assertLess(chain.index(SWIFT + 's3api.s3api.S3ApiMiddleware'),
                        chain.index(WHITELIST))
        self.assertEqual(chain.index(SWIFT + 'tempauth.TempAuth') + 1,
                         chain.index(WHITELIST))

    @testtools.skipIf(missing('openstack_ext.nova.pool_filter'),
                      'the Nova scheduler filter is not there yet')
    def test_nova_scheduler_loads_and_enables_the_filter(self):
        result = self.host.probe('nova-scheduler', self.produced(NOVA_CONF))
        enabled = [name.rsplit('.', 1)[1] for name in result['enabled']]
        devstack = self.host.ini(NOVA_CONF, 'configured')['filter_scheduler'][
            'enabled_filters'][0].split(',')
        self.assertEqual(devstack + ['ClientNetworkPoolFilter'], enabled)
        self.assertEqual(POOL_FILTER, result['enabled'][-1])
        pools = result['ip_pools']
        self.assertEqual([], pools['client_networks'])
        self.assertTrue(pools['default_pool'])
        self.assertEqual('hostname_prefix', pools['host_selection'])
        self.assertEqual(0, pools['trusted_proxy_hops'])
        self.assertEqual(64, pools['stamp_secret_length'])

    @testtools.skipIf(missing('openstack_ext.nova.pool_stamp'),
                      'the nova-api ip_pool_stamp filter is not there yet')
    def test_nova_api_builds_both_pipelines_with_the_stamp(self):
        result = self.host.probe('nova-api', self.produced(NOVA_CONF),
                                 self.produced(API_PASTE))
        for name, chain in result.items():
            self.assertEqual(1, chain.count(POOL_STAMP), name)
            self.assertEqual(chain.index(KEYSTONE_CONTEXT) + 1,
                             chain.index(POOL_STAMP), name)
            self.assertEqual('nova.api.openstack.compute.routes.APIRouterV21',
                             chain[-1], name)

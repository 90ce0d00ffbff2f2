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

"""ClientNetworkPoolFilter's decisions, on Nova objects without services."""

import logging
import types
from unittest import mock

import fixtures
from nova import context as nova_context
from nova import exception
from nova import objects
from oslo_config import fixture as config_fixture
from oslo_middleware import http_proxy_to_wsgi
from oslo_utils.fixture import uuidsentinel as uuids
import testtools

from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_decision
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.unit.nova import hook_fixture

SECRET = 'unit-test-secret-0123456789'
PROJECT = 'project-a'
HOSTS = ('doc-1', 'doc-2', 'ops-1', 'dev-1', 'docker-1')


def host_states(*names, aggregates=None):
    aggregates = aggregates or {}
    return [types.SimpleNamespace(host=name, aggregates=[
        types.SimpleNamespace(metadata=metadata)
        for metadata in aggregates.get(name, [])]) for name in names or HOSTS]


def spec(remote='10.1.0.5', stamp=None, hints=None, ignore_hosts=None,
         cell=False, rebuild=False):
    hints = dict(hints or {})
    if stamp is not None:
        hints[pools.HINT] = [stamp]
    if rebuild:
        hints['_nova_check_type'] = ['rebuild']
    request = objects.RequestSpec(
        project_id=PROJECT, instance_uuid=uuids.instance,
        scheduler_hints=hints, ignore_hosts=ignore_hosts)
    if cell:
        request.requested_destination = objects.Destination(
            cell=objects.CellMapping(uuid=uuids.cell))
    request._context = nova_context.RequestContext(
        'user', PROJECT, is_admin=False, remote_address=remote)
    return request


class PoolFilterTest(testtools.TestCase):

    def setUp(self):
        super(PoolFilterTest, self).setUp()
        objects.register_all()
        self.conf = self.useFixture(config_fixture.Config(pool_filter.CONF))
        self.conf.register_opts(http_proxy_to_wsgi.OPTS,
                                group='oslo_middleware')
        self.options(stamp_secret=SECRET, default_pool='dev',
                     client_networks=['10.1.0.0/16=doc', '10.2.0.0/16=ops',
                                      '10.3.0.0/16=qa'])
        self.log = self.useFixture(fixtures.FakeLogger(
            name='openstack_ext.nova', level=logging.DEBUG))
        self.useFixture(hook_fixture.PlacementHookIsolation())

    def options(self, **options):
        self.conf.config(group='ip_pools', **options)

    def passing(self, request, hosts=None, filter_=None):
        """The hosts that pass, through Nova's own filter_all."""
        filter_ = filter_ or pool_filter.ClientNetworkPoolFilter()
        found = filter_.filter_all(hosts or host_states(), request)
        return sorted(host.host for host in found)

    def assertRefused(self, request, *expected, hosts=None):
        """No host passes; the placement hook's refusal says *expected*."""
        filter_ = pool_filter.ClientNetworkPoolFilter()
        self.assertEqual([], self.passing(request, hosts, filter_))
        if expected:
            error = self.assertRaises(
                exception.RequestFilterFailed,
                placement_hook.installed().require_ip_pool, None, request)
            for text in expected:
                self.assertIn(text, str(error))

    def test_refuses_to_start_on_a_bad_configuration(self):
        self.options(client_networks=['10.1.0.0/16=doc', '10.1.0.0/16=ops'])
        self.assertRaises(pools.PoolConfigError,
                          pool_filter.ClientNetworkPoolFilter)
        self.options(client_networks=['10.1.0.0/16=doc'])
        pool_filter.ClientNetworkPoolFilter()
        self.conf.config(group='oslo_middleware',
                         enable_proxy_headers_parsing=True)
        error = self.assertRaises(pools.PoolConfigError,
                                  pool_filter.ClientNetworkPoolFilter)
        self.assertIn('[ip_pools] trusted_proxy_hops = 0', str(error))
        self.options(trusted_proxy_hops=1)
        pool_filter.ClientNetworkPoolFilter()

    def test_an_ordinary_filter(self):
        cls = pool_filter.ClientNetworkPoolFilter
        self.assertTrue(cls.run_filter_once_per_request)
        self.assertFalse(cls.RUN_ON_REBUILD)
        self.assertNotIn('filter_all', vars(cls))
        self.assertIn('host_passes', vars(cls))

    def test_never_raises(self):
        self.options(stamp_secret=None)
        filter_ = pool_filter.ClientNetworkPoolFilter()
        with mock.patch.object(pool_decision.PoolDecider, '_request_pool',
                               side_effect=RuntimeError('database down')):
            self.assertEqual([], self.passing(spec('10.1.0.5'),
                                              filter_=filter_))
        # Once per request, not once per host.
        self.assertEqual(1, self.log.output.count(
            'Could not decide the IP pool'))

    def test_boot_by_client_address(self):
        # Only without a stamp_secret: the stamp filter is not deployed.
        self.options(stamp_secret=None)
        self.assertEqual(['doc-1', 'doc-2'], self.passing(spec('10.1.0.5')))
        self.assertEqual(['ops-1'], self.passing(spec('10.2.0.5')))
        self.assertEqual(['dev-1'], self.passing(spec('10.10.0.5')))
        self.assertIn("ops-1 is not in IP pool 'dev' (its pool: 'ops')",
                      self.log.output)
        self.assertIn("needs IP pool 'dev': client 10.10.0.5 is in no client "
                      "network: default pool", self.log.output)
        self.assertIn("needs IP pool 'ops': client 10.2.0.5 is in "
                      "10.2.0.0/16", self.log.output)

    def test_refusals_name_the_reason(self):
        self.options(stamp_secret=None)
        self.assertRefused(spec('10.3.0.5'))
        self.assertIn("needs IP pool 'qa': client 10.3.0.5 is in "
                      "10.3.0.0/16", self.log.output)
        self.options(default_pool=None)
        self.assertRefused(spec('192.0.2.1'), 'in no IP pool')
        self.assertIn('client 192.0.2.1', self.log.output)
        self.assertRefused(spec(None), 'in no IP pool')
        self.assertIn('no acceptable client address with 0 trusted proxy '
                      'hops', self.log.output)

    def test_stamp_decides_for_boots_and_moves(self):
        stamp = pools.sign_stamp(SECRET, 'doc', PROJECT)
        for request in (spec('10.2.0.5', stamp),
                        spec('10.2.0.5', stamp, cell=True,
                             ignore_hosts=['ops-1'])):
            self.assertEqual(['doc-1', 'doc-2'], self.passing(request))
        refused = pools.sign_stamp(SECRET, pools.NO_POOL, PROJECT)
        self.assertRefused(spec('10.1.0.5', refused), 'in no IP pool')
        self.assertIn('nova-api stamped its client as in no IP pool (request '
                      'from 10.1.0.5)', self.log.output)

    def test_stamp_of_a_pool_this_scheduler_does_not_know(self):
        stamp = pools.sign_stamp(SECRET, 'lab', PROJECT)
        self.assertRefused(spec('10.1.0.5', stamp))
        self.assertIn("needs IP pool 'lab': stamped by nova-api",
                      self.log.output)

    def test_unverified_hints_are_ignored(self):
        forged = ('doc', pools.sign_stamp(SECRET, 'doc', 'project-b'),
                  pools.sign_stamp('another-secret-0123', 'doc', PROJECT))
        # With a secret, nova-api stamps every boot: an unverified one is
        # refused whatever its address.
        for stamp in forged + (None,):
            self.assertRefused(spec('10.2.0.5', stamp),
                               'not stamped by ip_pool_stamp')
        self.assertIn('Ignoring an ip_pool hint', self.log.output)
        self.assertIn('has no valid ip_pool stamp although [ip_pools] '
                      'stamp_secret is set', self.log.output)
        # Without one, hints count for nothing: the address decides.
        self.options(stamp_secret=None)
        for stamp in forged + (pools.sign_stamp(SECRET, 'doc', PROJECT),):
            self.assertEqual(['ops-1'], self.passing(spec('10.2.0.5', stamp)))

    def test_unstamped_moves_stay_in_the_source_hosts_pool(self):
        for request in (spec('10.2.0.5', ignore_hosts=['doc-1']),
                        spec('10.2.0.5', ignore_hosts=['doc-1', 'ops-1']),
                        spec('10.2.0.5', cell=True, ignore_hosts=['doc-1'])):
            self.assertEqual(['doc-1', 'doc-2'], self.passing(request))
        self.assertIn("it stays in IP pool 'doc' of doc-1", self.log.output)

    def test_unstamped_moves_without_a_pooled_source_are_unconstrained(self):
        for request in (spec('10.2.0.5', cell=True),
                        spec('10.2.0.5', ignore_hosts=['docker-1'])):
            self.assertEqual(sorted(HOSTS), self.passing(request))
        self.assertIn('without a pool constraint: it has no ip_pool stamp '
                      'and Nova names no host it leaves', self.log.output)
        self.assertIn('the host it leaves, docker-1, is in no IP pool',
                      self.log.output)

    def test_rebuild_is_let_through(self):
        self.assertEqual(sorted(HOSTS), self.passing(
            spec('10.2.0.5', pools.sign_stamp(SECRET, 'doc', PROJECT),
                 rebuild=True)))

    def test_aggregate_pools(self):
        self.options(host_selection='aggregate_metadata', stamp_secret=None)
        hosts = host_states('a', 'b', 'c', 'd', aggregates={
            'a': [{'ip_pool': 'doc'}, {'other': 'x'}],
            'b': [{'ip_pool': 'doc'}, {'ip_pool': 'doc'}],
            'c': [{'ip_pool': 'doc'}, {'ip_pool': 'ops'}],
            'd': [{'ip_pool': 'ops'}]})
        filter_ = pool_filter.ClientNetworkPoolFilter()
        for remote, passing in [('10.1.0.5', ['a', 'b']),
                                ('10.1.0.6', ['a', 'b']),
                                ('10.2.0.5', ['d'])]:
            self.assertEqual(passing, self.passing(spec(remote), hosts,
                                                   filter_))
        self.assertEqual(1, self.log.output.count(
            'Host c is in aggregates naming IP pools doc, ops'))
        # Nova replaces an aggregate's object when its metadata changes.
        hosts[3].aggregates = [types.SimpleNamespace(
            metadata={'ip_pool': 'doc'})]
        self.assertEqual(['a', 'b', 'd'], self.passing(spec('10.1.0.5'),
                                                       hosts, filter_))

    def test_aggregate_pool_of_the_source_of_an_unstamped_move(self):
        self.options(host_selection='aggregate_metadata',
                     aggregate_metadata_key='pool')
        hosts = host_states('a', 'b', aggregates={'a': [{'pool': 'doc'}],
                                                  'b': [{'pool': 'ops'}]})
        with mock.patch.object(objects.AggregateList, 'get_by_host',
                               return_value=[types.SimpleNamespace(
                                   metadata={'pool': 'ops'})]) as get:
            self.assertEqual(['b'], self.passing(
                spec('10.1.0.5', ignore_hosts=['src']), hosts))
        get.assert_called_once_with(mock.ANY, 'src', key='pool')

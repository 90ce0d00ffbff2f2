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

"""Nova's own functional tests of scheduling and moves, with pools deployed.

The test classes below are Nova's (from the nova wheel's ``nova/tests``),
unchanged: each runs with the plugin deployed as an operator would deploy
it, set up before the Nova test case's own ``setUp``:

* ``ClientNetworkPoolFilter`` added to whatever filters the Nova test
  enables (and to the available filters), so the placement hook runs too;
* nova-api's ``ip_pool_stamp`` in Nova's api-paste.ini, with a
  ``stamp_secret``;
* ``openstack-ext sync-pools`` run after every compute service starts (as
  after ``nova-manage cell_v2 discover_hosts``).

Two deployments:

``OnePool``
  every client network (``0.0.0.0/0``, ``::/0``) maps to pool ``all``,
  which holds every host: a hostname rule that puts any name in ``all``
  stands in for naming every test host ``all-*`` (Nova's tests name their
  hosts as they please). Every boot and move is pool-constrained, through
  the ``ip-pool-all`` host aggregate.
``AnyPool``
  ``default_pool = *`` and no client network: the plugin must stay out of
  the way entirely.

``OPENSTACK_EXT_NOVA_STOCK=1`` also loads the same tests without the
plugin, to compare. Nova's own tests must pass unchanged either way.
"""

import os
import unittest

import fixtures
from nova import context as nova_context
from nova.scheduler import host_manager
from nova import test as nova_test
from nova.tests.functional import test_cold_migrate
from nova.tests.functional import test_server_group
from nova.tests.functional import test_servers
from oslo_middleware import http_proxy_to_wsgi
from paste.deploy import loadwsgi
import testtools

from openstack_ext.nova import pool_decision
from openstack_ext.nova import pool_sync
from openstack_ext.nova import pools
from tests.functional.nova import base
from tests.unit.nova import hook_fixture

FILTER_PATH = 'openstack_ext.nova.pool_filter.ClientNetworkPoolFilter'
ONE_POOL = dict(client_networks=['0.0.0.0/0=all', '::/0=all'],
                default_pool=None, stamp_secret=[base.SECRET],
                trusted_proxy_hops=0)
ANY_POOL = dict(client_networks=[], default_pool='*',
                stamp_secret=[base.SECRET], trusted_proxy_hops=0)

# (Nova test class, test methods or None for all): scheduling and moves.
SELECTION = [
    (test_server_group.ServerGroupTestV21, None),
    (test_cold_migrate.ColdMigrationDisallowSameHost, None),
    (test_servers.ServerMovingTests, [
        'test_resize_revert', 'test_resize_confirm',
        'test_resize_not_enough_resource', 'test_migrate_no_valid_host',
        'test_evacuate_instance_kept_on_the_hypervisor',
        'test_evacuate_host_specified_but_not_forced',
        'test_shelve_offload_unshelve_diff_host', 'test_live_migrate',
        'test_rescheduling_when_migrating_instance',
        'test_evacuate_after_server_created_with_host',
        'test_migrate_confirm']),
]
# The smaller selection for default_pool = *, which constrains nothing.
ANY_SELECTION = [
    (test_server_group.ServerGroupTestV21, None),
    (test_cold_migrate.ColdMigrationDisallowSameHost, None),
]


class PoolDeployment(fixtures.Fixture):
    """The plugin deployed into a Nova functional test, before its setUp."""

    # test id -> pools the placement hook constrained requests to, and
    # stamped pools the scheduler saw: the proof that it was deployed.
    seen = {}

    def __init__(self, test, options, every_host_in=None):
        super(PoolDeployment, self).__init__()
        self.test = test
        self.options = options
        self.every_host_in = every_host_in

    def _setUp(self):
        test = self.test
        nova_conf = base.nova_conf
        self.useFixture(hook_fixture.PlacementHookIsolation())
        test.flags(group='ip_pools', **self.options)
        nova_conf.CONF.register_opts(http_proxy_to_wsgi.OPTS,
                                     group='oslo_middleware')
        test.flags(api_paste_config=base.stamped_api_paste(
            self.useFixture(fixtures.TempDir()).path), group='wsgi')
        # See base.PoolTestCase: swift's tests may share the worker.
        self.useFixture(fixtures.MonkeyPatch(
            'paste.deploy.loadwsgi.ConfigLoader', next(
                cls for cls in loadwsgi.ConfigLoader.__mro__
                if cls.__module__ == loadwsgi.__name__)))
        if self.every_host_in:
            pool = self.every_host_in
            self.useFixture(fixtures.MonkeyPatch(
                'openstack_ext.nova.pools.HostnamePools._find',
                lambda hostnames, hostname: pool))
        self._add_the_filter()
        self._sync_after_compute_start()
        self._record()

    def _record(self):
        seen = self.seen.setdefault(self.test.id(), [])
        decide = pool_decision.PoolDecider.decide

        def recording_decide(decider, spec_obj):
            pool, log_args = decide(decider, spec_obj)
            seen.append((pool, log_args['why']))
            return pool, log_args
        self.useFixture(fixtures.MockPatchObject(
            pool_decision.PoolDecider, 'decide', new=recording_decide))

    def _add_the_filter(self):
        conf = base.nova_conf.CONF

        def load_filters(manager):
            enabled = list(conf.filter_scheduler.enabled_filters)
            return enabled + ([base.FILTER] if base.FILTER not in enabled
                              else [])
        available = list(conf.filter_scheduler.available_filters)
        self.test.flags(available_filters=available + [FILTER_PATH],
                        group='filter_scheduler')
        self.useFixture(fixtures.MockPatchObject(
            host_manager.HostManager, '_load_filters', new=load_filters))

    def _sync_after_compute_start(self):
        start_service = nova_test.TestCase.start_service

        def start_and_sync(test, name, *args, **kwargs):
            service = start_service(test, name, *args, **kwargs)
            if name == 'compute':
                settings = pools.load_settings(base.nova_conf.CONF)
                pool_sync.PoolSync(settings).sync(
                    nova_context.get_admin_context())
            return service
        self.useFixture(fixtures.MockPatchObject(
            nova_test.TestCase, 'start_service', new=start_and_sync))


def deployed(cls, name, options, every_host_in=None):
    """*cls*, a Nova test class, with the plugin deployed before setUp."""

    def setUp(self):
        self.useFixture(PoolDeployment(self, options, every_host_in))
        super(subclass, self).setUp()
    subclass = type(name + cls.__name__, (cls,), {
        'setUp': setUp, '__module__': __name__,
        '__doc__': '%s, with IP pools deployed (%s).' % (cls.__name__, name)})
    return subclass


class DeploymentTest(testtools.TestCase):
    """The deployments are real: Nova's test ran through the plugin."""

    def run_nova_test(self, cls, method):
        case = cls(method)
        result = unittest.TestResult()
        case.run(result)
        self.assertEqual([], result.errors + result.failures)
        self.assertEqual(1, result.testsRun)
        return PoolDeployment.seen[case.id()]

    def test_one_pool_constrains_and_stamps(self):
        seen = self.run_nova_test(deployed(
            test_server_group.ServerGroupTestV21, 'Probe', ONE_POOL,
            every_host_in='all'), 'test_boot_servers_with_affinity')
        self.assertIn(('all', 'stamped by nova-api'), seen)

    def test_any_pool_constrains_nothing(self):
        seen = self.run_nova_test(deployed(
            test_server_group.ServerGroupTestV21, 'Probe', ANY_POOL),
            'test_boot_servers_with_affinity')
        self.assertIn(('*', 'stamped by nova-api'), seen)
        self.assertEqual({'*'}, {pool for pool, _ in seen})


class WheelEnvironment(fixtures.Fixture):
    """What Nova's tests need from a wheel install, and nothing more.

    Nova's api-paste.ini is a data file of the wheel (see base.py), and
    swift's tests may share the worker (base.PoolTestCase).
    """

    def __init__(self, test):
        super(WheelEnvironment, self).__init__()
        self.test = test

    def _setUp(self):
        self.test.flags(api_paste_config=base.nova_api_paste(),
                        group='wsgi')
        self.useFixture(fixtures.MonkeyPatch(
            'paste.deploy.loadwsgi.ConfigLoader', next(
                cls for cls in loadwsgi.ConfigLoader.__mro__
                if cls.__module__ == loadwsgi.__name__)))


def stock(cls):
    """*cls*, a Nova test class, without the plugin (to compare)."""

    def setUp(self):
        self.useFixture(WheelEnvironment(self))
        super(subclass, self).setUp()
    subclass = type('Stock' + cls.__name__, (cls,), {
        'setUp': setUp, '__module__': __name__})
    return subclass


def _load(loader, suite, cls, methods):
    names = methods or loader.getTestCaseNames(cls)
    suite.addTests(cls(method) for method in names)


def load_tests(loader, standard_tests, pattern):
    for cls, methods in SELECTION:
        _load(loader, standard_tests,
              deployed(cls, 'OnePool', ONE_POOL, every_host_in='all'),
              methods)
        if os.environ.get('OPENSTACK_EXT_NOVA_STOCK'):
            _load(loader, standard_tests, stock(cls), methods)
    for cls, methods in ANY_SELECTION:
        _load(loader, standard_tests, deployed(cls, 'AnyPool', ANY_POOL),
              methods)
    return standard_tests

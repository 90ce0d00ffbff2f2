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

"""The request-filter hook and the pools' placement aggregates."""

import types
from unittest import mock

import fixtures
from nova import exception
from nova import objects
from nova.scheduler import manager
from nova.scheduler import request_filter
import oslo_messaging as messaging
from oslo_utils.fixture import uuidsentinel as uuids
import testtools

from openstack_ext.nova import nova_access
from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pool_decision
from openstack_ext.nova import pools
from tests.unit.nova import hook_fixture


class FakeDecider(object):
    """Decides a fixed pool, or refuses."""

    def __init__(self, pool, exclusive_pools=frozenset()):
        self.pool = pool
        self.settings = types.SimpleNamespace(exclusive_pools=exclusive_pools)

    def decide(self, spec_obj):
        if isinstance(self.pool, Exception):
            raise self.pool
        return self.pool, {'uuid': spec_obj.instance_uuid, 'why': 'test',
                           'chain': None}

    def unknown_pool_note(self, pool):
        return ''


class FakeAggregates(object):

    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    def for_pool(self, ctxt, pool, aggregates=None):
        self.asked.append(pool)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def hook(pool, answer=(['agg'], set(), frozenset({'doc-1', 'doc-2'})),
         sync=None):
    return placement_hook.PoolRequestFilter(
        FakeDecider(pool), FakeAggregates(answer), pool_aggregates.LeftHosts(),
        sync)


def request():
    return objects.RequestSpec(instance_uuid=uuids.instance, project_id='p')


def constraint(required, forbidden=frozenset(), pool='doc',
               hosts=frozenset({'doc-1', 'doc-2'}), left=frozenset()):
    return placement_hook.PoolConstraint(pool, required, forbidden, hosts,
                                         left)


class InstallTest(testtools.TestCase):

    def setUp(self):
        super(InstallTest, self).setUp()
        objects.register_all()
        self.useFixture(hook_fixture.PlacementHookIsolation())

    def test_installs_once_and_the_last_one_applies(self):
        before = list(request_filter.ALL_REQUEST_FILTERS)
        first, last = hook('ops'), hook('doc', (['agg-b'], set(), {'x'}))
        for pool_request_filter in (first, first, last):
            placement_hook.install(pool_request_filter)
        self.assertEqual(len(before) + 1,
                         len(request_filter.ALL_REQUEST_FILTERS))
        self.assertIs(last, placement_hook.installed())
        spec = request()
        # Through Nova's own stage (Nova's filters need a whole request).
        del request_filter.ALL_REQUEST_FILTERS[:-1]
        request_filter.process_reqspec(mock.sentinel.ctxt, spec)
        self.assertEqual(['agg-b'], spec.requested_destination.aggregates)
        self.assertEqual(['doc'], last.aggregates.asked)
        self.assertEqual([], first.aggregates.asked)

    def test_constraint_and_no_constraint(self):
        pooled = hook('doc', (['a1', 'a2'], {'f1'}, {'doc-1'}))
        spec = request()
        self.assertTrue(pooled.require_ip_pool(None, spec))
        self.assertEqual(['a1,a2'], spec.requested_destination.aggregates)
        self.assertEqual({'f1'},
                         spec.requested_destination.forbidden_aggregates)
        self.assertEqual('doc', nova_access.constraint(spec).pool)
        for unconstrained in (pools.ANY_POOL, pool_decision.UNPINNED_MOVE):
            spec = request()
            self.assertFalse(hook(unconstrained).require_ip_pool(None, spec))
            self.assertNotIn('requested_destination', spec)
            self.assertIsNone(nova_access.constraint(spec))

    def test_refusals_reach_nova_as_request_filter_failures(self):
        for pool_request_filter, expected in [
                (hook(pool_decision.PoolRefused('no pool for you')),
                 'no pool for you'),
                (hook('qa', pool_aggregates.PoolHasNoHost(
                    reason="IP pool 'qa' has no compute host.")),
                 "IP pool 'qa' has no compute host")]:
            spec = request()
            error = self.assertRaises(exception.RequestFilterFailed,
                                      pool_request_filter.require_ip_pool,
                                      None, spec)
            self.assertIn(expected, str(error))
        # The empty pool is noted, so that a catch-up may fill it.
        self.assertEqual('qa', nova_access.constraint(spec).pool)

    def test_refuses_a_nova_whose_hook_point_differs(self):
        for target, value, expected in [
                ('nova.scheduler.request_filter.ALL_REQUEST_FILTERS',
                 tuple(request_filter.ALL_REQUEST_FILTERS),
                 'ALL_REQUEST_FILTERS is not a list'),
                ('nova.scheduler.request_filter.process_reqspec',
                 lambda ctxt, spec: None,
                 'process_reqspec does not read ALL_REQUEST_FILTERS'),
                ('nova.scheduler.manager.SchedulerManager.select_destinations',
                 lambda self, ctxt: None,
                 'select_destinations does not call'),
                ('nova.scheduler.manager.SchedulerManager.select_destinations',
                 undecorated_select_destinations(),
                 'select_destinations is not wrapped by oslo.messaging '
                 'expected_exceptions'),
                ('nova.scheduler.manager.SchedulerManager.select_destinations',
                 messaging.expected_exceptions(exception.NoValidHost)(
                     old_select_destinations),
                 'select_destinations takes no spec_obj'),
                ('nova.scheduler.manager.SchedulerManager.select_destinations',
                 messaging.expected_exceptions(ValueError)(
                     undecorated_select_destinations()),
                 'select_destinations does not expect NoValidHost'),
                ('nova.objects.request_spec.Destination.require_aggregates',
                 None, 'Destination has no require_aggregates'),
                ('nova.scheduler.host_manager.HostManager.__init__',
                 lambda self: None, 'does not keep its aggregates in '
                 'aggs_by_id'),
                ('nova.db.api.models.HostMapping', object,
                 'HostMapping has no id')]:
            with self.patched(target, value):
                error = self.assertRaises(placement_hook.PlacementHookError,
                                          placement_hook.install,
                                          hook(None))
            self.assertIn(expected, str(error))
            self.assertIn('cannot add IP pools to the placement query of '
                          'this Nova (34.', str(error))
        self.assertIsNone(placement_hook.installed())
        self.assertIs(nova_select_destinations,
                      manager.SchedulerManager.select_destinations)
        # Positive control: this Nova passes, and is wrapped once.
        for _ in range(2):
            placement_hook.install(hook(None))
        installed = manager.SchedulerManager.select_destinations
        self.assertIs(nova_select_destinations,
                      installed._openstack_ext_wraps)

    def patched(self, target, value):
        if not target.startswith('nova.scheduler.manager.'):
            return fixtures.MonkeyPatch(target, value)
        # By hand: fixtures.MonkeyPatch would wrap the function.
        return mock.patch.object(manager.SchedulerManager,
                                 'select_destinations', value)

    def test_nova_s_fault_stays_and_the_log_names_the_pool(self):
        placement_hook.install(hook(None))
        log = self.useFixture(fixtures.FakeLogger(
            name='openstack_ext.nova.placement_hook'))
        scheduler = manager.SchedulerManager.__new__(manager.SchedulerManager)
        for reason, noted, logged in [
                ('', constraint(['a'], left={'doc-1'}),
                 "No host of IP pool 'doc' has room for this request (the "
                 "pool has 2 hosts, including doc-1, which the server "
                 "leaves)."),
                ('There are not enough hosts available.', constraint(['a']),
                 "Placement offered hosts of IP pool 'doc' with room for "
                 "this request, but none passed the scheduler's filters "
                 "(the pool has 2 hosts)."),
                # Not a reason of Nova's, or not constrained: nothing more.
                ("IP pool 'qa' has no compute host.", constraint([]), None),
                ('', None, None)]:
            spec = request()
            if noted is not None:
                nova_access.note_constraint(spec, noted)
            self.fail_with(reason)
            error = self.assertRaises(
                messaging.ExpectedException, scheduler.select_destinations,
                mock.sentinel.ctxt, spec_obj=spec)
            raised = error.exc_info[1]
            self.assertIsInstance(raised, exception.NoValidHost)
            self.assertEqual('No valid host was found. ' + reason,
                             str(raised))
            if logged:
                self.assertIn(logged, log.output)
        self.assertEqual(2, log.output.count('No valid host for instance'))

    def test_a_new_host_of_the_pool_gets_a_second_try(self):
        sync = mock.Mock()
        placement_hook.install(hook('doc', sync=sync))
        scheduler = manager.SchedulerManager.__new__(manager.SchedulerManager)
        for gained, calls in [({'doc'}, 2), ({'ops'}, 1), (set(), 1)]:
            sync.catch_up.return_value = gained
            tries = self.fail_with('', pool='doc')
            spec = request()
            self.assertRaises(messaging.ExpectedException,
                              scheduler.select_destinations,
                              mock.sentinel.ctxt, spec_obj=spec)
            self.assertEqual(calls, len(tries))
            if calls == 2:
                # The second try starts from the request as it came.
                self.assertIsNot(tries[0], tries[1])
                self.assertEqual(['agg'],
                                 tries[1].requested_destination.aggregates)

    def fail_with(self, reason, pool=None):
        """Nova's endpoint, decorated as Nova decorates it, failing.

        With *pool*, it first runs the request filters as Nova does.
        Returns the list of the specs it was called with.
        """
        tries = []

        def select_destinations(self, context, spec_obj=None):
            tries.append(spec_obj)
            if pool is not None:
                request_filter.process_reqspec(context, spec_obj)
            raise exception.NoValidHost(reason=reason)
        if pool is not None:
            del request_filter.ALL_REQUEST_FILTERS[:-1]
        wrapped = placement_hook._catching_up(
            messaging.expected_exceptions(exception.NoValidHost)(
                select_destinations))
        self.useFixture(fixtures.MockPatchObject(
            manager.SchedulerManager, 'select_destinations', wrapped))
        return tries

    def test_one_host_pools_and_singular(self):
        self.assertEqual(
            "No host of IP pool 'ops' has room for this request (the pool "
            "has 1 host).", placement_hook.pool_detail(
                constraint(['a'], pool='ops', hosts={'ops-1'}),
                exception.NoValidHost(reason='')))
        self.assertIsNone(placement_hook.pool_detail(
            constraint(['a']), exception.ComputeHostNotFound(host='x')))


# Nova's own, before any install.
nova_select_destinations = manager.SchedulerManager.select_destinations


def undecorated_select_destinations():
    closure = placement_hook._closure(nova_select_destinations)
    return closure['func']


def old_select_destinations(self, context, request_spec=None,
                            filter_properties=None):
    return request_filter.process_reqspec(context, request_spec)


class LeftHostsTest(testtools.TestCase):

    def test_forbids_each_host_left_and_writes_once_per_node(self):
        client = FakeReportClient()
        self.useFixture(fixtures.MockPatch(
            'nova.scheduler.client.report.report_client_singleton',
            return_value=client))
        nodes = {'doc-1': [node('doc-1', 'rp-doc-1')],
                 'bm-1': [node('bm-1', 'rp-bm-a'), node('bm-1', 'rp-bm-b')]}
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates.compute_nodes_of',
            side_effect=lambda ctxt, host: nodes[host]))
        left = pool_aggregates.LeftHosts()
        one = pool_aggregates.host_aggregate_uuid
        self.assertEqual({one('doc-1'), one('bm-1')},
                         left.forbidden(None, ['doc-1', 'bm-1']))
        self.assertEqual({one('doc-1'): {'rp-doc-1': 'rp-doc-1'},
                          one('bm-1'): {'rp-bm-a': 'rp-bm-a',
                                        'rp-bm-b': 'rp-bm-b'}},
                         client.members)
        self.assertEqual(3, len(client.writes))
        left.forbidden(None, ['doc-1'])
        self.assertEqual(3, len(client.writes))
        self.assertNotEqual(one('doc-1'),
                            pool_aggregates.legacy_pool_aggregate_uuid(
                                'doc-1'))

    def test_a_failed_write_only_does_not_narrow(self):
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates.compute_nodes_of',
            side_effect=exception.HostMappingNotFound(name='gone-1')))
        self.assertEqual(
            {pool_aggregates.host_aggregate_uuid('gone-1')},
            pool_aggregates.LeftHosts().forbidden(None, ['gone-1']))

    def test_forbids_at_most_max_forbidden_hosts(self):
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates.compute_nodes_of',
            return_value=[]))
        hosts = ['h%d' % i for i in range(30)]
        self.assertEqual(
            {pool_aggregates.host_aggregate_uuid(host) for host in hosts[:20]},
            pool_aggregates.LeftHosts().forbidden(None, hosts))


def aggregate(uuid, pool, hosts, key='ip_pool'):
    return types.SimpleNamespace(uuid=uuid, hosts=hosts,
                                 metadata={key: pool} if pool else {})


class PoolAggregatesTest(testtools.TestCase):

    def setUp(self):
        super(PoolAggregatesTest, self).setUp()
        # Whatever ran before in this worker: AggregateList is registered.
        objects.register_all()

    def for_pool(self, pool, aggregates, belongs=None):
        with mock.patch.object(objects.AggregateList, 'get_by_metadata',
                               return_value=aggregates) as get:
            result = pool_aggregates.PoolAggregates(
                'ip_pool', belongs).for_pool(mock.sentinel.ctxt, pool)
        get.assert_called_once_with(mock.sentinel.ctxt, key='ip_pool')
        return result

    def test_requires_the_pools_and_forbids_the_others(self):
        aggregates = [aggregate('d1', 'doc', ['a', 'b']),
                      aggregate('d2', 'doc', ['c']),
                      aggregate('o1', 'ops', ['c', 'e'])]
        # c is in doc and ops: in neither.
        self.assertEqual((['d1', 'd2'], {'o1'}, {'a', 'b'}),
                         self.for_pool('doc', aggregates))
        self.assertEqual((['o1'], {'d1', 'd2'}, {'e'}),
                         self.for_pool('ops', aggregates))

    def test_a_pool_with_no_host_says_so(self):
        for aggregates in ([], [aggregate('o1', 'ops', ['a'])],
                           [aggregate('q1', 'qa', [])],
                           # c is in qa and ops: in neither.
                           [aggregate('q1', 'qa', ['c']),
                            aggregate('o1', 'ops', ['c'])]):
            error = self.assertRaises(pool_aggregates.PoolHasNoHost,
                                      self.for_pool, 'qa', aggregates)
            self.assertIn("IP pool 'qa' has no compute host", str(error))

    def test_the_scheduler_s_memory_is_read_not_the_database(self):
        def belongs(host, pool):
            asked.append(host)
            return host.startswith(pool + '-')

        asked = []
        in_memory = [aggregate('d1', 'doc', ['doc-%d' % i
                                             for i in range(1000)]),
                     aggregate('x', None, ['doc-1'])]
        with mock.patch.object(objects.AggregateList, 'get_by_metadata',
                               side_effect=AssertionError('read')):
            required, forbidden, hosts = pool_aggregates.PoolAggregates(
                'ip_pool', belongs).for_pool(None, 'doc', in_memory)
        self.assertEqual((['d1'], set()), (required, forbidden))
        # One host says the pool is not empty; only a fault counts them.
        self.assertEqual(['doc-0'], asked)
        self.assertEqual(1000, len(hosts))
        self.assertEqual({'doc-7'}, hosts & {'doc-7', 'ops-1'})

    def test_hostname_pools_count_only_the_hosts_named_for_them(self):
        def belongs(host, pool):
            return host.startswith(pool + '-')

        aggregates = [aggregate('d1', 'doc', ['doc-1', 'docker-1']),
                      aggregate('o1', 'ops', ['ops-1', 'doc-1'])]
        # Names decide: nothing is forbidden, strangers are not counted.
        self.assertEqual((['d1'], set(), {'doc-1'}),
                         self.for_pool('doc', aggregates, belongs))
        self.assertRaises(pool_aggregates.PoolHasNoHost, self.for_pool,
                          'qa', aggregates, belongs)


def node(host, uuid):
    return types.SimpleNamespace(host=host, uuid=uuid,
                                 hypervisor_hostname=host)


class FakeReportClient(object):
    """Placement's aggregates as a dict, with Nova's method names."""

    def __init__(self, members=None):
        self.members = dict(members or {})   # aggregate -> {rp: name}
        self.writes = []

    def get(self, url, version=None, global_request_id=None):
        aggregate = url.rpartition('=')[2]
        rps = [{'uuid': rp, 'name': name}
               for rp, name in self.members.get(aggregate, {}).items()]
        return types.SimpleNamespace(
            status_code=200, json=lambda: {'resource_providers': rps})

    def aggregate_add_host(self, ctxt, aggregate, rp_uuid):
        if rp_uuid == 'unregistered':
            raise exception.ResourceProviderNotFound(name_or_uuid=rp_uuid)
        self.writes.append(('add', aggregate, rp_uuid))
        self.members.setdefault(aggregate, {})[rp_uuid] = rp_uuid

    def aggregate_remove_host(self, ctxt, aggregate, host_name):
        self.writes.append(('remove', aggregate, host_name))
        members = self.members[aggregate]
        del members[next(rp for rp, name in members.items()
                         if name == host_name)]

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
import testtools

from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pools
from tests.unit.nova import hook_fixture


class FakeFilter(object):
    """Answers the hook's question with a fixed answer."""

    def __init__(self, answer):
        self.answer = answer

    def placement_aggregates(self, ctxt, spec_obj):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def request():
    return objects.RequestSpec(instance_uuid='u1', project_id='p')


def constraint(required, forbidden=frozenset(), pool='doc',
               hosts=frozenset({'doc-1', 'doc-2'}), left=frozenset()):
    return placement_hook.PoolConstraint(pool, required, forbidden, hosts,
                                         left)


class InstallTest(testtools.TestCase):

    def setUp(self):
        super(InstallTest, self).setUp()
        objects.register_all()
        self.useFixture(hook_fixture.PlacementHookIsolation())

    def test_installs_once_and_asks_the_last_filter(self):
        before = list(request_filter.ALL_REQUEST_FILTERS)
        first, last = FakeFilter(None), FakeFilter(constraint(['agg-b']))
        for pool_filter in (first, first, last):
            placement_hook.install(pool_filter)
        self.assertEqual(before + [placement_hook.require_ip_pool],
                         request_filter.ALL_REQUEST_FILTERS)
        spec = request()
        # Through Nova's own stage (Nova's filters need a whole request).
        del request_filter.ALL_REQUEST_FILTERS[:-1]
        request_filter.process_reqspec(mock.sentinel.ctxt, spec)
        self.assertEqual(['agg-b'], spec.requested_destination.aggregates)

    def test_constraint_and_no_constraint(self):
        placement_hook.install(FakeFilter(constraint(['a1', 'a2'], {'f1'})))
        spec = request()
        self.assertTrue(placement_hook.require_ip_pool(None, spec))
        self.assertEqual(['a1,a2'], spec.requested_destination.aggregates)
        self.assertEqual({'f1'},
                         spec.requested_destination.forbidden_aggregates)
        placement_hook.install(FakeFilter(None))
        spec = request()
        self.assertFalse(placement_hook.require_ip_pool(None, spec))
        self.assertNotIn('requested_destination', spec)

    def test_refusals_reach_nova_as_no_valid_host(self):
        placement_hook.install(FakeFilter(exception.NoValidHost(
            reason="IP pool 'qa' has no compute host.")))
        error = self.assertRaises(exception.NoValidHost,
                                  placement_hook.require_ip_pool, None,
                                  request())
        self.assertIn("IP pool 'qa' has no compute host", str(error))

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
                 None, 'Destination has no require_aggregates')]:
            with self.patched(target, value):
                error = self.assertRaises(placement_hook.PlacementHookError,
                                          placement_hook.install,
                                          FakeFilter(None))
            self.assertIn(expected, str(error))
            self.assertIn('cannot add IP pools to the placement query of '
                          'this Nova (34.', str(error))
        self.assertNotIn(placement_hook.require_ip_pool,
                         request_filter.ALL_REQUEST_FILTERS)
        self.assertIs(nova_select_destinations,
                      manager.SchedulerManager.select_destinations)
        # Positive control: this Nova passes, and is wrapped once.
        for _ in range(2):
            placement_hook.install(FakeFilter(None))
        installed = manager.SchedulerManager.select_destinations
        self.assertIs(nova_select_destinations,
                      installed._openstack_ext_wraps)

    def patched(self, target, value):
        if not target.startswith('nova.scheduler.manager.'):
            return fixtures.MonkeyPatch(target, value)
        # By hand: fixtures.MonkeyPatch would wrap the function.
        return mock.patch.object(manager.SchedulerManager,
                                 'select_destinations', value)

    def test_the_fault_names_the_pool_for_nova_s_own_reasons_only(self):
        placement_hook.install(FakeFilter(None))
        scheduler = manager.SchedulerManager.__new__(manager.SchedulerManager)
        pooled = request()
        setattr(pooled, placement_hook._CONSTRAINT,
                constraint(['a'], left={'doc-1'}))
        for reason, spec, expected in [
                ('', pooled, "No host of IP pool 'doc' has room for this "
                 "request (the pool has 2 hosts, including doc-1, which "
                 "the server leaves)."),
                ('There are not enough hosts available.', pooled,
                 "Placement offered hosts of IP pool 'doc' with room for "
                 "this request, but none passed the scheduler's filters "
                 "(the pool has 2 hosts, including doc-1, which the "
                 "server leaves)."),
                # Not a reason of Nova's: as it was.
                ("IP pool 'qa' has no compute host.", pooled,
                 "IP pool 'qa' has no compute host."),
                # Not constrained (control): Nova's own.
                ('', request(), ''),
                ('There are not enough hosts available.', request(),
                 'There are not enough hosts available.')]:
            with mock.patch.object(
                    manager.SchedulerManager, 'process_reqspec_and_fail',
                    create=True,
                    side_effect=exception.NoValidHost(reason=reason)):
                self.patch_nova_body()
                error = self.assertRaises(
                    messaging.ExpectedException,
                    scheduler.select_destinations, mock.sentinel.ctxt,
                    spec_obj=spec)
            raised = error.exc_info[1]
            self.assertIsInstance(raised, exception.NoValidHost)
            self.assertEqual('No valid host was found. ' + expected,
                             str(raised))

    def patch_nova_body(self):
        # Nova's endpoint, decorated as Nova decorates it, failing.
        def select_destinations(self, context, spec_obj=None):
            self.process_reqspec_and_fail()
        wrapped = placement_hook._naming_the_pool(
            messaging.expected_exceptions(exception.NoValidHost)(
                select_destinations))
        self.useFixture(fixtures.MockPatchObject(
            manager.SchedulerManager, 'select_destinations', wrapped))

    def test_one_host_pools_and_singular(self):
        self.assertEqual(
            "No host of IP pool 'ops' has room for this request (the pool "
            "has 1 host).", placement_hook._pool_reason(
                constraint(['a'], pool='ops', hosts={'ops-1'}),
                exception.NoValidHost(reason='')))
        self.assertIsNone(placement_hook._pool_reason(
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
            'openstack_ext.nova.pool_aggregates._compute_nodes_of',
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
        self.assertNotEqual(one('doc-1'), pool_aggregates.pool_aggregate_uuid(
            'doc-1'))

    def test_a_failed_write_only_does_not_narrow(self):
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates._compute_nodes_of',
            side_effect=exception.HostMappingNotFound(name='gone-1')))
        self.assertEqual(
            {pool_aggregates.host_aggregate_uuid('gone-1')},
            pool_aggregates.LeftHosts().forbidden(None, ['gone-1']))

    def test_forbids_at_most_max_forbidden_hosts(self):
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates._compute_nodes_of',
            return_value=[]))
        hosts = ['h%d' % i for i in range(30)]
        self.assertEqual(
            {pool_aggregates.host_aggregate_uuid(host) for host in hosts[:20]},
            pool_aggregates.LeftHosts().forbidden(None, hosts))


def aggregate(uuid, pool, hosts, key='ip_pool'):
    return types.SimpleNamespace(uuid=uuid, hosts=hosts,
                                 metadata={key: pool} if pool else {})


class MetadataAggregatesTest(testtools.TestCase):

    def for_pool(self, pool, aggregates):
        with mock.patch.object(objects.AggregateList, 'get_by_metadata',
                               return_value=aggregates) as get:
            result = pool_aggregates.MetadataAggregates('ip_pool').for_pool(
                mock.sentinel.ctxt, pool)
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


class HostnameAggregatesTest(testtools.TestCase):

    def setUp(self):
        super(HostnameAggregatesTest, self).setUp()
        self.nodes = [node('doc-1', 'rp-doc-1'), node('ops-1', 'rp-ops-1'),
                      node('docker-1', 'rp-docker-1')]
        self.client = FakeReportClient()
        self.useFixture(fixtures.MockPatch(
            'nova.scheduler.client.report.report_client_singleton',
            return_value=self.client))
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_aggregates._compute_nodes',
            side_effect=lambda ctxt: iter(self.nodes)))
        self.now = 1000.0
        self.useFixture(fixtures.MockPatch(
            'time.monotonic', side_effect=lambda: self.now))
        names = ('doc', 'ops', 'qa')
        self.aggregates = pool_aggregates.HostnameAggregates(
            pools.HostnamePools(names), names, refresh=60)
        self.ctxt = types.SimpleNamespace(global_id='req-1')

    def uuid(self, pool):
        return pool_aggregates.pool_aggregate_uuid(pool)

    def test_stable_uuids(self):
        self.assertEqual(self.uuid('doc'), self.uuid('doc'))
        self.assertNotEqual(self.uuid('doc'), self.uuid('ops'))
        self.assertEqual('5b2cbd2e-8a53-4f4e-9d46-0c6b7a1f5e01',
                         str(pool_aggregates.POOL_AGGREGATE_NAMESPACE))

    def test_first_request_writes_memberships_then_probes(self):
        self.assertEqual(([self.uuid('doc')], set(), {'doc-1'}),
                         self.aggregates.for_pool(self.ctxt, 'doc'))
        self.assertEqual(
            sorted([('add', self.uuid('doc'), 'rp-doc-1'),
                    ('add', self.uuid('ops'), 'rp-ops-1')]),
            sorted(self.client.writes))
        # docker-1 is in no pool: in no aggregate.
        self.assertNotIn('rp-docker-1', str(self.client.members))
        # Within the refresh interval: no listing, no write.
        self.nodes.append(node('doc-2', 'rp-doc-2'))
        self.now += 59
        self.aggregates.for_pool(self.ctxt, 'ops')
        self.assertEqual(2, len(self.client.writes))
        # After it, the new host joins.
        self.now += 1
        self.aggregates.for_pool(self.ctxt, 'ops')
        self.assertIn(('add', self.uuid('doc'), 'rp-doc-2'),
                      self.client.writes)
        self.assertEqual(3, len(self.client.writes))

    def test_an_empty_pool_is_looked_at_again_soon_not_always(self):
        self.aggregates.sync(self.ctxt)   # at scheduler start
        with mock.patch.object(pool_aggregates, '_compute_nodes',
                               wraps=pool_aggregates._compute_nodes) as look:
            for _ in range(5):
                self.assertRaises(pool_aggregates.PoolHasNoHost,
                                  self.aggregates.for_pool, self.ctxt, 'qa')
            self.assertEqual(1, look.call_count)
            self.nodes.append(node('qa-1', 'rp-qa-1'))
            self.now += 9
            self.assertRaises(pool_aggregates.PoolHasNoHost,
                              self.aggregates.for_pool, self.ctxt, 'qa')
            self.now += 1
            self.assertEqual(([self.uuid('qa')], set(), {'qa-1'}),
                             self.aggregates.for_pool(self.ctxt, 'qa'))
            self.assertEqual(2, look.call_count)

    def test_stale_members_leave_and_unregistered_hosts_wait(self):
        # rp-ops-1 was put in doc's aggregate by an older configuration.
        self.client.members[self.uuid('doc')] = {'rp-ops-1': 'ops-1',
                                                 'rp-gone': 'gone-1'}
        self.nodes.append(node('doc-9', 'unregistered'))
        self.aggregates.sync(self.ctxt)
        self.assertEqual({'rp-doc-1': 'rp-doc-1'},
                         self.client.members[self.uuid('doc')])
        self.assertIn(('remove', self.uuid('doc'), 'ops-1'),
                      self.client.writes)
        self.assertIn(('remove', self.uuid('doc'), 'gone-1'),
                      self.client.writes)
        # Idempotent: a second look writes nothing.
        writes = len(self.client.writes)
        self.aggregates.sync(self.ctxt)
        self.assertEqual(writes, len(self.client.writes))

    def test_a_failed_look_keeps_what_was_known(self):
        broken = mock.patch.object(
            self.client, 'get',
            side_effect=exception.PlacementAPIConnectFailure)
        with broken:
            # Nothing known yet: the request cannot be constrained.
            self.assertRaises(exception.RequestFilterFailed,
                              self.aggregates.for_pool, self.ctxt, 'doc')
        self.aggregates.for_pool(self.ctxt, 'doc')
        self.now += 60
        with broken:
            self.assertEqual(([self.uuid('doc')], set(), {'doc-1'}),
                             self.aggregates.for_pool(self.ctxt, 'doc'))

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

"""Who writes hostname pools: sync-pools, and the scheduler's catch-up.

Pools are ordinary host aggregates an operator sees; a host discovered
after the last sync serves its pool's next boot; no interleaving of two
writers, new hosts and an operator's writes drops a host from its pool.
"""

import io

import fixtures
from nova import context as nova_context
from oslo_utils.fixture import uuidsentinel as uuids

from openstack_ext.cmd import report
from openstack_ext.cmd import sync_pools
from openstack_ext.nova import pool_sync
from openstack_ext.nova import pools
from tests.functional.nova import base

DOC = '10.1.2.3'
QA = '10.3.0.4'


class PoolSyncTestCase(base.PoolTestCase):

    hosts = ('doc-1', 'ops-1', 'dev-1', 'docker-1')
    pool_hosts = {'doc': {'doc-1'}, 'ops': {'ops-1'}, 'dev': {'dev-1'},
                  'qa': set()}

    def setUp(self):
        super(PoolSyncTestCase, self).setUp()
        self.ctxt = nova_context.get_admin_context()
        self.settings = pools.load_settings(base.nova_conf.CONF)

    def writer(self):
        """Another sync-pools (or scheduler process) of the same cloud."""
        return pool_sync.PoolSync(self.settings)

    def aggregate_hosts(self, pool):
        """The hosts of *pool*'s aggregate, as an operator lists them."""
        aggregate = self.pool_aggregate(pool)
        shown = self.admin_api.api_get(
            '/os-aggregates/%s' % aggregate.id).body['aggregate']
        self.assertEqual({'ip_pool': pool}, shown['metadata'])
        self.assertEqual('ip-pool-' + pool, shown['name'])
        return set(shown['hosts'])

    def placement_hosts(self, pool):
        """The hosts whose provider placement has in *pool*'s aggregate."""
        uuid = self.pool_aggregate(pool).uuid
        return {host for host in self.started()
                if uuid in self._get_provider_aggregates(
                    self._get_provider_uuid_by_host(host))}

    def started(self):
        return sorted(self.computes)

    def assertPoolsWhole(self):
        """Every host is in its own pool's aggregate, and in no other.

        In the API database and in placement.
        """
        for pool in ('doc', 'ops', 'dev', 'qa'):
            named = {host for host in self.started()
                     if host == pool or host.startswith(pool + '-')}
            self.assertEqual(named, self.aggregate_hosts(pool), pool)
            self.assertEqual(named, self.placement_hosts(pool), pool)


class SyncPoolsTest(PoolSyncTestCase):

    def test_pools_are_aggregates_an_operator_sees(self):
        self.assertPoolsWhole()
        listed = self.admin_api.api_get('/os-aggregates').body['aggregates']
        self.assertEqual(['ip-pool-dev', 'ip-pool-doc', 'ip-pool-ops',
                          'ip-pool-qa'], sorted(a['name'] for a in listed))
        # Idempotent: a second run changes nothing, through the command.
        out = io.StringIO()
        rep = report.Report(out)
        counts = sync_pools.sync_all(self.ctxt, self.settings, rep)
        self.assertEqual({'hosts': 4, 'added': 0, 'removed': 0,
                          'repaired': 0, 'waiting': 0}, counts)
        self.assertEqual(report.OK, rep.verdict('done'))
        self.assertIn('4 hosts: 0 added to their pool', out.getvalue())

    def test_operator_writes_are_undone_by_the_next_sync(self):
        doc = self.pool_aggregate('doc')
        # A stranger put into doc by hand, doc-1 taken out of placement's
        # aggregate by hand ("resource provider aggregate set").
        self.admin_api.add_host_to_aggregate(doc.id, 'docker-1')
        doc_1 = self._get_provider_uuid_by_host('doc-1')
        self._set_aggregate(doc_1, self.pool_aggregate('ops').uuid)
        self.assertEqual({'doc-1', 'docker-1'}, self.aggregate_hosts('doc'))
        self.assertEqual({'docker-1'}, self.placement_hosts('doc'))
        counts = self.writer().sync(self.ctxt)
        self.assertEqual((1, 1), (counts['removed'], counts['repaired']))
        self.assertEqual({'doc-1'}, self.aggregate_hosts('doc'))
        self.assertEqual({'doc-1'}, self.placement_hosts('doc'))
        # Only the pool's aggregate was repaired: the operator's own stays.
        self.assertIn(self.pool_aggregate('ops').uuid,
                      self._get_provider_aggregates(doc_1))

    def test_progress_and_resumption(self):
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_sync.BATCH', 2))
        self.useFixture(fixtures.MockPatch(
            'openstack_ext.nova.pool_sync.PROGRESS_EVERY', 2))
        for host in ('doc-2', 'ops-2'):
            self._start_compute(host)
        # An interrupted run: it stops at its second add.
        writer, adds = self.writer(), []
        original = writer._add

        def add_once(*args):
            adds.append(args)
            if len(adds) == 2:
                raise KeyboardInterrupt()
            return original(*args)
        writer._add = add_once
        self.assertRaises(KeyboardInterrupt, writer.sync, self.ctxt)
        lines = []
        counts = self.writer().sync(self.ctxt, progress=lines.append)
        # The second run did only what was left.
        self.assertEqual(1, counts['added'])
        self.assertEqual(['2 hosts read, 0 added to their pool so far',
                          '4 hosts read, 0 added to their pool so far',
                          '6 hosts read, 1 added to their pool so far'],
                         lines)
        self.assertPoolsWhole()


class NewHostTest(PoolSyncTestCase):
    """A host discovered after the last sync-pools run."""

    def test_a_new_host_serves_its_pool_s_next_boot(self):
        # No host in qa yet: qa-1 registers, nobody runs sync-pools.
        self._start_compute('qa-1')
        self.pool_hosts = dict(self.pool_hosts, qa={'qa-1'})
        self.lure_away_from('qa')
        server = self.boot(self.client_from(QA))
        self.assertInPool(server, 'qa', 'new_host_empty_pool')
        self.assertIn("Scheduling instance %s again: hosts discovered since "
                      "the last sync joined IP pool 'qa'" % server['id'],
                      self.stdlog.logger.output)
        # doc-1 is disabled: doc-2, just registered, is the pool's room.
        [service] = self.admin_api.get_services(binary='nova-compute',
                                                host='doc-1')
        self.admin_api.put_service(service['id'], {'status': 'disabled'})
        self._start_compute('doc-2')
        self.pool_hosts = dict(self.pool_hosts, doc={'doc-1', 'doc-2'})
        server = self.boot(self.client_from(DOC))
        self.assertEqual('doc-2', self.landed_on(server, 'new_host_of_doc'))
        self.assertEqual({'doc-1', 'doc-2'}, self.aggregate_hosts('doc'))
        # The catch-up did what sync-pools would have: nothing left to do.
        counts = self.writer().sync(self.ctxt)
        self.assertEqual((0, 0, 0), (counts['added'], counts['removed'],
                                     counts['repaired']))

    def test_a_full_pool_fails_at_once_without_a_second_try(self):
        self.lure_away_from('doc')
        huge = self._create_flavor(memory_mb=10 ** 6, vcpu=1, disk=1)
        server = self.boot(self.client_from(DOC), 'ERROR', flavorRef=huge)
        self.assertEqual('No valid host was found. ',
                         server['fault']['message'])
        self.assertNotIn('Scheduling instance', self.stdlog.logger.output)
        self.assertIn("No host of IP pool 'doc' has room for this request "
                      "(the pool has 1 host).", self.stdlog.logger.output)


class WriterRaceTest(PoolSyncTestCase):
    """Writers interleaved at every step of a sync: no host is dropped.

    At each step *k* of one sync-pools run, in turn: a new host of a pool
    registers, another scheduler catches up with it, a second sync-pools
    runs whole, and an operator writes the pools' aggregates by hand.
    """

    def setUp(self):
        super(WriterRaceTest, self).setUp()
        self.removed = []
        original = pool_sync.PoolSync._remove

        def recording_remove(writer, ctxt, aggregate, host):
            self.removed.append((aggregate.metadata['ip_pool'], host))
            return original(writer, ctxt, aggregate, host)
        self.useFixture(fixtures.MockPatchObject(
            pool_sync.PoolSync, '_remove', recording_remove))

    def interleaved(self, step, at):
        """Run one sync whose *at*-th step lets the others write first.

        Returns the number of steps the sync took.
        """
        writer = self.writer()
        steps = [0]

        def hooked(name):
            original = getattr(writer, name)

            def run(*args, **kwargs):
                steps[0] += 1
                if steps[0] == at:
                    step()
                return original(*args, **kwargs)
            setattr(writer, name, run)
        for name in ('aggregates', '_add', '_mirror', '_remove',
                     '_repair_placement', '_tell_schedulers'):
            hooked(name)
        writer.sync(self.ctxt)
        return steps[0]

    def dirty(self):
        """What a sync has to fix: a stranger, a lost placement member."""
        self.admin_api.add_host_to_aggregate(self.pool_aggregate('ops').id,
                                             'docker-1')
        self._set_aggregate(self._get_provider_uuid_by_host('dev-1'),
                            uuids.operators_own)

    def test_no_interleaving_drops_a_host(self):
        scheduler = self.writer()
        at, count = 1, 1
        while True:
            self.dirty()
            new = 'doc-n%d' % at

            def step():
                self._start_compute(new)
                # The other scheduler's catch-up adds it before this sync
                # looks at the aggregates again.
                self.assertIn('doc', scheduler.catch_up(self.ctxt))
                self.writer().sync(self.ctxt)
                # An operator's hand: doc's new host out of placement.
                self._set_aggregate(self._get_provider_uuid_by_host(new),
                                    uuids.operators_own)
            steps = self.interleaved(step, at)
            # Whatever the order, a writer removes strangers only.
            for pool, host in self.removed:
                self.assertNotEqual(pool, host.split('-')[0],
                                    'step %d removed %s from %s'
                                    % (at, host, pool))
            # The writer that ran last leaves every pool whole, unless the
            # operator's write came after its own repair.
            self.writer().sync(self.ctxt)
            self.assertPoolsWhole()
            count += 1
            if at >= steps:
                break
            at += 1
        self.assertGreater(count, 5, 'too few steps to interleave')
        self.assertIn(('ops', 'docker-1'), self.removed)

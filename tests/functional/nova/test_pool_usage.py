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

"""``openstack-ext pool-usage`` against the real placement.

The figures are placement's own, summed per pool, for a host with
allocations and one without; the room for N servers of a flavor is
exactly the number of such boots that then succeed, the next one failing.
"""

import io

from nova import context as nova_context
from nova.scheduler.client import report as placement_report

from openstack_ext.cmd import pool_capacity
from openstack_ext.cmd import pool_usage
from openstack_ext.cmd import report
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.functional.nova import base

DOC = '10.1.2.3'


class PoolUsageTest(base.PoolTestCase):

    def measure(self, *flavors):
        settings = pools.load_settings(pool_filter.CONF)
        return pool_capacity.measure(
            nova_context.get_admin_context(), settings,
            placement_report.report_client_singleton(), flavors)

    def pool(self, usages, name):
        [usage] = [usage for usage in usages if usage.pool == name]
        return usage

    def test_figures_are_placements_own(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from(DOC))
        used_host = self.assertInPool(server, 'doc', 'usage_boot')
        usages, warnings = self.measure()
        doc = self.pool(usages, 'doc')
        self.assertEqual(['doc-1', 'doc-2'], doc.hosts)
        self.assertEqual(([], []), (doc.disabled, doc.down))
        rps = {host: self._get_provider_uuid_by_host(host)
               for host in doc.hosts}
        per_host = {}
        for host, rp in rps.items():
            usage = self._get_provider_usages(rp)
            for rc, inventory in self._get_provider_inventory(rp).items():
                per_host[host, rc] = (inventory, usage.get(rc, 0))
        # One host has the server's allocations, the other none.
        self.assertGreater(per_host[used_host, 'MEMORY_MB'][1], 0)
        [free_host] = set(doc.hosts) - {used_host}
        self.assertEqual(0, per_host[free_host, 'MEMORY_MB'][1])
        self.assertEqual({'VCPU', 'MEMORY_MB', 'DISK_GB'},
                         set(doc.resources))
        for rc, figures in doc.resources.items():
            hosts = [per_host[host, rc] for host in doc.hosts]
            capacity = sum(int((inv['total'] - inv['reserved']) *
                               inv['allocation_ratio']) for inv, _ in hosts)
            used = sum(used for _, used in hosts)
            self.assertEqual(pool_capacity.ResourceUsage(
                sum(inv['total'] for inv, _ in hosts),
                sum(inv['reserved'] for inv, _ in hosts),
                tuple(sorted({inv['allocation_ratio'] for inv, _ in hosts})),
                capacity, used, capacity - used), figures, rc)
        self.assertEqual({'doc': ['doc-1', 'doc-2'], 'ops': ['ops-1'],
                          'dev': ['dev-1'], 'qa': []},
                         {usage.pool: usage.hosts for usage in usages})
        self.assertEqual(["IP pool 'qa' has no compute host"], warnings)
        # A host discovered since the last sync-pools.
        self._start_compute('doc-3')
        usages, warnings = self.measure()
        self.assertIn("IP pool 'doc': the membership of its aggregate is out "
                      "of date for doc-3 (run openstack-ext sync-pools)",
                      warnings)
        self.sync_pools()
        usages, warnings = self.measure()
        self.assertEqual(['doc-1', 'doc-2', 'doc-3'],
                         self.pool(usages, 'doc').hosts)
        self.assertEqual(["IP pool 'qa' has no compute host"], warnings)

    def test_room_is_the_boots_that_succeed(self):
        self.lure_away_from('doc')
        # Allocations on one doc host first, so the hosts differ.
        self.boot(self.client_from(DOC))
        flavor = self._create_flavor(name='pool.large', memory_mb=2560,
                                     vcpu=1, disk=1, ephemeral=0)
        usages, _ = self.measure('pool.large')
        room = self.pool(usages, 'doc').room['pool.large']
        self.assertGreater(room, 2)
        # The room of ops is counted the same way, one host.
        self.assertGreater(self.pool(usages, 'ops').room['pool.large'], 0)
        doc_client = self.client_from(DOC)
        for index in range(room):
            server = self.boot_settled(doc_client, flavor)
            self.assertEqual('ACTIVE', server['status'], index)
            self.assertInPool(server, 'doc', 'usage_room_%d' % index)
        self.assertEqual('ERROR', self.boot_settled(
            doc_client, flavor)['status'])
        usages, warnings = self.measure(flavor)
        self.assertEqual(0, self.pool(usages, 'doc').room['pool.large'])
        out = io.StringIO()
        status = pool_usage.show(usages, warnings, report.Report(out),
                                 min_free=1)
        self.assertEqual(report.PROBLEMS, status)
        self.assertIn('ERROR: IP pool doc has room for 0 x pool.large, fewer '
                      'than --min-free 1', out.getvalue())
        self.assertNotIn('IP pool ops has room', out.getvalue())


class AggregatePoolUsageTest(PoolUsageTest):
    """aggregate_metadata pools; bravo is named by doc and by ops."""

    hosts = ('alpha', 'bravo', 'charlie')
    pool_hosts = {'doc': {'alpha'}, 'ops': {'charlie'}, 'dev': set(),
                  'qa': set()}
    pool_options = dict(base.PoolTestCase.pool_options,
                        host_selection='aggregate_metadata')
    test_figures_are_placements_own = None
    test_room_is_the_boots_that_succeed = None

    def setUp(self):
        super(AggregatePoolUsageTest, self).setUp()
        for pool, hosts in (('doc', ('alpha', 'bravo')),
                            ('ops', ('bravo', 'charlie'))):
            aggregate = self._create_aggregate('%s-hosts' % pool)
            self.admin_api.post_aggregate_action(
                aggregate, {'set_metadata': {'metadata': {'ip_pool': pool}}})
            for host in hosts:
                self.admin_api.add_host_to_aggregate(aggregate, host)

    def test_a_host_in_two_pools_is_in_neither(self):
        flavor = self._create_flavor(name='pool.large', memory_mb=2560,
                                     vcpu=1, disk=1, ephemeral=0)
        usages, warnings = self.measure(flavor)
        self.assertIn('host bravo is in aggregates of IP pools doc, ops: it '
                      'is in none of them', warnings)
        inventory = self._get_provider_inventory(
            self._get_provider_uuid_by_host('alpha'))['MEMORY_MB']
        one_host = (inventory['total'] - inventory['reserved']) // 2560
        self.assertGreater(one_host, 0)
        for pool, host in (('doc', 'alpha'), ('ops', 'charlie')):
            usage = self.pool(usages, pool)
            self.assertEqual([host], usage.hosts)
            # bravo's room is counted in neither pool.
            self.assertEqual(one_host, usage.room['pool.large'], pool)

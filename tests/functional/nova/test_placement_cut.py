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

"""Pools hold when placement returns only some of the hosts (issue 11).

Six computes, two per pool, and ``[scheduler] max_placement_results`` of 1
or 2: placement's cut keeps at most a third of the hosts, so without the
pools in the placement query some pool gets no candidate at all (each
class's control shows it). With them, every boot lands in its pool, in
both host-selection modes, while the lure weigher ranks the other pools'
hosts first so that any leak would show.

The moves here run at ``max_placement_results = 2``; test_move_cut runs
them at 1, with placement's cut taken as badly as it can be.
"""


from tests.functional.nova import base

BOOTS_PER_NETWORK = 4
NETWORKS = [('10.1.2.3', 'doc'), ('10.2.0.8', 'ops'), ('192.0.2.7', 'dev')]


class HostnameCutTest(base.PoolTestCase):
    """hostname_prefix pools under placement's cut of 1."""

    hosts = ('doc-1', 'doc-2', 'ops-1', 'ops-2', 'dev-1', 'dev-2')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1', 'ops-2'},
                  'dev': {'dev-1', 'dev-2'}, 'qa': set()}
    max_placement_results = 1

    def boot_from_every_network(self, scenario):
        """Boot from each client network; return {pool: [servers]}."""
        booted = {}
        for address, pool in NETWORKS:
            self.lure_away_from(pool)
            for index in range(BOOTS_PER_NETWORK):
                booted.setdefault(pool, []).append(
                    self.boot_settled(self.client_from(address)))
        return booted

    def test_every_boot_lands_in_its_pool(self):
        for pool, servers in self.boot_from_every_network('cut').items():
            for index, server in enumerate(servers):
                self.assertEqual('ACTIVE', server['status'],
                                 '%s boot %d: %s' % (pool, index,
                                                     server.get('fault')))
                self.assertInPool(server, pool, 'cut_%d_%s_boot_%d' % (
                    self.max_placement_results, pool, index))

    def test_control_pools_starve_without_the_placement_constraint(self):
        # Only the host filter: it can only narrow placement's cut.
        self.without_placement_constraint()
        refused = 0
        for pool, servers in self.boot_from_every_network('control').items():
            for server in servers:
                if server['status'] == 'ERROR':
                    refused += 1
                else:
                    self.assertInPool(server, pool, 'control_%s' % pool)
        self.assertGreater(refused, 0, 'the cut did not bite: no control')


class HostnameCutOfTwoTest(HostnameCutTest):
    """The same with a cut of 2, and the moves."""

    max_placement_results = 2
    # The control is the same as with a cut of 1.
    test_control_pools_starve_without_the_placement_constraint = None

    def test_moves_stay_in_the_pool(self):
        # dev's hosts were registered last: the first to starve.
        self.moves_stay_in_pool('192.0.2.7', 'dev', 'cut_2_')


class AggregateCutTest(HostnameCutTest):
    """aggregate_metadata pools, on hosts named for nothing in particular."""

    hosts = ('alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot')
    pool_hosts = {'doc': {'alpha', 'bravo'}, 'ops': {'charlie', 'delta'},
                  'dev': {'echo', 'foxtrot'}, 'qa': set()}
    pool_options = dict(base.PoolTestCase.pool_options,
                        host_selection='aggregate_metadata')

    def setUp(self):
        super(AggregateCutTest, self).setUp()
        for pool in ('doc', 'ops', 'dev'):
            aggregate = self._create_aggregate('%s-hosts' % pool)
            self.admin_api.post_aggregate_action(
                aggregate, {'set_metadata': {'metadata': {'ip_pool': pool}}})
            for host in sorted(self.pool_hosts[pool]):
                self.admin_api.add_host_to_aggregate(aggregate, host)


class AggregateCutOfTwoTest(AggregateCutTest):

    max_placement_results = 2
    test_control_pools_starve_without_the_placement_constraint = None

    def test_moves_stay_in_the_pool(self):
        self.moves_stay_in_pool('192.0.2.7', 'dev', 'aggregate_cut_2_')

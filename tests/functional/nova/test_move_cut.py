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

"""Moves hold in their pool at ``max_placement_results = 1`` (issue 11).

Nova drops the host a server leaves (``ignore_hosts``) only after
placement's cut. At a cut of 1, when placement's single candidate for a
move is that very host, Nova fails the move ("There are not enough hosts
available.") although other hosts have room: the pool-free control shows
Nova doing so on its own. Placement's order is no contract, so these tests
make the cut the worst it can be (:class:`base.WorstCut`: the host left
first). A pool-constrained move also forbids placement the host it
leaves, so every move lands on another host of its pool; the control
without that exclusion fails the same way as Nova alone.
"""

import fixtures

from openstack_ext.nova import pool_aggregates
from tests.functional.nova import base
from tests.functional.nova import test_placement_cut

IGNORING = 'Host filter ignoring hosts: %s'


class HostnameMoveCutTest(test_placement_cut.HostnameCutTest):
    """hostname_prefix pools: every move at a cut of 1."""

    # The boots are test_placement_cut's.
    test_every_boot_lands_in_its_pool = None
    test_control_pools_starve_without_the_placement_constraint = None

    def test_moves_stay_in_the_pool(self):
        self.moves_stay_in_pool('192.0.2.7', 'dev', 'move_cut_1_')

    def test_control_without_excluding_the_host_left(self):
        self.useFixture(fixtures.MockPatchObject(
            pool_aggregates.LeftHosts, 'forbidden', return_value=set()))
        self.lure_away_from('dev')
        resize_fails_on_the_host_left(
            self, self.client_from('192.0.2.7'),
            'There are not enough hosts available.')
        # Nova's fault; the scheduler's log names the pool.
        self.assertIn("Placement offered hosts of IP pool 'dev' with room "
                      "for this request, but none passed the scheduler's "
                      "filters", self.stdlog.logger.output)


def resize_fails_on_the_host_left(test, owner, reason):
    """Boot through *owner*; at a cut of 1, its resize fails for *reason*."""
    server = test.boot(owner)
    host = test.landed_on(server, 'control_boot')
    flavor = test._create_flavor(memory_mb=1024, vcpu=1, disk=1)
    test.cut_first(host)
    test.admin_api.post_server_action(
        server['id'], {'resize': {'flavorRef': flavor}})
    test._wait_for_migration_status(server, ['error'])
    # Placement's one candidate was the host the server leaves.
    test._wait_for_log(IGNORING % host)
    # The conductor logs why after it has set the migration's status.
    test._wait_for_assert(lambda: test.assertIn(
        'Failed to compute_task_migrate_server: No valid host was found. ' +
        reason, test.stdlog.logger.output))
    server = test.api.get_server(server['id'])
    test.assertEqual(('ACTIVE', host), (server['status'],
                                        server['OS-EXT-SRV-ATTR:host']))


class AggregateMoveCutTest(test_placement_cut.AggregateCutTest,
                           HostnameMoveCutTest):
    """aggregate_metadata pools: every move at a cut of 1."""

    test_every_boot_lands_in_its_pool = None
    test_control_pools_starve_without_the_placement_constraint = None

    def test_moves_stay_in_the_pool(self):
        self.moves_stay_in_pool('192.0.2.7', 'dev', 'aggregate_move_cut_1_')


class NovaAloneMoveCutTest(base.PoolTestCase):
    """Control: no pool filter, no hook; Nova alone at a cut of 1."""

    hosts = test_placement_cut.HostnameCutTest.hosts
    pool_hosts = test_placement_cut.HostnameCutTest.pool_hosts
    max_placement_results = 1
    stamp = False

    def setUp(self):
        super(NovaAloneMoveCutTest, self).setUp()
        self.flags(enabled_filters=['ComputeFilter'],
                   group='filter_scheduler')
        self.scheduler_service.stop()
        self.scheduler_service = self.start_service('scheduler')
        # The hook stays in this test process: make it ask nothing.
        self.without_placement_constraint()

    def test_resize_fails_when_the_candidate_is_the_source(self):
        self.assertNotIn(base.FILTER, str(
            self.scheduler_service.manager.host_manager.enabled_filters))
        resize_fails_on_the_host_left(
            self, self.client_from('192.0.2.7'),
            'There are not enough hosts available.')

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

"""IP pools defined by host aggregate metadata instead of hostnames.

Hosts are named for nothing in particular; pools are set the way operators
would, ``openstack aggregate set --property ip_pool=<pool>``.
"""

from tests.functional.nova import base


class AggregatePoolsTest(base.PoolTestCase):

    hosts = ('alpha', 'bravo', 'charlie', 'delta', 'echo')
    # echo is in the doc and the ops aggregates: in no pool.
    pool_hosts = {'doc': {'alpha', 'bravo'}, 'ops': {'charlie'},
                  'dev': {'delta'}, 'qa': set()}
    pool_options = dict(base.PoolTestCase.pool_options,
                        host_selection='aggregate_metadata')

    def setUp(self):
        super(AggregatePoolsTest, self).setUp()
        self.aggregates = {}
        for pool, members in [('doc', ['alpha', 'bravo', 'echo']),
                              ('ops', ['charlie', 'echo']),
                              ('dev', ['delta'])]:
            self.aggregates[pool] = self._create_aggregate('%s-hosts' % pool)
            self.set_pool(pool, pool)
            for host in members:
                self.admin_api.add_host_to_aggregate(
                    self.aggregates[pool], host)

    def set_pool(self, aggregate, pool):
        """openstack aggregate set --property ip_pool=<pool> <aggregate>"""
        self.admin_api.post_aggregate_action(
            self.aggregates[aggregate],
            {'set_metadata': {'metadata': {'ip_pool': pool}}})

    def test_aggregates_define_the_pools(self):
        for forwarded_for, pool, scenario in [
                ('10.1.2.3', 'doc', 'aggregate_boot_from_10.1.2.3'),
                ('10.2.0.8', 'ops', 'aggregate_boot_from_10.2.0.8'),
                ('192.0.2.7', 'dev', 'aggregate_boot_from_unmatched')]:
            self.lure_away_from(pool)
            server = self.boot(self.client_from(forwarded_for))
            self.assertInPool(server, pool, scenario)
        # echo, in two pools, is in none: placement is told to leave out
        # the aggregates naming another pool, so it takes no candidate slot.
        self.assertIn('member_of=%21in%3A', self.stdlog.logger.output)

        # Re-pooled by the operator: the dev hosts now serve qa.
        self.set_pool('dev', 'qa')
        self.pool_hosts = dict(self.pool_hosts, dev=set(), qa={'delta'})
        self.lure_away_from('qa')
        server = self.boot(self.client_from('10.3.0.4'))
        self.assertInPool(server, 'qa', 'aggregate_boot_after_repooling')

    def test_moves_stay_in_the_aggregate_pool(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        host = self.assertInPool(server, 'doc', 'aggregate_boot_before_move')
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self._migrate_server(server)
        host = self.assertMovedWithinPool(server, host,
                                          'aggregate_cold_migrate')
        self._confirm_resize(server)

        # A server from before ip_pool_stamp: the pool of the aggregates of
        # the host it leaves.
        self.forget_stamp(server)
        self._live_migrate(server)
        self.assertMovedWithinPool(server, host,
                                   'aggregate_unstamped_live_migrate')
        self.assertIn("has no ip_pool stamp: it stays in IP pool 'doc' of %s"
                      % host, self.stdlog.logger.output)

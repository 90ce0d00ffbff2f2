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

"""``default_pool = *``: pin some networks, leave everyone else as before.

Pools doc and ops are pinned; spare-1 is in no pool. Clients in no client
network must see Nova as if the filter were not there: any host, spare-1
included, for boots and moves, and no constraint in the placement query.
"""

from tests.functional.nova import base


class AnyDefaultPoolTest(base.PoolTestCase):

    hosts = ('doc-1', 'doc-2', 'ops-1', 'spare-1')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'}, 'qa': set(),
                  'any': {'doc-1', 'doc-2', 'ops-1', 'spare-1'}}
    pool_options = dict(base.PoolTestCase.pool_options, default_pool='*')

    def lure_to(self, *hosts):
        base.LureWeigher.lured = frozenset(hosts)

    def candidate_queries(self):
        """The scheduler's allocation candidate queries so far."""
        return [line for line in self.stdlog.logger.output.splitlines()
                if 'GET /placement/allocation_candidates' in line]

    def test_unlisted_clients_are_unconstrained(self):
        unlisted = self.client_from('192.0.2.7')
        # Any host the weigher prefers: one in no pool, one in a pool.
        for host in ('spare-1', 'ops-1', 'doc-2'):
            self.lure_to(host)
            server = self.boot(unlisted)
            self.assertEqual(host, self.landed_on(server, 'any_boot_' + host))
        # Nova's own placement query: no aggregate added for them.
        queries = self.candidate_queries()
        self.assertEqual(3, len(queries))
        for query in queries:
            self.assertNotIn('member_of', query)
        # Their moves go wherever Nova sends them, across pools.
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self.lure_to('spare-1')
        self._migrate_server(server)
        self.assertEqual('spare-1', self.landed_on(server, 'any_migrate'))
        self._confirm_resize(server)
        self.lure_to('ops-1')
        self._live_migrate(server)
        self.assertEqual('ops-1', self.landed_on(server, 'any_live_migrate'))

    def test_listed_networks_stay_pinned(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        host = self.assertInPool(server, 'doc', 'pinned_next_to_any')
        [query] = self.candidate_queries()
        self.assertIn('member_of', query)
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self._migrate_server(server)
        self.assertMovedWithinPool(server, host, 'pinned_migrate_next_to_any')
        # A pool with no host is still refused, never sent anywhere.
        server = self.boot(self.client_from('10.3.0.4'), 'ERROR')
        self.assertIn("IP pool 'qa' has no compute host",
                      server['fault']['message'])

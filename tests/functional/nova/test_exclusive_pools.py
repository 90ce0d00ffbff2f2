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

"""``exclusive_pools``: clients in no pool kept off a paid-for pool.

``default_pool = *`` leaves clients in no client network unconstrained;
with ``exclusive_pools = doc`` they may use any host but doc's. At
``max_placement_results = 1``, with placement's cut taken as badly as it
can be (doc's hosts first) and the weigher luring every request to doc,
their boots and moves land off doc: placement was asked for hosts outside
doc's aggregate. The control shows the host filter alone cannot do it at
that cut, and keeps doc off with placement's full answer.
"""

from nova.api import wsgi

from openstack_ext.nova import pools
from tests.functional.nova import base

UNLISTED = '192.0.2.7'


class ExclusivePoolsTest(base.PoolTestCase):

    hosts = ('doc-1', 'doc-2', 'ops-1', 'spare-1', 'spare-2')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'}, 'qa': set(),
                  'open': {'ops-1', 'spare-1', 'spare-2'}}
    pool_options = dict(base.PoolTestCase.pool_options, default_pool='*',
                        exclusive_pools=['doc'])
    max_placement_results = 1

    def lure_to_doc(self, then=None):
        """Lure to doc; placement's cut puts doc first, then *then*.

        Unconstrained moves are Nova's own: at a cut of 1 they fail when
        placement's one candidate is the host left, so the test names the
        host next in line.
        """
        base.LureWeigher.lured = frozenset(self.pool_hosts['doc'])
        self.cut_first(*self.pool_hosts['doc'] | {then} - {None})

    def candidate_queries(self):
        return [line for line in self.stdlog.logger.output.splitlines()
                if 'GET /placement/allocation_candidates' in line]

    def assertDocForbidden(self):
        self.assertIn('member_of=%21in%3A' + self.pool_aggregate('doc').uuid,
                      self.candidate_queries()[-1])

    def test_clients_in_no_pool_stay_off_at_boot_and_every_move(self):
        self.lure_to_doc('spare-1')
        server = self.boot(self.client_from(UNLISTED))
        self.assertEqual('spare-1', self.landed_on(server, 'exclusive_boot'))
        self.assertDocForbidden()
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self.lure_to_doc('spare-2')
        self._migrate_server(server)
        self.assertEqual('spare-2', self.landed_on(server,
                                                   'exclusive_migrate'))
        self.assertDocForbidden()
        self._confirm_resize(server)
        self.lure_to_doc('spare-1')
        self._live_migrate(server)
        self.assertEqual('spare-1', self.landed_on(server,
                                                   'exclusive_live_migrate'))
        self.assertDocForbidden()
        # A legacy server (no stamp, on a host in no pool) moves
        # unconstrained, but not into doc either.
        self.forget_stamp(server)
        self.lure_to_doc('spare-2')
        self._migrate_server(server)
        self.assertEqual('spare-2', self.landed_on(
            server, 'exclusive_unstamped_migrate'))
        self.assertDocForbidden()
        self._confirm_resize(server)

    def test_doc_clients_still_get_doc(self):
        base.LureWeigher.lured = frozenset(['spare-1', 'ops-1'])
        server = self.boot(self.client_from('10.1.2.3'))
        self.assertInPool(server, 'doc', 'exclusive_own_client')

    def test_control_the_host_filter_alone(self):
        self.without_placement_constraint()
        self.lure_to_doc()
        # At a cut of 1 placement offers a doc host only: the filter turns
        # it down, and the boot fails although other hosts have room.
        server = self.boot(self.client_from(UNLISTED), 'ERROR')
        self.assertIn('No valid host', server['fault']['message'])
        # With placement's whole answer, the filter keeps doc off.
        self.flags(max_placement_results=1000, group='scheduler')
        server = self.boot(self.client_from(UNLISTED))
        self.assertInPool(server, 'open', 'exclusive_filter_only')


class ExclusivePoolsConfigurationTest(base.PoolTestCase):

    hosts = ()
    pool_options = dict(base.PoolTestCase.pool_options, default_pool='*')

    def test_an_exclusive_pool_that_is_no_pool_stops_the_services(self):
        self.scheduler_service.stop()
        self.flags(exclusive_pools=['doc', 'finance'], group='ip_pools')
        error = self.assertRaises(pools.PoolConfigError,
                                  self.start_service, 'scheduler')
        self.assertIn('[ip_pools] exclusive_pools = doc, finance: pool '
                      "'finance' is not a pool", str(error))
        error = self.assertRaises(pools.PoolConfigError,
                                  wsgi.Loader().load_app, 'osapi_compute')
        self.assertIn('exclusive_pools = doc, finance', str(error))
        self.flags(exclusive_pools=['doc'], group='ip_pools')
        self.start_service('scheduler')

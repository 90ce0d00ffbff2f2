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

"""IP pools with only the scheduler filter: nova-api's stamp left out.

A deployer who skipped ip_pool_stamp still gets pools by client address for
new servers, pools that hold for moves that leave a named host, and no way
for a client to pick its pool with a hint. No default pool: clients in no
client network are refused.
"""

from openstack_ext.nova import pools
from tests.functional.nova import base


class UnstampedPoolsTest(base.PoolTestCase):

    stamp = False
    pool_options = dict(base.PoolTestCase.pool_options, default_pool=None,
                        stamp_secret=None)

    def test_boots_use_the_client_address_and_no_hint(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        self.assertInPool(server, 'doc', 'unstamped_boot_from_10.1.2.3')

        self.lure_away_from('ops')
        ops_client = self.client_from('10.2.0.8')
        for hint, scenario in [
                ('doc', 'unstamped_forged_hint'),
                ('doc:' + '0' * 64, 'unstamped_forged_stamp'),
                (pools.sign_stamp(base.SECRET, 'doc', 'other-project'),
                 'unstamped_stamp_of_another_project')]:
            server = self.boot(ops_client, hints={pools.HINT: hint})
            self.assertInPool(server, 'ops', scenario)
        self.assertIn('Ignoring an ip_pool hint', self.stdlog.logger.output)

        server = self.boot(self.client_from('192.0.2.7'), 'ERROR')
        self.assertIn('no IP pool', server['fault']['message'])
        self.assertIn('client 192.0.2.7', self.stdlog.logger.output)
        self.assertIn('default_pool is unset', self.stdlog.logger.output)

    def test_moves_stay_in_the_pool_of_the_host_they_leave(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        host = self.assertInPool(server, 'doc', 'unstamped_boot')
        self.api = self.admin_api = self.admin_from('10.2.0.50')

        self._migrate_server(server)
        host = self.assertMovedWithinPool(server, host,
                                          'unstamped_cold_migrate')
        self._confirm_resize(server)

        self._live_migrate(server)
        host = self.assertMovedWithinPool(server, host,
                                          'unstamped_live_migrate')
        self.assertIn("has no ip_pool stamp: it stays in IP pool 'doc'",
                      self.stdlog.logger.output)

        # An offloaded server has no host to stay in the pool of: the
        # unshelve is let through anywhere, with a warning.
        self._shelve_server(server)
        self._unshelve_server(server)
        self.landed_on(server, 'unstamped_unshelve_unconstrained')
        self.assertIn('without a pool constraint: it has no ip_pool stamp',
                      self.stdlog.logger.output)

        self.evacuate_fresh_server(self.client_from('10.1.2.3'),
                                   'unstamped_evacuate')


class HalfDeployedStampTest(base.PoolTestCase):
    """stamp_secret is set but nova-api does not run ip_pool_stamp.

    The scheduler cannot tell such a boot from one that went round the
    stamp filter: it refuses it rather than trust the request.
    """

    stamp = False

    def test_unstamped_boots_are_refused(self):
        for address, hints in [('10.1.2.3', None),
                               ('10.2.0.8', {pools.HINT: 'doc'})]:
            server = self.boot(self.client_from(address), 'ERROR',
                               hints=hints)
            self.assertIn('not stamped by ip_pool_stamp',
                          server['fault']['message'])
        self.assertIn('has no valid ip_pool stamp although [ip_pools] '
                      'stamp_secret is set', self.stdlog.logger.output)

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

"""``openstack-ext repool`` moves a department's server to another pool.

The weigher lures every request out of the new pool, so the move and
every later move land in it only because the new stamp says so.
"""

import io

from nova import context as nova_context
from nova import objects

from openstack_ext.cmd import repool
from openstack_ext.cmd import report
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.functional.nova import base

REASON = 'doc moves to ops (CHG-1234)'


class RepoolTest(base.PoolTestCase):

    hosts = ('doc-1', 'doc-2', 'ops-1', 'ops-2', 'dev-1')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1', 'ops-2'},
                  'dev': {'dev-1'}, 'qa': set()}

    def repool(self, server, **kwargs):
        out = io.StringIO()
        rep = report.Report(out)
        settings = pools.load_settings(pool_filter.CONF, require_secret=True)
        outcome = repool.repool(nova_context.get_admin_context(), settings,
                                rep, [server['id']], 'ops', REASON,
                                who='operator', timeout=60, **kwargs)
        return outcome[server['id']], rep, out.getvalue()

    def stamp_of(self, server):
        spec = objects.RequestSpec.get_by_instance_uuid(
            nova_context.get_admin_context(), server['id'])
        return pools.verify_stamp([base.SECRET],
                                  spec.get_scheduler_hint(pools.HINT),
                                  self.api_fixture.project_id)

    def test_repool_moves_it_and_the_next_move_keeps_it(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        source = self.assertInPool(server, 'doc', 'repool_boot')

        outcome, rep, _ = self.repool(server, migrate='live', dry_run=True)
        self.assertEqual('would be re-stamped from doc to ops, would be '
                         'live-migrated from %s' % source, outcome)
        self.assertEqual(('doc', source), (self.stamp_of(server),
                                           self.landed_on(server, 'dry')))

        self.lure_away_from('ops')
        outcome, rep, output = self.repool(server, migrate='live')
        self.assertEqual([], rep.warnings, output)
        host = self.assertInPool(server, 'ops', 'repool_live_migrate')
        self.assertEqual('re-stamped from doc to ops by operator (%s), '
                         'live-migrated from %s to %s' % (REASON, source,
                                                          host), outcome)
        self.assertEqual('ops', self.stamp_of(server))
        self.assertIn('Server %s re-stamped from IP pool doc to ops by '
                      'operator: %s' % (server['id'], REASON),
                      self.stdlog.logger.output)

        # Idempotent: nothing left to do.
        outcome, rep, _ = self.repool(server, migrate='live')
        self.assertEqual('already stamped for IP pool ops, on host %s'
                         % host, outcome)

        # The next move, by an admin who knows nothing of it, keeps ops.
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self._migrate_server(server)
        self.assertMovedWithinPool(server, host, 'repool_next_move', 'ops')
        self._confirm_resize(server)

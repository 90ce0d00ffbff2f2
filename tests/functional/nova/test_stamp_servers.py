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

"""Secret rotation with overlap, and stamp-servers, in a running Nova.

nova-api and nova-scheduler are at step 2 of the rotation documented in
:mod:`openstack_ext.nova.pool_stamp`: ``stamp_secret = NEW,OLD``.
"""

import io
import logging

import fixtures
from nova import context as nova_context
from nova import objects

from openstack_ext.cmd import report
from openstack_ext.cmd import stamp_servers
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.functional.nova import base

OLD = base.SECRET
NEW = 'functional-test-new-stamp-secret-9876543210'


class StampTestCase(base.PoolTestCase):

    pool_options = dict(base.PoolTestCase.pool_options,
                        stamp_secret=[NEW, OLD])

    def setUp(self):
        super(StampTestCase, self).setUp()
        self.debug = self.useFixture(fixtures.FakeLogger(
            name='openstack_ext', level=logging.DEBUG))

    def spec(self, server):
        return objects.RequestSpec.get_by_instance_uuid(
            nova_context.get_admin_context(), server['id'])

    def stamp_of(self, server):
        return self.spec(server).get_scheduler_hint(pools.HINT)

    def set_hint(self, server, value):
        """Write the server's ip_pool hint, as an older deployment did."""
        spec = self.spec(server)
        spec.scheduler_hints[pools.HINT] = [value]
        spec.save()

    def stamp_servers(self, dry_run=False):
        """Run the command's work on this cloud; return counts and output."""
        out = io.StringIO()
        settings = pools.load_settings(pool_filter.CONF, require_secret=True)
        counts = stamp_servers.stamp_all(nova_context.get_admin_context(),
                                         settings, report.Report(out),
                                         dry_run)
        return counts, out.getvalue()

    def restart_scheduler(self):
        self.scheduler_service.stop()
        self.scheduler_service = self.start_service('scheduler')

    def assertStampedBy(self, server, pool, secrets):
        self.assertEqual(pool, pools.verify_stamp(
            secrets, self.stamp_of(server), self.api_fixture.project_id))


class SecretRotationTest(StampTestCase):

    def test_rotation_keeps_every_server_in_its_pool(self):
        self.lure_away_from('doc')
        doc_client = self.client_from('10.1.2.3')
        old = self.boot(doc_client)
        host = self.assertInPool(old, 'doc', 'rotation_old_boot')
        # Created at step 1, when OLD still signed.
        self.set_hint(old, pools.sign_stamp(
            OLD, 'doc', self.api_fixture.project_id))
        new = self.boot(doc_client)
        self.assertInPool(new, 'doc', 'rotation_new_boot')
        # New stamps are signed with the first secret only.
        self.assertStampedBy(new, 'doc', [NEW])
        self.assertIsNone(pools.verify_stamp(
            [OLD], self.stamp_of(new), self.api_fixture.project_id))

        # The overlap: the old stamp still verifies and moves the server.
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self._migrate_server(old)
        host = self.assertMovedWithinPool(old, host, 'rotation_old_moves')
        self._confirm_resize(old)
        self.assertIn("Instance %s needs IP pool 'doc': stamped by nova-api"
                      % old['id'], self.debug.output)

        # Step 3: stamp-servers re-signs the old stamp with NEW.
        counts, output = self.stamp_servers()
        self.assertEqual({'kept': 1, 're-signed': 1, 'stamped': 0,
                          'undecided': 0}, counts)
        self.assertIn('re-signed %s: pool doc (signed with stamp_secret '
                      'value 2)' % old['id'], output)
        self.assertStampedBy(old, 'doc', [NEW])

        # Step 4: OLD removed. A stamp it signed no longer verifies.
        self.flags(stamp_secret=[NEW], group='ip_pools')
        self.restart_scheduler()
        self.set_hint(new, pools.sign_stamp(
            OLD, 'doc', self.api_fixture.project_id))
        self._live_migrate(old)
        self.assertMovedWithinPool(old, host, 'rotation_resigned_moves')
        self.assertNotIn('Ignoring an ip_pool hint of instance %s'
                         % old['id'], self.debug.output)
        self._live_migrate(new)
        self.landed_on(new, 'rotation_removed_secret_move')
        self.assertIn('Ignoring an ip_pool hint of instance %s' % new['id'],
                      self.debug.output)
        # Handled as a server from before the stamp: the pool of its host.
        self.assertIn("Instance %s has no ip_pool stamp: it stays in IP pool "
                      "'doc'" % new['id'], self.debug.output)


class StampServersTest(StampTestCase):

    def boot_unstamped(self, address, pool, hint=None):
        self.lure_away_from(pool)
        server = self.boot(self.client_from(address))
        self.assertInPool(server, pool, 'unstamped_%s' % pool)
        if hint is None:
            self.forget_stamp(server)
        else:
            self.set_hint(server, hint)
        return server

    def test_servers_booted_without_the_stamp_get_their_hosts_pool(self):
        doc = self.boot_unstamped('10.1.2.3', 'doc')
        ops = self.boot_unstamped('10.2.0.8', 'ops')
        # A hint a client sent before ip_pool_stamp was deployed.
        dev = self.boot_unstamped('192.0.2.7', 'dev', hint='doc')
        shelved = self.boot_unstamped('10.1.2.4', 'doc')
        self._shelve_server(shelved, 'SHELVED_OFFLOADED')
        stamped = self.boot(self.client_from('10.1.2.5'))

        counts, output = self.stamp_servers(dry_run=True)
        self.assertEqual({'kept': 1, 'stamped': 3, 're-signed': 0,
                          'undecided': 1}, counts)
        self.assertIn('would be stamped %s: pool ops (its host ops-1 is in '
                      'it)' % ops['id'], output)
        self.assertIn('WARNING: not decided %s: it is on no host'
                      % shelved['id'], output)
        self.assertIsNone(self.stamp_of(doc))
        self.assertEqual('doc', self.stamp_of(dev))

        counts, output = self.stamp_servers()
        self.assertEqual({'kept': 1, 'stamped': 3, 're-signed': 0,
                          'undecided': 1}, counts)
        for server, pool in [(doc, 'doc'), (ops, 'ops'), (dev, 'dev'),
                             (stamped, 'doc')]:
            self.assertStampedBy(server, pool, [NEW])
        self.assertIsNone(self.stamp_of(shelved))

        # Idempotent: nothing left to do but the undecided server.
        counts, output = self.stamp_servers()
        self.assertEqual({'kept': 4, 'stamped': 0, 're-signed': 0,
                          'undecided': 1}, counts)

        # The stamp now decides its moves, as for a server created with it.
        self.lure_away_from('doc')
        host = self.landed_on(doc, 'stamp_servers_before_move')
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        self._migrate_server(doc)
        self.assertMovedWithinPool(doc, host, 'stamp_servers_move')
        self.assertIn("Instance %s needs IP pool 'doc': stamped by nova-api"
                      % doc['id'], self.debug.output)

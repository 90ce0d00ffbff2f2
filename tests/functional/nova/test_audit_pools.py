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

"""``openstack-ext audit-pools`` finds the drift a running cloud makes.

Pools doc and ops, ``default_pool = *`` and doc exclusive. Each kind of
drift is made the way it happens: an admin forces a live migration across
pools (Nova skips the scheduler), a compute host is renamed into another
pool, a server predates the stamp, a secret is dropped too early, a pool
is taken out of the configuration, and a server of a client in no pool
was on doc's host before doc became exclusive.
"""

import io
import json

from nova import context as nova_context
from nova import objects

from openstack_ext.cmd import audit_pools
from openstack_ext.cmd import report
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.functional.nova import base


class AuditPoolsTest(base.PoolTestCase):

    hosts = ('doc-1', 'doc-2', 'ops-1', 'spare-1')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'}, 'qa': set(),
                  'open': {'ops-1', 'spare-1'}}
    pool_options = dict(base.PoolTestCase.pool_options, default_pool='*')

    def audit(self, as_json=False):
        """The command's work on this cloud: status, output."""
        out = io.StringIO()
        settings = pools.load_settings(pool_filter.CONF, require_secret=True)
        servers, findings = audit_pools.audit(
            nova_context.get_admin_context(), settings)
        status = audit_pools.show(findings, servers, report.Report(out),
                                  as_json)
        return status, out.getvalue()

    def findings(self):
        status, output = self.audit(as_json=True)
        found = json.loads(output)
        self.assertEqual(report.PROBLEMS if found['findings'] else report.OK,
                         status)
        return {f['server']: f for f in found['findings']}

    def set_hint(self, server, value):
        ctxt = nova_context.get_admin_context()
        spec = objects.RequestSpec.get_by_instance_uuid(ctxt, server['id'])
        spec.scheduler_hints[pools.HINT] = [value]
        spec.save()

    def force_live_migrate(self, server, host):
        """An admin forces the host: Nova's scheduler is not asked."""
        api = self.admin_from('10.2.0.50')
        api.microversion = '2.30'
        api.post_server_action(server['id'], {'os-migrateLive': {
            'host': host, 'block_migration': 'auto', 'force': True}})
        self._wait_for_migration_status(server, ['completed'])
        self._wait_for_server_parameter(
            server, {'OS-EXT-SRV-ATTR:host': host, 'status': 'ACTIVE'})

    def rename_host(self, server, new_name):
        """What the cell database says once the operator renamed its host.

        Nova has no API to rename a compute host: operators start
        nova-compute under the new name and update the instances' host.
        The scheduler's rule reads the new name.
        """
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(ctxt, server['id'])
        instance.host = new_name
        instance.save()

    def test_every_kind_of_drift_is_found(self):
        self.lure_away_from('doc')
        doc_client = self.client_from('10.1.2.3')
        in_pool = self.boot(doc_client)
        self.assertInPool(in_pool, 'doc', 'audit_in_pool')
        forced = self.boot(doc_client)
        renamed = self.boot(doc_client)
        unstamped = self.boot(doc_client)
        old_secret = self.boot(doc_client)
        gone_pool = self.boot(doc_client)
        base.LureWeigher.lured = frozenset(['spare-1'])
        unlisted = self.boot(self.client_from('192.0.2.7'))
        self.assertEqual(report.OK, self.audit()[0])

        self.force_live_migrate(forced, 'ops-1')
        self.rename_host(renamed, 'ops-7')
        self.forget_stamp(unstamped)
        project = self.api_fixture.project_id
        self.set_hint(old_secret, pools.sign_stamp(
            'a-secret-removed-too-early-0123456789', 'doc', project))
        self.set_hint(gone_pool, pools.sign_stamp(base.SECRET, 'legal',
                                                  project))
        # An admin forced it onto doc's host; then doc became exclusive.
        self.force_live_migrate(unlisted, 'doc-2')
        self.flags(exclusive_pools=['doc'], group='ip_pools')

        found = self.findings()
        self.assertEqual({
            forced['id']: ('outside-pool', 'ops-1', 'doc', 'ops'),
            renamed['id']: ('outside-pool', 'ops-7', 'doc', 'ops'),
            unstamped['id']: ('no-stamp', self.landed_on(unstamped, 'a'),
                              None, None),
            old_secret['id']: ('unverified-stamp',
                               self.landed_on(old_secret, 'b'), None, None),
            gone_pool['id']: ('unknown-pool', self.landed_on(gone_pool, 'c'),
                              'legal', None),
            unlisted['id']: ('on-exclusive-pool', 'doc-2', '*', 'doc'),
        }, {server: (f['finding'], f['host'], f['stamped_pool'],
                     f['host_pool']) for server, f in found.items()})
        status, output = self.audit()
        self.assertEqual(report.PROBLEMS, status)
        self.assertIn("WARNING: outside-pool %s (project %s, host ops-7): "
                      "stamped for IP pool 'doc', on a host of IP pool 'ops'"
                      % (renamed['id'], project), ' '.join(output.split()))
        self.assertIn('7 servers, 6 findings', output)

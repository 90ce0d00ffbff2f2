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

"""When a pool has no room the fault is Nova's own; the log names the pool.

``default_pool = *``: clients of doc are pinned, other clients are not, so
the same cloud shows a pooled request's fault and, as the control, an
unpooled one's: they must be the same sentence, so that Nova's tests and
operators' tooling matching it keep working.
"""

from tests.functional.nova import base

NOVA = 'No valid host was found. '
FILTERED_OUT = NOVA + 'There are not enough hosts available.'
DOC = '10.1.2.3'
UNLISTED = '192.0.2.7'


class PoolFaultTest(base.PoolTestCase):

    hosts = ('doc-1', 'doc-2', 'ops-1', 'spare-1')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'}, 'qa': set(),
                  '*': {'doc-1', 'doc-2', 'ops-1', 'spare-1'}}
    pool_options = dict(base.PoolTestCase.pool_options, default_pool='*')

    def boot_fault(self, address, **server):
        server = self.boot(self.client_from(address), 'ERROR', **server)
        return server['fault']['message']

    def test_a_full_pool_says_what_nova_says_and_logs_the_pool(self):
        # More memory than any host has: no room anywhere.
        huge = self._create_flavor(memory_mb=10 ** 6, vcpu=1, disk=1)
        self.assertEqual(NOVA, self.boot_fault(DOC, flavorRef=huge))
        self.assertIn("No host of IP pool 'doc' has room for this request "
                      "(the pool has 2 hosts).", self.stdlog.logger.output)
        # Control: an unpinned client, the same request, Nova's own fault.
        self.assertEqual(NOVA, self.boot_fault(UNLISTED, flavorRef=huge))
        # And the pool takes servers that fit (control of the control).
        self.assertInPool(self.boot(self.client_from(DOC)), 'doc', 'fits')

    def test_hosts_with_room_that_the_filters_refuse(self):
        for host in ('doc-1', 'doc-2'):
            self.computes[host].stop()
            self.force_down(host)
        self.assertEqual(FILTERED_OUT, self.boot_fault(DOC))
        self.assertIn("Placement offered hosts of IP pool 'doc' with room "
                      "for this request, but none passed the scheduler's "
                      "filters (the pool has 2 hosts).",
                      self.stdlog.logger.output)
        # Control: the other clients still boot, on a host that is up.
        self.assertIn(self.landed_on(self.boot(self.client_from(UNLISTED)),
                                     'up'), {'ops-1', 'spare-1'})

    def test_a_move_counts_the_host_it_leaves(self):
        server = self.boot(self.client_from('10.2.0.8'))
        self.assertInPool(server, 'ops', 'boot')
        self.admin_api.post_server_action(server['id'], {'migrate': None})
        self._wait_for_migration_status(server, ['error'])
        self._wait_for_log(
            "No host of IP pool 'ops' has room for this request \\(the pool "
            "has 1 host, including ops-1, which the server leaves\\)")
        # Control: an unpinned server migrates (spare-1 and doc have room).
        unpinned = self.boot(self.client_from(UNLISTED))
        source = self.landed_on(unpinned, 'unpinned')
        self._migrate_server(unpinned)
        self.assertNotEqual(source, self.landed_on(unpinned, 'migrated'))

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

"""The Nova half of the demo: the guide's IPScheduler scenario.

Real nova-api (with ``ip_pool_stamp``), conductor, scheduler (with
``ClientNetworkPoolFilter``), placement and four fake computes, in-process
in Nova's own functional fixtures: the same set-up as the functional tests
(:class:`tests.functional.nova.base.PoolTestCase`), driven as one test so
that its fixtures start and clean up everything. Importing this module
imports Nova's test package, which monkey-patches the process for eventlet:
run the Swift half first.
"""

from openstack_ext.nova import pools
from tests.functional.nova import base

NETWORKS = ['10.1.0.0/16=doc', '10.2.0.0/16=ops', '2001:db8:1::/48=doc']
DEFAULT_POOL = 'dev'
HOPS = 1  # the load balancer base.ClientBehindProxy stands for
CLIENTS = [
    ('10.1.2.3', ''),
    ('10.2.0.8', ''),
    ('10.10.0.5', "2013: startswith('10.1') -> doc"),
    ('2001:db8:1::7', 'IPv6'),
]
RESIZER = '10.2.0.50'  # an admin on the ops network


def expected_pool(address):
    """The pool the demo expects, from the mapping code alone."""
    pool_map = pools.PoolMap(pools.parse_client_networks(NETWORKS),
                             DEFAULT_POOL)
    return pool_map.pool_for_chain(address, HOPS).pool


class NovaDemo(base.PoolTestCase):
    """Boots from four client networks, then an admin's resize.

    ``progress`` (tools/demo.py's: its current step names what failed) and
    ``emit`` (called with each result row) are set by the demo before it
    runs the test.
    """

    pool_options = dict(base.PoolTestCase.pool_options,
                        client_networks=NETWORKS, default_pool=DEFAULT_POOL,
                        trusted_proxy_hops=HOPS)
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'},
                  'dev': {'dev-1'}}
    progress = None
    emit = None

    def setUp(self):
        self.progress.start('starting Nova: placement, nova-api, conductor, '
                            'scheduler')
        self._computes_started = 0
        super(NovaDemo, self).setUp()
        self.progress.done()

    def _start_compute(self, host, *args, **kwargs):
        if not self._computes_started:
            self.progress.done()
            self.progress.start('starting fake computes')
        self._computes_started += 1
        self.progress.more(host)
        return super(NovaDemo, self)._start_compute(host, *args, **kwargs)

    def server_host(self, server):
        return self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']

    def test_demo(self):
        servers = {}
        for address, note in CLIENTS:
            pool = expected_pool(address)
            self.progress.start('booting a server from %s' % address)
            self.lure_away_from(pool)
            servers[address] = server = self.boot(self.client_from(address))
            host = self.server_host(server)
            self.assertInPool(server, pool, 'boot from %s' % address)
            self.progress.done()
            self.emit(address, pool, host, note)

        doc_server = servers[CLIENTS[0][0]]
        source = self.server_host(doc_server)
        self.progress.start('resizing the %s server as an admin at %s' % (
            CLIENTS[0][0], RESIZER))
        self.lure_away_from('doc')
        self.api = self.admin_api = self.admin_from(RESIZER)
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1)
        self.api.post_server_action(
            doc_server['id'], {'resize': {'flavorRef': flavor}})
        self._wait_for_state_change(doc_server, 'VERIFY_RESIZE')
        host = self.server_host(doc_server)
        self.assertInPool(doc_server, 'doc', 'resize')
        self.assertNotEqual(source, host, 'the resize did not move')
        self._confirm_resize(doc_server)
        self.progress.done()
        self.emit('%s admin' % RESIZER, 'doc', '%s -> %s' % (source, host),
                  'resize of the %s server' % CLIENTS[0][0])
        self.progress.start('stopping Nova')

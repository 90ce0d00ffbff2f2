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

"""A Nova cloud with IP-pool computes, in Nova's own functional fixtures.

Real nova-api (through wsgi-intercept, with the api-paste.ini shipped with
Nova, plus ``ip_pool_stamp`` where a test class deploys it), conductor,
scheduler with :class:`ClientNetworkPoolFilter`, placement and fake-driver
computes. Clients reach nova-api through one load balancer: their requests
carry the X-Forwarded-For header it would append.

Every scenario lures the scheduler out of the expected pool: the
:class:`LureWeigher` ranks every host outside it first, so a host outside
the pool is chosen whenever the filter lets one through.
"""

import configparser
import importlib.metadata
import os
import re
import time

import fixtures
from nova import conf as nova_conf
from nova import context as nova_context
from nova import objects
from nova.scheduler import request_filter
from nova.scheduler import weights
from nova.tests.functional.api import client
from nova.tests.functional import integrated_helpers
from oslo_middleware import http_proxy_to_wsgi
from paste.deploy import loadwsgi
from placement.objects import research_context

# Registers the [ip_pools] options on Nova's CONF, as the scheduler does.
from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pool_filter  # noqa: F401
from openstack_ext.nova import pool_sync
from openstack_ext.nova import pools
from tests.unit.nova import hook_fixture

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
STAMP_SNIPPET = os.path.join(TOP, 'etc', 'nova', 'api-paste-ip-pool-stamp.ini')
FILTER = 'ClientNetworkPoolFilter'
SECRET = 'functional-test-stamp-secret-0123456789'
GUIDE_NETWORKS = ['10.1.0.0/16=doc', '10.2.0.0/16=ops',
                  '2001:db8:1::/48=doc', '10.3.0.0/16=qa']
# Where a test's landing hosts are recorded, if set (for the note).
LANDINGS_FILE = os.environ.get('OPENSTACK_EXT_LANDINGS')


class LureWeigher(weights.BaseHostWeigher):
    """Rank the hosts in ``lured`` above all others."""

    lured = frozenset()

    def _weigh_object(self, host_state, weight_properties):
        return 1.0 if host_state.host in self.lured else 0.0


class WorstCut(object):
    """Placement's cut, taken as badly as it can be for a test.

    Placement keeps the first ``max_placement_results`` candidates in an
    order that is no contract (it changes from run to run). This keeps the
    candidates on the providers in ``first`` first, so that a test makes
    placement's cut the worst one for it (a move's single candidate the
    host it leaves) every time.
    """

    first = frozenset()

    @classmethod
    def limit_results(cls, original):
        def limit_results(search, alloc_request_objs, summary_objs):
            ranked = sorted(alloc_request_objs, key=lambda request: not any(
                resource.resource_provider.uuid in cls.first
                for resource in request.resource_requests))
            return original(search, ranked, summary_objs)
        return limit_results


class ClientBehindProxy(client.TestOpenStackClient):
    """An API client whose requests arrive through a load balancer.

    ``forwarded_for`` is the X-Forwarded-For value nova-api receives: what
    the client sent, if anything, then the address the balancer appended.
    """

    def __init__(self, forwarded_for, *args, **kwargs):
        super(ClientBehindProxy, self).__init__(*args, **kwargs)
        self.forwarded_for = forwarded_for

    def request(self, url, method='GET', body=None, headers=None):
        headers = dict(headers or {})
        headers.setdefault('X-Forwarded-For', self.forwarded_for)
        return super(ClientBehindProxy, self).request(
            url, method=method, body=body, headers=headers)


def nova_api_paste():
    """The api-paste.ini that the nova distribution installs."""
    for path in importlib.metadata.distribution('nova').files:
        if path.name == 'api-paste.ini':
            return str(path.locate())
    raise RuntimeError('nova ships no api-paste.ini')


def stamped_api_paste(directory):
    """Write Nova's api-paste.ini merged with our snippet; return its path.

    The snippet's sections replace Nova's, so the test runs the pipeline
    lines we tell operators to use.
    """
    snippet = configparser.ConfigParser(interpolation=None)
    snippet.read(STAMP_SNIPPET)
    with open(nova_api_paste()) as f:
        text = f.read()
    for section in snippet.sections():
        body = ''.join('%s = %s\n' % item for item in snippet[section].items())
        header = '[%s]\n' % section
        pattern = re.compile(r'^\[%s\]\n(?:[^\[\n].*\n|\n)*' % re.escape(
            section), re.MULTILINE)
        replaced, count = pattern.subn(lambda m: header + body + '\n', text)
        text = replaced if count else text + '\n' + header + body
    path = os.path.join(directory, 'api-paste.ini')
    with open(path, 'w') as f:
        f.write(text)
    return path


class PoolTestCase(integrated_helpers.ProviderUsageBaseTestCase):
    """Computes doc-1, doc-2, ops-1 and dev-1 behind the pool filter."""

    compute_driver = 'fake.MediumFakeDriver'
    hosts = ('doc-1', 'doc-2', 'ops-1', 'dev-1')
    pool_hosts = {'doc': {'doc-1', 'doc-2'}, 'ops': {'ops-1'},
                  'dev': {'dev-1'}, 'qa': set()}
    # Deploy ip_pool_stamp in nova-api.
    stamp = True
    # [scheduler] max_placement_results, if not Nova's default.
    max_placement_results = None
    pool_options = dict(client_networks=GUIDE_NETWORKS, default_pool='dev',
                        trusted_proxy_hops=1, stamp_secret=SECRET)

    def setUp(self):
        # nova-api and the scheduler read these when the base class starts
        # them, so they are set first.
        self.useFixture(fixtures.MockPatchObject(
            LureWeigher, 'lured', frozenset()))
        self.useFixture(fixtures.MockPatchObject(
            WorstCut, 'first', frozenset()))
        self.useFixture(fixtures.MonkeyPatch(
            'placement.objects.research_context.RequestWideSearchContext.'
            'limit_results', WorstCut.limit_results(
                research_context.RequestWideSearchContext.limit_results)))
        self.useFixture(hook_fixture.PlacementHookIsolation())
        # Some scenarios boot a dozen servers.
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        if self.max_placement_results is not None:
            self.flags(max_placement_results=self.max_placement_results,
                       group='scheduler')
        self.flags(group='ip_pools', **self.pool_options)
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters',
            'openstack_ext.nova.pool_filter.ClientNetworkPoolFilter'],
            enabled_filters=['ComputeFilter', FILTER],
            weight_classes=['%s.LureWeigher' % __name__],
            group='filter_scheduler')
        # Registered by the middleware only when it is built.
        nova_conf.CONF.register_opts(http_proxy_to_wsgi.OPTS,
                                     group='oslo_middleware')
        self.flags(enable_proxy_headers_parsing=True, group='oslo_middleware')
        self.flags(api_paste_config=self.api_paste_config(), group='wsgi')
        # Importing swift (its tests share the stestr worker) replaces
        # paste.deploy's ConfigLoader with one that adds __name__ to every
        # section, which Nova's urlmap takes for a path to load, forever.
        self.useFixture(fixtures.MonkeyPatch(
            'paste.deploy.loadwsgi.ConfigLoader', next(
                cls for cls in loadwsgi.ConfigLoader.__mro__
                if cls.__module__ == loadwsgi.__name__)))
        super(PoolTestCase, self).setUp()
        for host in self.hosts:
            self._start_compute(host)
        # As an operator runs it after nova-manage cell_v2 discover_hosts.
        self.sync_pools()
        self.image = self.glance.auto_disk_config_enabled_image['id']
        self.flavor = self.api.get_flavors()[0]['id']

    def api_paste_config(self):
        """The api-paste.ini nova-api loads: Nova's, with our snippet."""
        if self.stamp:
            return stamped_api_paste(self.useFixture(fixtures.TempDir()).path)
        return nova_api_paste()

    def sync_pools(self):
        """openstack-ext sync-pools, in hostname mode; return its counts."""
        settings = pools.load_settings(nova_conf.CONF)
        if settings.host_selection != 'hostname_prefix':
            return None
        return pool_sync.PoolSync(settings).sync(
            nova_context.get_admin_context())

    def pool_aggregate(self, pool):
        """The host aggregate that sync-pools keeps for *pool*."""
        ctxt = nova_context.get_admin_context()
        [aggregate] = [a for a in objects.AggregateList.get_by_metadata(
            ctxt, key='ip_pool', value=pool)
            if a.name == pool_aggregates.aggregate_name(pool)]
        return aggregate

    def without_placement_constraint(self):
        """Take the pools out of the placement query from now on."""
        self.useFixture(fixtures.MonkeyPatch(
            'nova.scheduler.request_filter.ALL_REQUEST_FILTERS',
            [f for f in request_filter.ALL_REQUEST_FILTERS
             if not hasattr(f, placement_hook._MARK)]))

    def _wait_for_server_parameter(self, server, expected_params,
                                   max_retries=10, *args, **kwargs):
        # Nova's 10 polls (5 s) are too few on a loaded shared machine.
        return super(PoolTestCase, self)._wait_for_server_parameter(
            server, expected_params, max(max_retries, 60), *args, **kwargs)

    def client_from(self, forwarded_for, admin=False, project=None):
        """A client of ours (or an admin of another project) at an address."""
        api = ClientBehindProxy(
            forwarded_for, 'admin' if admin else 'fake',
            self.api_fixture.base_url,
            project_id=project or self.api_fixture.project_id,
            roles=['reader', 'member'] + (['admin'] if admin else []))
        api.microversion = self.microversion
        return api

    def admin_from(self, forwarded_for):
        """An admin of another project, at *forwarded_for*."""
        return self.client_from(forwarded_for, admin=True,
                                project='admin-project')

    def boot(self, api, expected_state='ACTIVE', hints=None,
             hints_key='os:scheduler_hints', **server):
        """Create a server through *api*; wait for *expected_state*."""
        body = {'server': dict(
            self._build_server(image_uuid=self.image, flavor_id=self.flavor,
                               networks='none'), **server)}
        if hints is not None:
            body[hints_key] = hints
        created = api.post_server(body)
        return self._wait_for_state_change(created, expected_state)

    def boot_settled(self, api, flavor=None):
        """Create a server through *api*; return it once ACTIVE or ERROR."""
        created = api.post_server({'server': self._build_server(
            image_uuid=self.image, flavor_id=flavor or self.flavor,
            networks='none')})
        for _ in range(100):
            server = self.api.get_server(created['id'])
            if server['status'] in ('ACTIVE', 'ERROR'):
                return server
            time.sleep(0.1)
        self.fail('server %s is still %s' % (created['id'], server['status']))

    def moves_stay_in_pool(self, client_address, pool, prefix=''):
        """Boot through a client of *pool*; an admin elsewhere moves it.

        Resize, cold and live migration, shelve-offload and unshelve,
        rebuild, then evacuation of a fresh server: each lands in *pool*,
        while placement's cut keeps the host left first if it may.
        """
        self.lure_away_from(pool)
        server = self.boot(self.client_from(client_address))
        host = self.assertInPool(server, pool, prefix + 'boot_before_moves')
        # An admin of another project, on the ops network, moves it around.
        self.api = self.admin_api = self.admin_from('10.2.0.50')
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1)

        self.cut_first(host)
        self.api.post_server_action(
            server['id'], {'resize': {'flavorRef': flavor}})
        self._wait_for_state_change(server, 'VERIFY_RESIZE')
        host = self.assertMovedWithinPool(server, host, prefix + 'resize',
                                          pool)
        self._confirm_resize(server)

        self.cut_first(host)
        self._migrate_server(server)
        host = self.assertMovedWithinPool(server, host,
                                          prefix + 'cold_migrate', pool)
        self._confirm_resize(server)

        self.cut_first(host)
        self._live_migrate(server)
        host = self.assertMovedWithinPool(server, host,
                                          prefix + 'live_migrate', pool)

        self.cut_first(host)
        self._shelve_server(server)
        self._unshelve_server(server)
        host = self.assertInPool(server, pool,
                                 prefix + 'shelve_offload_unshelve')

        self._rebuild_server(
            server, self.glance.auto_disk_config_disabled_image['id'])
        self.assertEqual(host, self.assertInPool(server, pool,
                                                 prefix + 'rebuild'))

        self.evacuate_fresh_server(self.client_from(client_address),
                                   prefix + 'evacuate', pool)

    def cut_first(self, *hosts):
        """Keep the candidates of *hosts* first in placement's cut."""
        WorstCut.first = frozenset(self._get_provider_uuid_by_host(host)
                                   for host in hosts)

    def lure_away_from(self, pool):
        """Rank every host outside *pool* first from now on."""
        LureWeigher.lured = frozenset(self.hosts) - self.pool_hosts[pool]

    def force_down(self, host):
        """Mark the (stopped) compute of *host* down, for evacuation."""
        [service] = self.admin_api.get_services(binary='nova-compute',
                                                host=host)
        self.admin_api.put_service(service['id'], {'forced_down': True})

    def evacuate_fresh_server(self, owner, scenario, pool='doc'):
        """Boot a server in *pool* through *owner*, then evacuate it.

        A fresh server, because the fake driver refuses to evacuate to a
        host that still tracks the instance from an earlier move.
        """
        server = self.boot(owner)
        host = self.assertInPool(server, pool, scenario + '_boot')
        self.cut_first(host)
        self.computes[host].stop()
        self.force_down(host)
        self._evacuate_server(server)
        return self.assertMovedWithinPool(server, host, scenario, pool)

    def forget_stamp(self, server):
        """Drop the server's stamp, as if created before ip_pool_stamp."""
        spec = objects.RequestSpec.get_by_instance_uuid(
            nova_context.get_admin_context(), server['id'])
        spec.scheduler_hints = {key: value for key, value
                                in spec.scheduler_hints.items()
                                if key != pools.HINT}
        spec.save()

    def assertMovedWithinPool(self, server, source, scenario, pool='doc'):
        """Assert that *server* left *source* for another host of *pool*."""
        host = self.assertInPool(server, pool, scenario)
        self.assertNotEqual(source, host, '%s did not move' % scenario)
        return host

    def assertInPool(self, server, pool, scenario):
        """Assert that *server* is on a host of *pool*; return the host."""
        host = self.landed_on(server, scenario, pool)
        self.assertIn(host, self.pool_hosts[pool],
                      '%s: landed on %s, outside pool %s'
                      % (scenario, host, pool))
        return host

    def landed_on(self, server, scenario, pool='(any)'):
        """The host of *server*, recorded for the issue's note."""
        host = self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']
        if LANDINGS_FILE:
            with open(LANDINGS_FILE, 'a') as f:
                f.write('%s.%s | %s | %s\n' % (
                    type(self).__name__, scenario, pool, host))
        return host

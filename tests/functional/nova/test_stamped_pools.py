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

"""IP pools with nova-api's ip_pool_stamp deployed: the complete setup."""

import logging

import fixtures
from oslo_serialization import jsonutils

from openstack_ext.nova import pools
from tests.functional.nova import base


class StampedPoolsTest(base.PoolTestCase):
    """The guide's mapping plus pool qa with no host, behind a balancer."""

    def test_boots_go_to_the_pool_of_the_client_network(self):
        debug = self.useFixture(fixtures.FakeLogger(
            name='openstack_ext', level=logging.DEBUG))
        for forwarded_for, pool, scenario in [
                ('10.1.2.3', 'doc', 'boot_from_10.1.2.3'),
                ('10.2.0.8', 'ops', 'boot_from_10.2.0.8'),
                ('10.10.0.5', 'dev', 'boot_from_10.10.0.5_is_not_10.1'),
                ('192.0.2.7', 'dev', 'boot_from_unmatched_to_default_pool'),
                ('2001:db8:1::7', 'doc', 'boot_from_ipv6_2001:db8:1::7'),
                # The client wrote 10.1.0.9; the balancer appended 10.2.0.8.
                ('10.1.0.9, 10.2.0.8', 'ops',
                 'boot_with_client_forged_forwarded_for')]:
            self.lure_away_from(pool)
            server = self.boot(self.client_from(forwarded_for))
            self.assertInPool(server, pool, scenario)
        self.assertIn("Client 10.10.0.5 is in IP pool 'dev' (default pool)",
                      debug.output)
        # Placement was asked for the pool's hosts only.
        self.assertIn('require_ip_pool request filter added aggregates %s'
                      % self.pool_aggregate('ops').uuid,
                      debug.output)

    def test_host_filter_holds_without_the_placement_constraint(self):
        # As if the pools' placement aggregates were wrong: the host filter
        # alone still keeps every boot in its pool.
        self.without_placement_constraint()
        debug = self.useFixture(fixtures.FakeLogger(
            name='openstack_ext', level=logging.DEBUG))
        for forwarded_for, pool in [('10.1.2.3', 'doc'), ('10.2.0.8', 'ops'),
                                    ('192.0.2.7', 'dev')]:
            self.lure_away_from(pool)
            server = self.boot(self.client_from(forwarded_for))
            self.assertInPool(server, pool, 'host_filter_only_' + pool)
        self.assertIn("doc-1 is not in IP pool 'ops' (its pool: 'doc')",
                      debug.output)
        self.assertNotIn('require_ip_pool', debug.output)

    def test_multi_create_stays_in_pool(self):
        self.lure_away_from('doc')
        name = 'multi'
        self.client_from('10.1.2.3').post_server({'server': dict(
            self._build_server(name=name, image_uuid=self.image,
                               flavor_id=self.flavor, networks='none'),
            min_count=3, max_count=3)})
        servers = [s for s in self.api.get_servers()
                   if s['name'].startswith(name)]
        self.assertEqual(3, len(servers))
        for index, server in enumerate(servers):
            self._wait_for_state_change(server, 'ACTIVE')
            self.assertInPool(server, 'doc', 'multi_create_%d' % index)

    def test_client_cannot_choose_or_forge_its_pool(self):
        self.lure_away_from('doc')
        doc_server = self.boot(self.client_from('10.1.2.3'))
        self.assertInPool(doc_server, 'doc', 'stamp_source')
        # Microversion 2.100 shows the stamp; copy it into the hint.
        [stamp] = self.api.get_server(
            doc_server['id'])['scheduler_hints'][pools.HINT]
        self.assertEqual(pools.verify_stamp(
            base.SECRET, stamp, self.api_fixture.project_id), 'doc')
        self.lure_away_from('ops')
        ops_client = self.client_from('10.2.0.8')
        for hints, scenario in [
                ({pools.HINT: 'doc'}, 'forged_hint_from_ops_network'),
                ({pools.HINT: stamp}, 'copied_doc_stamp_from_ops_network')]:
            server = self.boot(ops_client, hints=hints)
            self.assertInPool(server, 'ops', scenario)
            self.assertNotIn(stamp, self.api.get_server(
                server['id'])['scheduler_hints'][pools.HINT])
        server = self.boot(ops_client, hints={pools.HINT: stamp},
                           hints_key='OS-SCH-HNT:scheduler_hints')
        self.assertInPool(server, 'ops', 'copied_stamp_in_legacy_hint_key')
        # The legacy v2 pipeline, with the project in the path, stamps too.
        project = self.api_fixture.project_id
        legacy = base.ClientBehindProxy(
            '10.2.0.8', 'fake', '%s/%s' % (
                self.api_fixture.base_url.replace('/v2.1', '/v2'), project),
            project_id=project, roles=['reader', 'member'])
        created = legacy.post_server({
            'server': {'name': 'legacy', 'imageRef': self.image,
                       'flavorRef': self.flavor},
            'os:scheduler_hints': {pools.HINT: stamp}})
        server = self._wait_for_state_change(created, 'ACTIVE')
        self.assertInPool(server, 'ops', 'copied_stamp_through_legacy_v2')

    def test_method_override_cannot_skip_the_stamp(self):
        # routes would turn this PUT into the create, unstamped.
        self.lure_away_from('ops')
        doc_server = self.boot(self.client_from('10.1.2.3'))
        [stamp] = self.api.get_server(
            doc_server['id'])['scheduler_hints'][pools.HINT]
        ops_client = self.client_from('10.2.0.8')
        body = {'server': self._build_server(
                    image_uuid=self.image, flavor_id=self.flavor,
                    networks='none'),
                'os:scheduler_hints': {pools.HINT: stamp}}
        for method in ('PUT', 'POST'):
            response = ops_client.api_request(
                'servers?_method=POST', method=method,
                body=jsonutils.dumps(body),
                headers={'Content-Type': 'application/json'})
            self.assertEqual(400, response.status_code, response.text)
            self.assertIn('_method', response.text)
        self.assertEqual(
            [doc_server['id']],
            [s['id'] for s in self.api.get_servers(detail=False)])

    def test_moves_by_an_admin_elsewhere_stay_in_the_creators_pool(self):
        self.moves_stay_in_pool('10.1.2.3', 'doc')

    def test_refusals_name_the_pool(self):
        # A pool with no host: NoValidHost, and never another pool.
        server = self.boot(self.client_from('10.3.0.4'), 'ERROR')
        self.assertIn("IP pool 'qa' has no compute host",
                      server['fault']['message'])
        self.assertIn("IP pool 'qa' has no compute host. (stamped by "
                      "nova-api", self.stdlog.logger.output)
        self.assertIn('request from 10.3.0.4', self.stdlog.logger.output)
        # An RFC 7239 Forwarded header: http_proxy_to_wsgi would take its
        # first, client-written element as the client address.
        api = self.client_from('10.2.0.8')
        body = {'server': self._build_server(
            image_uuid=self.image, flavor_id=self.flavor, networks='none')}
        created = api.api_post('/servers', body, headers={
            'Forwarded': 'for=10.1.0.9'}).body['server']
        server = self._wait_for_state_change(created, 'ERROR')
        self.assertIn('no IP pool', server['fault']['message'])
        self.assertIn('Forwarded header', self.stdlog.logger.output)
        # Nova itself took the forged 10.1.0.9 (doc) for the address.
        self.assertIn('nova-api stamped its client as in no IP pool '
                      '(request from 10.1.0.9)', self.stdlog.logger.output)

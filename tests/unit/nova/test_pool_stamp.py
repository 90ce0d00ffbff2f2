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

"""The ip_pool_stamp paste filter, in front of a recording application."""

import json
import types

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_middleware import http_proxy_to_wsgi
import testtools
import webob

from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import pool_stamp
from openstack_ext.nova import pools

SECRET = 'unit-test-secret-0123456789'
PROJECT = 'project-a'


class Recorder(object):
    """The rest of nova-api: keeps the request it is given."""

    def __init__(self):
        self.request = None

    @webob.dec.wsgify
    def __call__(self, req):
        self.request = req
        return webob.Response(b'{}', content_type='application/json')


class PoolStampTest(testtools.TestCase):

    def setUp(self):
        super(PoolStampTest, self).setUp()
        pool_conf.register_opts(cfg.CONF)
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.conf.config(group='ip_pools', stamp_secret=SECRET,
                         trusted_proxy_hops=1, default_pool='dev',
                         client_networks=['10.1.0.0/16=doc',
                                          '10.2.0.0/16=ops'])
        self.conf.register_opts(http_proxy_to_wsgi.OPTS,
                                group='oslo_middleware')
        self.conf.config(group='oslo_middleware',
                         enable_proxy_headers_parsing=True)
        self.app = Recorder()

    def filter(self, **local_conf):
        return pool_stamp.filter_factory({}, **local_conf)(self.app)

    def post(self, body, path='/servers', remote='10.1.0.5', method='POST',
             context=True, headers=None):
        req = webob.Request.blank(path, method=method, headers=headers)
        req.body = body if isinstance(body, bytes) else json.dumps(
            body).encode('utf-8')
        if context:
            req.environ['nova.context'] = types.SimpleNamespace(
                project_id=PROJECT, remote_address=remote)
        response = req.get_response(self.filter())
        return response, self.app.request

    def stamped_pool(self, body, key='os:scheduler_hints'):
        stamp = json.loads(body)[key][pools.HINT]
        return pools.verify_stamp(SECRET, stamp, PROJECT)

    def test_stamps_the_client_pool_and_drops_client_hints(self):
        body = {'server': {'name': 'x'},
                'os:scheduler_hints': {pools.HINT: 'ops', 'group': 'g'},
                'OS-SCH-HNT:scheduler_hints': {pools.HINT: 'ops'}}
        _, seen = self.post(body, remote='10.2.0.5, 10.1.0.5')
        self.assertEqual('doc', self.stamped_pool(seen.body))
        hints = json.loads(seen.body)
        self.assertEqual('g', hints['os:scheduler_hints']['group'])
        self.assertEqual({}, hints['OS-SCH-HNT:scheduler_hints'])
        self.assertEqual(len(seen.body), seen.content_length)

    def test_stamp_goes_where_nova_reads_hints(self):
        _, seen = self.post({'server': {}})
        self.assertEqual('doc', self.stamped_pool(seen.body))
        _, seen = self.post({'server': {},
                             'OS-SCH-HNT:scheduler_hints': {'a': 'b'}})
        self.assertEqual('doc', self.stamped_pool(
            seen.body, 'OS-SCH-HNT:scheduler_hints'))
        self.assertNotIn('os:scheduler_hints', json.loads(seen.body))

    def test_create_paths(self):
        for path in ('/servers', '/servers/', '/%s/servers' % PROJECT,
                     '/os-volumes_boot', '/%s/os-volumes_boot' % PROJECT):
            _, seen = self.post({'server': {}}, path=path, remote='10.2.0.1')
            self.assertEqual('ops', self.stamped_pool(seen.body), path)

    def test_other_requests_pass_unchanged(self):
        body = {'server': {}, 'os:scheduler_hints': {pools.HINT: 'ops'}}
        raw = json.dumps(body).encode('utf-8')
        for kwargs in [dict(path='/servers/1/action'),
                       dict(path='/servers/detail'),
                       dict(path='/a/b/servers'),
                       dict(method='PUT', path='/servers/1')]:
            _, seen = self.post(body, **kwargs)
            self.assertEqual(raw, seen.body, kwargs)
        for unparsed in [b'{"server": ', b'[1]', b'{"servers": {}}',
                         b'{"server": {}, "os:scheduler_hints": "x"}',
                         b'\xff\xfe']:
            _, seen = self.post(unparsed)
            self.assertEqual(unparsed, seen.body)

    def test_unmatched_clients_are_stamped_to_be_refused(self):
        self.conf.config(group='ip_pools', default_pool=None)
        for remote in ('192.0.2.1', '10.1.0.5, 10.2.0.5, junk', None):
            _, seen = self.post({'server': {}}, remote=remote)
            self.assertEqual(pools.NO_POOL, self.stamped_pool(seen.body))

    def test_forwarded_header_is_refused(self):
        _, seen = self.post({'server': {}},
                            headers={'Forwarded': 'for=10.1.0.9'})
        self.assertEqual(pools.NO_POOL, self.stamped_pool(seen.body))

    def test_needs_nova_context(self):
        response, seen = self.post({'server': {}}, context=False)
        self.assertEqual(500, response.status_int)
        self.assertIsNone(seen)

    def test_refuses_to_load(self):
        self.assertRaises(ValueError, self.filter, stamp_secret='x' * 20)
        self.conf.config(group='ip_pools', trusted_proxy_hops=0)
        error = self.assertRaises(pools.PoolConfigError, self.filter)
        self.assertIn('[ip_pools] trusted_proxy_hops', str(error))
        self.conf.config(group='oslo_middleware',
                         enable_proxy_headers_parsing=False)
        self.filter()
        self.conf.config(group='ip_pools', stamp_secret=None)
        error = self.assertRaises(pools.PoolConfigError, self.filter)
        self.assertIn('[ip_pools] stamp_secret', str(error))

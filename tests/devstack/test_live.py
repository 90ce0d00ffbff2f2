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

"""Smoke tests of a real DevStack stacked with the plugin.

They run where the plugin has configured Swift (``[filter:ip_whitelist]``
in /etc/swift/proxy-server.conf), i.e. in the openstack-ext-functional Zuul
job, and are skipped anywhere else. Settings, all optional:

- OPENSTACK_EXT_LIVE_SWIFT_URL: the Swift endpoint; by default
  http(s)://127.0.0.1:8080, https when tls-proxy moved swift-proxy to 8081;
- OPENSTACK_EXT_LIVE_SWIFT_USER / _KEY: a tempauth user that owns its
  account (DevStack's swiftprojecttest1:swiftusertest1 / testing);
- OPENSTACK_EXT_LIVE_CAFILE: CA bundle for tls-proxy (DevStack's own);
- OPENSTACK_EXT_LIVE_SWIFT_CONF, OPENSTACK_EXT_LIVE_NOVA_CONF_DIR.
"""

import http.client
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

import testtools

from tests.devstack import harness

ENV = os.environ.get
SWIFT_CONF = ENV('OPENSTACK_EXT_LIVE_SWIFT_CONF',
                 '/etc/swift/proxy-server.conf')
NOVA_CONF_DIR = ENV('OPENSTACK_EXT_LIVE_NOVA_CONF_DIR', '/etc/nova')
USER = ENV('OPENSTACK_EXT_LIVE_SWIFT_USER', 'swiftprojecttest1:swiftusertest1')
KEY = ENV('OPENSTACK_EXT_LIVE_SWIFT_KEY', 'testing')
CAFILE = ENV('OPENSTACK_EXT_LIVE_CAFILE', '/opt/stack/data/ca-bundle.pem')
# Not this host's address (always allowed), and on loopback, so that this
# host can be it: a client the rules decide about.
OUTSIDER = '127.0.0.2'


def _plugin_configured():
    try:
        with open(SWIFT_CONF) as f:
            return '[filter:ip_whitelist]' in f.read()
    except OSError:
        return False


@testtools.skipUnless(_plugin_configured(),
                      'not a DevStack host stacked with openstack-ext')
class LiveSwiftTest(testtools.TestCase):

    def setUp(self):
        super(LiveSwiftTest, self).setUp()
        self.conf = harness.read_ini(SWIFT_CONF)
        tls = self.conf['DEFAULT'].get('bind_port') == ['8081']
        self.url = urllib.parse.urlsplit(ENV(
            'OPENSTACK_EXT_LIVE_SWIFT_URL',
            '%s://127.0.0.1:8080' % ('https' if tls else 'http')))
        self.deny_message = self.conf['filter:ip_whitelist'].get(
            'deny_message', ['IP Denied'])[0]

    def request(self, method, path, headers=None, body=None, source=None):
        kwargs = {'timeout': 30}
        if source:
            kwargs['source_address'] = (source, 0)
        if self.url.scheme == 'https':
            context = ssl.create_default_context(
                cafile=CAFILE if os.path.exists(CAFILE) else None)
            # The certificate names the service host, not 127.0.0.1.
            context.check_hostname = False
            if not os.path.exists(CAFILE):
                context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(
                self.url.hostname, self.url.port, context=context, **kwargs)
        else:
            conn = http.client.HTTPConnection(
                self.url.hostname, self.url.port, **kwargs)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.msg, resp.read()
        finally:
            conn.close()

    def test_info_answers_and_lists_the_whitelist(self):
        # What stack.sh waits for; the filter must not get in its way.
        status, _headers, body = self.request('GET', '/info')
        self.assertEqual(200, status, body)
        self.assertIn(b'"ip_whitelist"', body)

    def test_live_pipeline_passes_the_package_check(self):
        # What the plugin wrote on this host, checked by the same rules the
        # proxy applied at start: no error, no warning.
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'openstack-ext'),
             'check-proxy-pipeline', SWIFT_CONF], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stdout)
        self.assertNotIn('WARNING', result.stdout)

    def test_allow_rule_end_to_end(self):
        status, headers, body = self.request('GET', '/auth/v1.0', {
            'X-Auth-User': USER, 'X-Auth-Key': KEY})
        self.assertEqual(200, status, body)
        token = {'X-Auth-Token': headers['X-Auth-Token']}
        # tempauth builds the URL from what it was sent (http behind the
        # TLS proxy): keep the path only.
        account = urllib.parse.urlsplit(headers['X-Storage-Url']).path
        container = '%s/openstack-ext-live-%s' % (account, uuid.uuid4().hex)
        obj = container + '/object'

        self.assertIn(self.request('PUT', container, token)[0], (201, 202))
        self.addCleanup(self.request, 'DELETE', container, token)
        self.assertEqual(201, self.request('PUT', obj, token, b'data')[0])
        self.addCleanup(self.request, 'DELETE', obj, token)

        # No rule: open, as before the plugin.
        self.assertEqual(200, self.request('GET', obj, token,
                                           source=OUTSIDER)[0])
        # swift post --meta allow-live:192.0.2.123 <container>
        self.assertEqual(204, self.request('POST', container, dict(
            token, **{'X-Container-Meta-Allow-Live': '192.0.2.123'}))[0])
        status, _headers, body = self.request('GET', obj, token,
                                              source=OUTSIDER)
        self.assertEqual((403, self.deny_message.encode()), (status, body))
        # DevStack's own addresses are always allowed.
        self.assertEqual(200, self.request('GET', obj, token)[0])
        # swift post --meta allow-live:127.0.0.2 <container>
        self.assertEqual(204, self.request('POST', container, dict(
            token, **{'X-Container-Meta-Allow-Live': OUTSIDER}))[0])
        self.assertEqual(200, self.request('GET', obj, token,
                                           source=OUTSIDER)[0])


@testtools.skipUnless(_plugin_configured(),
                      'not a DevStack host stacked with openstack-ext')
class LiveNovaTest(testtools.TestCase):
    """The live nova.conf and api-paste.ini load in the real Nova."""

    def setUp(self):
        super(LiveNovaTest, self).setUp()
        nova_conf = os.path.join(NOVA_CONF_DIR, 'nova.conf')
        if 'ip_pools' not in harness.read_ini(nova_conf):
            self.skipTest('Nova is not configured by openstack-ext here')
        self.workdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.nova_conf = nova_conf

    def test_scheduler_loads_the_filter(self):
        result = harness.probe(self.workdir, 'nova-scheduler', self.nova_conf)
        self.assertIn('openstack_ext.nova.pool_filter.ClientNetworkPoolFilter',
                      result['enabled'])

    def test_api_pipelines_stamp(self):
        paste = os.path.join(NOVA_CONF_DIR, 'api-paste.ini')
        result = harness.probe(self.workdir, 'nova-api', self.nova_conf,
                               paste)
        for chain in result.values():
            self.assertIn('openstack_ext.nova.pool_stamp.PoolStampMiddleware',
                          chain)

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

"""The pipelines of etc/deploy/ run in a real swift-proxy-server.

OpenStack-Ansible's os_swift and openstack-helm's swift chart cannot run
here (Ansible roles from git, a helm binary): what they render is built by
openstack_ext.cmd.pipeline_forms, the proxy-server.conf the tools' own
templates write, with the cluster's addresses. The proxy loads it with
Swift's loadapp, and ip_whitelist's own start check then judges the whole
pipeline as loaded: a bypass would stop the proxy, as the control shows.
keystonemiddleware's authtoken and ceilometermiddleware's notifier (to
oslo.messaging's fake transport) are loaded for real.
"""

import configparser
import os
import shutil

import fixtures
import testtools
import yaml

from openstack_ext.cmd import pipeline_forms
from tests.functional.swift import cluster as c

DEPLOY = os.path.join(c.REPO, 'etc', 'deploy')
OSA_FILE = os.path.join(DEPLOY, 'openstack-ansible',
                        'user_variables_openstack_ext.yml')
HELM_FILE = os.path.join(DEPLOY, 'openstack-helm', 'swift.yaml')
# What the tools' templates add that a test cluster must set otherwise.
# Both tools set www_authenticate_uri (only named in a 401's
# WWW-Authenticate here: nothing listens there).
LOCAL = {'filter:ceilometer': {'url': 'fake://', 'driver': 'messagingv2',
                               'topic': 'notifications'},
         'filter:authtoken': {'www_authenticate_uri':
                              'http://127.0.0.1:5000/v3'}}


class ToolCluster(c.SwiftCluster):
    """A cluster whose proxy runs the proxy-server.conf of a tool's file."""

    def __init__(self, path, move_before=None, **kwargs):
        """:param move_before: put ip_whitelist before this one instead."""
        super(ToolCluster, self).__init__({'main': c.ProxySpec()}, **kwargs)
        self.tool = pipeline_forms.read(path)
        if move_before:
            items = [n for n in self.tool.items if n != 'ip_whitelist']
            items.insert(items.index(move_before), 'ip_whitelist')
            self.tool = self.tool._replace(items=items)

    def proxy_conf(self, name, spec):
        parser = configparser.RawConfigParser(strict=False)
        parser.read_string(pipeline_forms.proxy_conf_text(self.tool))
        sections = [('DEFAULT', self._default_section(name, spec.bind_ip,
                                                      spec.log_level))]
        for section in parser.sections():
            options = dict(parser[section])
            options.update(LOCAL.get(section, {}))
            if section == 'filter:cache':
                options['memcache_servers'] = (
                    '127.0.0.1:%d' % self.ports['memcached'])
            sections.append((section, options))
        return c._ini(sections)


class DeployedPipelineTest(testtools.TestCase):

    def setUp(self):
        super(DeployedPipelineTest, self).setUp()
        if not shutil.which('memcached'):
            raise RuntimeError('memcached is needed: apt-get install '
                               'memcached (tools/bootstrap.sh does it)')

    def assertRuns(self, path):
        cluster = self.useFixture(ToolCluster(path))
        self.assertIn('authtoken', cluster.tool.items)
        status, _headers, body = cluster.request('GET', '/healthcheck')[:3]
        self.assertEqual((200, b'OK'), (status, body))
        # keystoneauth answers an anonymous request: the chain is whole.
        status = cluster.request('GET', '/v1/AUTH_x/c')[0]
        self.assertEqual(401, status)
        text = cluster.log_text('main')
        self.assertNotIn('Traceback', text)
        return cluster

    def test_openstack_ansible_pipeline_runs(self):
        self.assertIn('ceilometer', pipeline_forms.read(OSA_FILE).items)
        self.assertRuns(OSA_FILE)

    def test_helm_pipeline_runs(self):
        self.assertRuns(HELM_FILE)

    def test_control_a_bypass_stops_the_proxy(self):
        cluster = ToolCluster(HELM_FILE, move_before='authtoken',
                              start_timeout=15)
        # The proxy's exit fails the start, whose error fixtures may wrap.
        try:
            cluster.setUp()
        except (RuntimeError, fixtures.SetupError,
                fixtures.MultipleExceptions) as error:
            self.assertIn('keystoneauth must come before ip_whitelist',
                          str(error))
        else:
            cluster.cleanUp()
            self.fail('the proxy started with ip_whitelist before auth')

    def test_shipped_files_are_yaml_with_one_section_of_ours(self):
        for path in (OSA_FILE, HELM_FILE):
            with open(path) as f:
                self.assertIsInstance(yaml.safe_load(f), dict)
            self.assertEqual(
                {'use': 'egg:openstack_ext#ip_whitelist'},
                pipeline_forms.read(path).sections['filter:ip_whitelist'])

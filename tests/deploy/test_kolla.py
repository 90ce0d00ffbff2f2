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

"""etc/deploy/kolla-ansible, through Kolla's and Kolla-Ansible's code.

kolla-build (--template-only: no container engine) renders the nova
images with the shipped plugin section; Kolla-Ansible's merge_configs
action plugin merges the shipped overrides onto a stock nova.conf, as its
nova role does, and nova-scheduler's filter loading reads the result.
"""

import os
import re
import subprocess

from openstack_ext import addresses
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.deploy import base

KOLLA = os.path.join(base.DEPLOY, 'kolla-ansible')
# What a stock nova.conf may already say about what we set: Kolla-Ansible's
# template writes enabled_filters when enable_nova_fake is on (a later
# file replaces it) and always enable_proxy_headers_parsing.
STOCK_NOVA_CONF = """\
[DEFAULT]
debug = False

[filter_scheduler]
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter

[oslo_middleware]
enable_proxy_headers_parsing = true
"""
# Where the package's data files land in Kolla's images (their venv).
KOLLA_PREFIX = '/var/lib/kolla/venv'


class KollaBuildTest(base.ToolTestCase):

    def test_template_only_installs_the_plugin_into_nova_api_and_scheduler(
            self):
        venv = base.tool_venv(self, 'kolla')
        work = os.path.join(self.workdir, 'work')
        result = subprocess.run(
            [os.path.join(venv, 'bin', 'kolla-build'), '--template-only',
             '--work-dir', work, '--config-file',
             os.path.join(KOLLA, 'kolla-build.conf'),
             '^nova-(base|api|scheduler)$'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=300, cwd=self.workdir)
        self.assertEqual(0, result.returncode, result.stdout)

        def dockerfile(image):
            with open(os.path.join(work, 'docker', 'nova', image,
                                   'Dockerfile')) as f:
                return f.read()

        base_file = dockerfile('nova-base')
        # nova-base unpacks the plugins and pip-installs each of them...
        self.assertIn('ADD plugins-archive /', base_file)
        self.assertRegex(base_file, r'pip --no-cache-dir install --upgrade '
                         r'-c /requirements/upper-constraints.txt /plugins/\*')
        for image in ('nova-api', 'nova-scheduler'):
            # ...and both images are built on it.
            self.assertRegex(dockerfile(image),
                             r'^FROM \S+/nova-base:\S+\n')
        # pip is the venv's (Kolla's PATH), where data files go too.
        with open(os.path.join(work, 'docker', 'openstack-base',
                               'Dockerfile')) as f:
            self.assertIn('ENV PATH %s/bin:$PATH' % KOLLA_PREFIX, f.read())

        # Kolla's own reading of the configuration: our section is a
        # plugin of nova-base, of the type and location shipped.
        probe = subprocess.run(
            [os.path.join(venv, 'bin', 'python'), '-c', PLUGINS_OF_NOVA_BASE,
             os.path.join(KOLLA, 'kolla-build.conf'),
             os.path.join(self.workdir, 'probe')],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=300, cwd=self.workdir)
        self.assertEqual(0, probe.returncode, probe.stdout)
        self.assertIn("PLUGIN nova-base-plugin-openstack-ext local "
                      "/opt/kolla-plugins/openstack-ext.tar.gz enabled=True",
                      probe.stdout)


# kolla-build's own steps up to its image list, then nova-base's plugins.
PLUGINS_OF_NOVA_BASE = """
import sys
from kolla.common import config as common_config
from kolla.image import kolla_worker
from oslo_config import cfg
conf = cfg.ConfigOpts()
common_config.parse(conf, ['--config-file', sys.argv[1], '--template-only',
                           '--work-dir', sys.argv[2], '^nova-base$'],
                    prog='kolla-build')
worker = kolla_worker.KollaWorker(conf)
worker.setup_working_dir()
worker.find_dockerfiles()
worker.create_dockerfiles()
worker.build_image_list()
[image] = [i for i in worker.images if i.name == 'nova-base']
for plugin in image.plugins:
    print('PLUGIN', plugin['name'], plugin['type'], plugin['source'],
          'enabled=%s' % plugin['enabled'])
"""


class MergeConfigsTest(base.ToolTestCase):
    """Kolla-Ansible's nova role's merge, for three nova services."""

    def merge(self, custom):
        venv = base.tool_venv(self, 'kolla')
        stock = base.write(os.path.join(self.workdir, 'nova.conf.stock'),
                           STOCK_NOVA_CONF)
        out = os.path.join(self.workdir, 'out')
        services = ['nova-api', 'nova-scheduler', 'nova-compute']
        for service in services:
            os.makedirs(os.path.join(out, service))
        # As ansible/roles/nova/tasks/config.yml lists the sources.
        base.run_playbook(self, venv, [{
            'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'merge_configs': {
                'sources': [stock,
                            os.path.join(custom, 'global.conf'),
                            os.path.join(custom, 'nova.conf'),
                            os.path.join(custom, 'nova', '{{ item }}.conf'),
                            os.path.join(custom, 'nova',
                                         '{{ inventory_hostname }}',
                                         'nova.conf')],
                'dest': os.path.join(out, '{{ item }}', 'nova.conf')},
                'loop': services}]}], self.workdir,
            os.path.join(venv, 'share', 'kolla-ansible', 'ansible',
                         'action_plugins'))
        return {s: os.path.join(out, s, 'nova.conf') for s in services}

    def custom_with_secret(self):
        """The shipped /etc/kolla/config, its placeholder replaced."""
        custom = os.path.join(self.workdir, 'config')
        for folder, _dirs, files in os.walk(os.path.join(KOLLA, 'config')):
            for name in files:
                source = os.path.join(folder, name)
                with open(source) as f:
                    text = f.read().replace('stamp_secret = CHANGE-ME',
                                            'stamp_secret = ' + base.SECRET)
                base.write(os.path.join(custom, os.path.relpath(
                    source, os.path.join(KOLLA, 'config'))), text)
        return custom

    def test_scheduler_loads_the_pool_filter(self):
        merged = self.merge(self.custom_with_secret())
        conf, enabled = base.nova_conf(merged['nova-scheduler'])
        self.assertEqual(['nova.scheduler.filters.all_filters',
                          'openstack_ext.nova.pool_filter.'
                          'ClientNetworkPoolFilter'],
                         conf.filter_scheduler.available_filters)
        self.assertIs(pool_filter.ClientNetworkPoolFilter, enabled[-1])
        # The stock enabled_filters was replaced, Nova's defaults kept.
        self.assertEqual(['ComputeFilter', 'ComputeCapabilitiesFilter',
                          'ImagePropertiesFilter',
                          'ServerGroupAntiAffinityFilter',
                          'ServerGroupAffinityFilter',
                          'ClientNetworkPoolFilter'],
                         [cls.__name__ for cls in enabled])
        settings = pools.load_settings(conf, require_secret=True)
        self.assertEqual((base.SECRET,), settings.stamp_secrets)
        self.assertEqual('doc', settings.pool_map.pool_for(
            addresses.parse_address('10.1.2.3')).pool)

    def test_api_gets_the_paste_file_and_the_secret_computes_do_not(self):
        merged = self.merge(self.custom_with_secret())
        api = base.sections(merged['nova-api'])
        self.assertEqual(
            KOLLA_PREFIX + '/share/openstack-ext/etc/deploy/kolla-ansible/'
            'api-paste.ini', api['wsgi']['api_paste_config'])
        self.assertEqual(base.SECRET, api['ip_pools']['stamp_secret'])
        self.assertEqual('true',
                         api['oslo_middleware'][
                             'enable_proxy_headers_parsing'])
        compute = base.sections(merged['nova-compute'])
        self.assertIn('client_networks', compute['ip_pools'])
        self.assertNotIn('stamp_secret', compute['ip_pools'])

    def test_placeholder_secret_stops_the_services(self):
        merged = self.merge(os.path.join(KOLLA, 'config'))
        conf, _enabled = base.nova_conf(merged['nova-scheduler'])
        error = self.assertRaises(pools.PoolConfigError, pools.load_settings,
                                  conf, require_secret=True)
        self.assertIn('stamp_secret', str(error))
        self.assertTrue(re.search(r'shorter than \d+ characters', str(error)))

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

"""etc/deploy/openstack-ansible's Nova half, through config_template.

OpenStack-Ansible's roles come from git, not a registry, so os_nova itself
does not run here; the action plugin that writes its nova.conf and
api-paste.ini does (config_template, from PyPI). It renders the shipped
user_variables onto os_nova's enabled_filters line (templates/nova.conf.j2
at e06c7bc) and onto Nova's own api-paste.ini, as the role does; Nova's
filter loading reads the one, and the other must equal the api-paste.ini
that tests/functional/nova runs in a real nova-api.
"""

import os

from openstack_ext.cmd import api_paste
from openstack_ext.nova import pool_filter
from openstack_ext.nova import pools
from tests.deploy import base

OSA = os.path.join(base.DEPLOY, 'openstack-ansible')
# os_nova's lines for the options we set (the rest of its template needs
# the whole inventory); nova_scheduler_default_filters: its default.
NOVA_CONF_J2 = """\
[DEFAULT]
debug = False

[filter_scheduler]
enabled_filters = {{ (nova_scheduler_default_filters + \
nova_scheduler_extra_filters) | join(',') }}
"""
OS_NOVA_DEFAULT_FILTERS = [
    'ComputeFilter', 'AggregateNumInstancesFilter', 'AggregateIoOpsFilter',
    'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
    'NUMATopologyFilter']


class ConfigTemplateTest(base.ToolTestCase):

    def render(self):
        venv = base.tool_venv(self, 'osa')
        template = base.write(os.path.join(self.workdir, 'nova.conf.j2'),
                              NOVA_CONF_J2)
        nova_paste, _version = api_paste.installed_nova_api_paste()
        out = os.path.join(self.workdir, 'out')
        os.makedirs(out)
        plugins = os.path.join(venv, 'share', 'ansible', 'plugins')
        base.run_playbook(self, venv, [{
            'hosts': 'localhost', 'gather_facts': False,
            'vars_files': [
                os.path.join(OSA, 'user_variables_openstack_ext.yml'),
                os.path.join(OSA,
                             'user_variables_openstack_ext_api_paste.yml')],
            'vars': {'openstack_ext_stamp_secret': base.SECRET,
                     'nova_scheduler_default_filters':
                         OS_NOVA_DEFAULT_FILTERS},
            'tasks': [
                {'config_template': {
                    'src': template, 'dest': os.path.join(out, 'nova.conf'),
                    'config_overrides': '{{ nova_nova_conf_overrides }}',
                    'config_type': 'ini'}},
                {'config_template': {
                    'src': nova_paste,
                    'dest': os.path.join(out, 'api-paste.ini'),
                    'config_overrides': '{{ nova_api_paste_ini_overrides }}',
                    'config_type': 'ini'}}]}],
            self.workdir, os.path.join(plugins, 'action'),
            os.path.join(plugins, 'modules'))
        return out

    def test_nova_conf_loads_the_pool_filter(self):
        out = self.render()
        path = os.path.join(out, 'nova.conf')
        with open(path) as f:
            text = f.read()
        # The YAML set is written as a repeated key.
        self.assertIn('available_filters = nova.scheduler.filters.'
                      'all_filters\navailable_filters = openstack_ext.nova.'
                      'pool_filter.ClientNetworkPoolFilter\n', text)
        conf, enabled = base.nova_conf(path)
        self.assertEqual(OS_NOVA_DEFAULT_FILTERS + ['ClientNetworkPoolFilter'],
                         [cls.__name__ for cls in enabled])
        self.assertIs(pool_filter.ClientNetworkPoolFilter, enabled[-1])
        settings = pools.load_settings(conf, require_secret=True)
        self.assertEqual((base.SECRET,), settings.stamp_secrets)
        self.assertEqual(['10.1.0.0/16=doc', '10.2.0.0/16=ops'],
                         conf.ip_pools.client_networks)
        self.assertEqual(1, conf.ip_pools.trusted_proxy_hops)
        self.assertEqual('true', base.sections(path)['oslo_middleware'][
            'enable_proxy_headers_parsing'].lower())

    def test_api_paste_is_the_one_nova_api_runs(self):
        out = self.render()
        rendered = base.sections(os.path.join(out, 'api-paste.ini'))
        ours = base.sections(os.path.join(base.DEPLOY, 'kolla-ansible',
                                          'api-paste.ini'))
        self.assertEqual(ours, rendered)

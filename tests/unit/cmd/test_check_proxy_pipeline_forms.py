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

"""check-proxy-pipeline on OpenStack-Ansible's and openstack-helm's files.

The default pipelines are the tools' own (os_swift defaults/main.yml at
ce8f5ce, the swift chart's values at openstack-helm 0ee5ade): both put
bulk before auth and have no ip_whitelist. The shipped files of
etc/deploy/ pass; tests/functional/swift/test_deploy_pipelines.py loads
them into a running proxy.
"""

import os

import yaml

from openstack_ext.cmd import pipeline_forms
from tests.unit.cmd import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DEPLOY = os.path.join(TOP, 'etc', 'deploy')
CEILOMETER = '{% if swift_ceilometer_enabled | bool %}ceilometer{% endif %}'
OSA_DEFAULT = [
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', CEILOMETER,
    'cache', 'container_sync', 'bulk', 'tempurl', 'ratelimit', 'authtoken',
    'keystoneauth', 'staticweb', 'copy', 'container-quotas',
    'account-quotas', 'slo', 'dlo', 'versioned_writes', 'proxy-logging',
    'proxy-server']
OSA_FIXED = [
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', CEILOMETER,
    'cache', 'container_sync', 'tempurl', 'ratelimit', 'authtoken',
    'keystoneauth', 'ip_whitelist', 'bulk', 'staticweb', 'copy',
    'container-quotas', 'account-quotas', 'slo', 'dlo', 'versioned_writes',
    'proxy-logging', 'proxy-server']
HELM_DEFAULT = (
    'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats '
    'container_sync bulk ratelimit authtoken keystoneauth copy '
    'container-quotas account-quotas slo dlo versioned_writes symlink '
    'proxy-logging proxy-server')
HELM_FIXED = (
    'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats '
    'container_sync ratelimit authtoken keystoneauth ip_whitelist bulk copy '
    'container-quotas account-quotas slo dlo versioned_writes symlink '
    'proxy-logging proxy-server')
OUR_SECTION = {'filter:ip_whitelist': {
    'use': 'egg:openstack_ext#ip_whitelist'}}


def helm_values(pipeline, sections=None):
    proxy = {'pipeline:main': {'pipeline': pipeline}}
    proxy.update(sections or {})
    return {'conf': {'proxy_server': proxy}}


class ToolFormsTest(base.CommandTestCase):

    def yaml_file(self, data, name='user_variables.yml'):
        return self.write(name, yaml.safe_dump(data))

    def check(self, data, *argv):
        return self.run_cli('check-proxy-pipeline', *(
            argv + (self.yaml_file(data),)))

    def fixed(self, data):
        status, output = self.check(data, '--print-fixed-pipeline')
        self.assertEqual(0, status, output)
        return yaml.safe_load(output)

    def test_osa_default_list_is_fixed_in_its_own_form(self):
        data = {'swift_middleware_list': OSA_DEFAULT}
        output = self.assertProblems(
            self.check(data), 'OpenStack-Ansible swift_middleware_list',
            '%s is checked as ceilometer' % CEILOMETER,
            'ERROR: ip_whitelist is not in the pipeline')
        self.assertIn('Fix: in %s, use\n    swift_middleware_list:\n'
                      % os.path.join(self.dir, 'user_variables.yml'), output)
        fixed = self.fixed(data)
        self.assertEqual({'swift_middleware_list': OSA_FIXED,
                          'swift_proxy_server_conf_overrides': OUR_SECTION},
                         fixed)
        # What it prints passes the check itself.
        self.assertOk(self.check(fixed))

    def test_osa_list_alone(self):
        path = self.write('list.yaml', yaml.safe_dump(OSA_DEFAULT))
        status, output = self.run_cli('check-proxy-pipeline',
                                      '--print-fixed-pipeline', path)
        self.assertEqual(0, status, output)
        self.assertEqual(OSA_FIXED, yaml.safe_load(output)[
            'swift_middleware_list'])

    def test_osa_empty_items_drop_out(self):
        data = {'swift_middleware_list': OSA_FIXED[:4] + [''] + OSA_FIXED[4:],
                'swift_proxy_server_conf_overrides': OUR_SECTION}
        self.assertOk(self.check(data))

    def test_osa_ip_whitelist_before_auth(self):
        names = [n for n in OSA_FIXED if n != 'ip_whitelist']
        names.insert(names.index('authtoken'), 'ip_whitelist')
        output = self.assertProblems(
            self.check({'swift_middleware_list': names,
                        'swift_proxy_server_conf_overrides': OUR_SECTION}),
            'ERROR: keystoneauth must come before ip_whitelist')
        self.assertIn('    - ip_whitelist\n    - bulk\n', output)
        self.assertNotIn('swift_proxy_server_conf_overrides', output)

    def test_osa_ip_whitelist_listed_without_its_section(self):
        self.assertProblems(
            self.check({'swift_middleware_list': OSA_FIXED}),
            'lists ip_whitelist, but neither the file nor the tool defines '
            'its [filter:ip_whitelist] section: add it with '
            'swift_proxy_server_conf_overrides: {filter:ip_whitelist: {use: '
            'egg:openstack_ext#ip_whitelist}}', 'FAILED: 1 error')

    def test_osa_options_of_the_filter_are_checked(self):
        sections = {'filter:ip_whitelist': dict(
            OUR_SECTION['filter:ip_whitelist'], max_rules=-3)}
        self.assertProblems(
            self.check({'swift_middleware_list': OSA_FIXED,
                        'swift_proxy_server_conf_overrides': sections}),
            'invalid max_rules value')

    def test_helm_default_pipeline_is_fixed_in_its_own_form(self):
        output = self.assertProblems(
            self.check(helm_values(HELM_DEFAULT), ),
            'openstack-helm conf.proxy_server',
            'ERROR: ip_whitelist is not in the pipeline')
        self.assertIn('    conf:\n      proxy_server:\n', output)
        fixed = self.fixed(helm_values(HELM_DEFAULT))
        self.assertEqual(helm_values(HELM_FIXED, OUR_SECTION), fixed)
        self.assertOk(self.check(fixed))

    def test_helm_section_of_the_file_wins(self):
        sections = dict(OUR_SECTION, **{
            'filter:cache': {'use': 'egg:swift#tempauth'}})
        self.assertProblems(
            self.check(helm_values(HELM_FIXED, sections)),
            'cache (egg:swift#memcache) should come before ip_whitelist')

    def test_shipped_files_pass(self):
        for path in [os.path.join(DEPLOY, 'openstack-ansible',
                                  'user_variables_openstack_ext.yml'),
                     os.path.join(DEPLOY, 'openstack-helm', 'swift.yaml')]:
            output = self.assertOk(self.run_cli('check-proxy-pipeline',
                                                path))
            self.assertIn('[filter:ip_whitelist], position', output)

    def test_shipped_files_are_the_fixed_default_pipelines(self):
        with open(os.path.join(DEPLOY, 'openstack-ansible',
                               'user_variables_openstack_ext.yml')) as f:
            self.assertEqual(OSA_FIXED,
                             yaml.safe_load(f)['swift_middleware_list'])
        with open(os.path.join(DEPLOY, 'openstack-helm', 'swift.yaml')) as f:
            self.assertEqual(HELM_FIXED, yaml.safe_load(f)['conf'][
                'proxy_server']['pipeline:main']['pipeline'])

    def assertBadInput(self, text, expected, name='values.yaml'):
        status, output = self.run_cli('check-proxy-pipeline',
                                      self.write(name, text))
        self.assertEqual(1, status, output)
        self.assertIn('ERROR: ', output)
        self.assertIn(expected, self.flat(output))
        self.assertNotIn('Traceback', output)
        # --print-fixed-pipeline says so too.
        status, output = self.run_cli('check-proxy-pipeline',
                                      '--print-fixed-pipeline',
                                      os.path.join(self.dir, name))
        self.assertEqual(1, status, output)
        self.assertIn(expected, self.flat(output))

    def test_not_yaml(self):
        self.assertBadInput('swift_middleware_list: [a,\n', 'is not YAML')

    def test_neither_tool(self):
        self.assertBadInput(
            'nova_nova_conf_overrides: {}\n',
            'has neither an OpenStack-Ansible swift_middleware_list nor an '
            'openstack-helm conf.proxy_server')
        self.assertBadInput('42\n', 'has neither')

    def test_helm_values_without_the_pipeline(self):
        self.assertBadInput(
            yaml.safe_dump({'conf': {'proxy_server': OUR_SECTION}}),
            'sets no conf.proxy_server["pipeline:main"].pipeline: give the '
            'values file that sets the pipeline')

    def test_osa_items_that_cannot_be_read(self):
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': 'cache bulk'}),
            'swift_middleware_list must be a list of middleware names')
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': ['cache', 3]}),
            'swift_middleware_list: 3 is not a middleware name')
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': [
                'cache', '{{ my_filter }}', 'proxy-server']}),
            "cannot read the item '{{ my_filter }}'")

    def test_osa_overrides_not_sections(self):
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': OSA_FIXED,
                            'swift_proxy_server_conf_overrides': ['x']}),
            'swift_proxy_server_conf_overrides must map section names to '
            'their options')

    def test_unknown_middleware(self):
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': ['cache', 'nosuch',
                                                      'proxy-server']}),
            'lists nosuch, but neither the file nor the tool defines its '
            '[filter:nosuch] section')

    def test_pipeline_not_ending_in_the_proxy(self):
        self.assertBadInput(
            yaml.safe_dump({'swift_middleware_list': ['cache',
                                                      'proxy-logging']}),
            'the pipeline ends in proxy-logging, not in the proxy app '
            '(proxy-server)')

    def test_loader_errors_name_the_tools_file(self):
        data = {'swift_middleware_list': OSA_FIXED,
                'swift_proxy_server_conf_overrides': {
                    'filter:ip_whitelist': {'use': 'nosuch'}}}
        status, output = self.check(data)
        self.assertEqual(1, status, output)
        self.assertIn('the proxy cannot load this pipeline', output)
        self.assertIn('the proxy-server.conf made from %s' % os.path.join(
            self.dir, 'user_variables.yml'), self.flat(output))

    def test_empty_file(self):
        self.assertBadInput('', 'has neither', name='x.yml')

    def test_missing_file(self):
        status, output = self.run_cli('check-proxy-pipeline',
                                      os.path.join(self.dir, 'x.yml'))
        self.assertEqual(1, status)
        self.assertIn('cannot read %s' % os.path.join(self.dir, 'x.yml'),
                      output)


class ProxyConfTextTest(base.CommandTestCase):
    """The proxy-server.conf a tool's file stands for."""

    def test_sections_from_the_tools_template(self):
        tool = pipeline_forms.ToolPipeline(
            'osa', 'x.yml', ['cache', 'authtoken', 'container-quotas',
                             'ceilometer', 'ip_whitelist', 'proxy-server'],
            {}, dict(OUR_SECTION, DEFAULT={'log_level': 'DEBUG',
                                           'unset': None, 'on': True}))
        text = pipeline_forms.proxy_conf_text(tool)
        for part in [
                '[DEFAULT]\nlog_level = DEBUG\non = true\n',
                '[pipeline:main]\npipeline = cache authtoken container-quotas'
                ' ceilometer ip_whitelist proxy-server\n',
                '[filter:cache]\nuse = egg:swift#memcache\n',
                '[filter:authtoken]\npaste.filter_factory = '
                'keystonemiddleware.auth_token:filter_factory\n',
                '[filter:container-quotas]\nuse = '
                'egg:swift#container_quotas\n',
                '[filter:ceilometer]\npaste.filter_factory = '
                'ceilometermiddleware.swift:filter_factory\n',
                '[filter:ip_whitelist]\nuse = egg:openstack_ext#ip_whitelist'
                '\n', '[app:proxy-server]\nuse = egg:swift#proxy\n']:
            self.assertIn(part, text)
        self.assertNotIn('unset', text)

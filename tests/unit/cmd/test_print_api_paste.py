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

"""print-api-paste, and the shipped files it generates.

The shipped files are regenerated here from the installed Nova's own
api-paste.ini (and, for helm, from the chart's pipelines recorded in
tests/unit/cmd/data): a Nova release that changes its pipelines fails this
test until they are regenerated. tests/functional/nova/
test_deploy_api_paste.py runs each of them in a real nova-api.
"""

import configparser
import os

from openstack_ext.cmd import api_paste
from tests.unit.cmd import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DEPLOY = os.path.join(TOP, 'etc', 'deploy')
HELM_VALUES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'data', 'openstack-helm-0ee5ade-nova-values.yaml')
REGENERATE = ('regenerate it: openstack-ext print-api-paste %s > %s')


def read(path):
    with open(path) as f:
        return f.read()


class ShippedFilesTest(base.CommandTestCase):

    def assertGenerated(self, relative, *argv):
        path = os.path.join(DEPLOY, relative)
        status, output = self.run_cli('print-api-paste', *argv)
        self.assertEqual(0, status, output)
        self.assertEqual(output, read(path), REGENERATE % (
            ' '.join(argv), os.path.relpath(path, TOP)))

    def test_kolla_api_paste_is_novas_with_the_stamp(self):
        self.assertGenerated(os.path.join('kolla-ansible', 'api-paste.ini'))

    def test_openstack_ansible_overrides(self):
        self.assertGenerated(os.path.join(
            'openstack-ansible',
            'user_variables_openstack_ext_api_paste.yml'), '--form', 'osa')

    def test_helm_overlay(self):
        self.assertGenerated(os.path.join('openstack-helm', 'nova-paste.yaml'),
                             '--form', 'helm', HELM_VALUES)

    def test_kolla_api_paste_differs_from_novas_by_the_stamp_only(self):
        nova_path, _version = api_paste.installed_nova_api_paste()
        ours = configparser.RawConfigParser(strict=False)
        ours.read(os.path.join(DEPLOY, 'kolla-ansible', 'api-paste.ini'))
        nova = configparser.RawConfigParser(strict=False)
        nova.read(nova_path)
        self.assertEqual(set(nova.sections()) | {'filter:ip_pool_stamp'},
                         set(ours.sections()))
        stamped = 0
        for section in nova.sections():
            for key, value in nova[section].items():
                mine = ours[section][key]
                if mine != value:
                    words = mine.split()
                    self.assertEqual(
                        'keystonecontext',
                        words[words.index('ip_pool_stamp') - 1])
                    words.remove('ip_pool_stamp')
                    self.assertEqual(value.split(), words)
                    stamped += 1
        self.assertEqual(2, stamped)


class PrintApiPasteTest(base.CommandTestCase):

    PASTE = ('[composite:v21]\nuse = call:nova.api.auth:pipeline_factory_v21'
             '\nkeystone = authtoken keystonecontext app\n\n'
             '# a comment Nova wrote\n[app:app]\npaste.app_factory = x:y\n')

    def test_stamp_and_section_added_every_other_line_kept(self):
        path = self.write('api-paste.ini', self.PASTE)
        status, output = self.run_cli('print-api-paste', path)
        self.assertEqual(0, status, output)
        body = output.split('\n\n', 1)[1]
        self.assertEqual(
            self.PASTE.replace('keystonecontext app',
                               'keystonecontext ip_pool_stamp app') +
            '\n[filter:ip_pool_stamp]\n'
            'use = egg:openstack-ext#ip_pool_stamp\n', body)
        self.assertIn('from\n# api-paste.ini.', output)

    def test_stamped_file_is_kept(self):
        stamped = api_paste.stamped_ini(self.PASTE)
        self.assertEqual(stamped, api_paste.stamped_ini(stamped))

    def test_osa_form(self):
        path = self.write('api-paste.ini', self.PASTE)
        status, output = self.run_cli('print-api-paste', '--form', 'osa',
                                      path)
        self.assertEqual(0, status, output)
        self.assertIn('nova_api_paste_ini_overrides:\n  composite:v21:\n'
                      '    keystone: authtoken keystonecontext ip_pool_stamp '
                      'app\n  filter:ip_pool_stamp:\n    use: egg:openstack-'
                      'ext#ip_pool_stamp\n', output)

    def assertError(self, expected, *argv):
        status, output = self.run_cli('print-api-paste', *argv)
        self.assertEqual(1, status, output)
        self.assertTrue(output.startswith('ERROR: '), output)
        self.assertIn(expected, self.flat(output))

    def test_no_v21_composite(self):
        self.assertError(
            "no v2.1 composite (use = call:nova.api.auth:"
            "pipeline_factory_v21): is this Nova's api-paste.ini?",
            self.write('api-paste.ini', '[app:x]\nuse = egg:a#b\n'))

    def test_pipeline_without_keystonecontext(self):
        self.assertError(
            '[composite:v21] has no keystone pipeline with keystonecontext, '
            'which ip_pool_stamp must follow',
            self.write('api-paste.ini', self.PASTE.replace(
                'keystonecontext ', '')))

    def test_pipeline_on_two_lines(self):
        self.assertError(
            '[composite:v21] keystone continues on another line: add '
            'ip_pool_stamp by hand',
            self.write('api-paste.ini', self.PASTE.replace(
                'keystone = authtoken', 'keystone = authtoken\n  ')))

    def test_not_an_ini_file(self):
        self.assertError('File contains no section headers',
                         self.write('api-paste.ini', 'pipeline = x\n'))

    def test_missing_file(self):
        self.assertError('cannot read %s' % os.path.join(self.dir, 'nope'),
                         os.path.join(self.dir, 'nope'))

    def test_helm_needs_the_values_file(self):
        self.assertError("--form helm reads the nova chart's values file",
                         '--form', 'helm')

    def test_helm_values_without_conf_paste(self):
        self.assertError("no conf.paste mapping: is this the nova chart's "
                         "values file?", '--form', 'helm',
                         self.write('values.yaml', 'conf:\n  nova: {}\n'))
        self.assertError('not YAML', '--form', 'helm',
                         self.write('bad.yaml', 'conf: [\n'))
        self.assertError('no conf.paste mapping', '--form', 'helm',
                         self.write('list.yaml', '- a\n'))

    def test_bad_form_is_a_usage_error(self):
        self.assertIn("invalid choice: 'xml'",
                      self.run_usage_error('print-api-paste', '--form', 'xml'))

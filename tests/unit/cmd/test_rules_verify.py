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

"""``rules verify``'s usage; its work, on three real primaries, is in
tests/functional/swift/test_replicas.py.
"""

import io

import fixtures

from openstack_ext.cmd import cli
from tests.unit.cmd import base


class RulesVerifyUsageTest(base.CommandTestCase):

    def test_help_has_examples_and_exit_status(self):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        raised = self.assertRaises(SystemExit, cli.main,
                                   ['rules', 'verify', '--help'])
        self.assertEqual(0, raised.code)
        text = out.getvalue()
        self.assertIn('openstack-ext rules verify --account', text)
        self.assertIn('exit status: 0', text)
        self.assertIn('--repair', text)

    def test_account_is_required(self):
        self.assertIn('--account', self.run_usage_error('rules', 'verify'))

    def test_sub_verb_is_required(self):
        self.assertIn('required', self.run_usage_error('rules'))

    def test_a_configuration_that_does_not_load_is_an_error(self):
        for path in (self.write('internal-client.conf', '[DEFAULT]\n'),
                     self.dir + '/missing.conf'):
            status, output = self.run_cli(
                'rules', 'verify', '--account', 'AUTH_a',
                '--internal-client-conf', path)
            self.assertEqual(1, status, output)
            self.assertIn('cannot load the internal client %s' % path,
                          self.flat(output))

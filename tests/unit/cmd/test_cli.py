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

import io
import os
import subprocess
import sys

import fixtures

from openstack_ext.cmd import cli
from tests.unit.cmd import base


class HelpTest(base.CommandTestCase):

    def help_of(self, *argv):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        raised = self.assertRaises(SystemExit, cli.main,
                                   list(argv) + ['--help'])
        self.assertEqual(0, raised.code)
        return out.getvalue()

    def test_top_level_help_lists_the_verbs_and_exit_status(self):
        text = self.help_of()
        for verb in ('explain-pool', 'check-proxy-pipeline', 'check-rule',
                     'stamp-servers'):
            self.assertIn(verb, text)
        self.assertIn('exit status', text)

    def test_each_verb_has_examples_and_exit_status(self):
        for verb in ('explain-pool', 'check-proxy-pipeline', 'check-rule',
                     'stamp-servers'):
            text = self.help_of(verb)
            self.assertIn('examples:', text)
            self.assertIn('openstack-ext %s' % verb, text)
            self.assertIn('exit status: 0', text)

    def test_no_verb_is_a_usage_error(self):
        self.assertIn('required', self.run_usage_error())

    def test_unknown_verb_is_a_usage_error(self):
        self.assertIn('invalid choice', self.run_usage_error('frobnicate'))

    def test_a_verb_whose_service_is_not_installed_says_so(self):
        def missing(args, out):
            raise ImportError("No module named 'swift'")
        self.useFixture(fixtures.MonkeyPatch(
            'openstack_ext.cmd.check_rule.run', missing))
        status, output = self.run_cli('check-rule', '10.0.0.1')
        self.assertEqual(1, status)
        self.assertIn("check-rule: No module named 'swift'", output)
        self.assertIn('environment of the service', output)

    def test_console_script_exit_status(self):
        # The console script setup.cfg declares, else the same main().
        script = os.path.join(os.path.dirname(sys.executable),
                              'openstack-ext')
        argv = ([script] if os.path.exists(script) else
                [sys.executable, '-m', 'openstack_ext.cmd.cli'])
        proc = subprocess.run(argv + ['check-rule', '10.1.2.3/16'],
                              stdout=subprocess.PIPE,
                              universal_newlines=True)
        self.assertEqual(1, proc.returncode)
        self.assertIn('has host bits set', proc.stdout)

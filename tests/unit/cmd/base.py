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

"""Run ``openstack-ext`` in-process, as its console script does."""

import io
import os

import fixtures
import testtools

from openstack_ext.cmd import cli


class CommandTestCase(testtools.TestCase):

    def setUp(self):
        super(CommandTestCase, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def run_cli(self, *argv):
        """Return ``(exit status, output)``."""
        out = io.StringIO()
        status = cli.main(list(argv), out=out)
        return status, out.getvalue()

    def run_usage_error(self, *argv):
        """Return argparse's message for a usage error (exit status 2)."""
        err = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                   io.StringIO())).new_value
        raised = self.assertRaises(SystemExit, cli.main, list(argv),
                                   io.StringIO())
        self.assertEqual(2, raised.code)
        return err.getvalue()

    @staticmethod
    def flat(output):
        """*output* on one line: wrapped messages compare whole."""
        return ' '.join(output.split())

    def assertOk(self, result):
        status, output = result
        self.assertEqual(0, status, output)
        self.assertIn('\nOK', '\n' + output)
        return output

    def assertProblems(self, result, *expected):
        status, output = result
        self.assertEqual(1, status, output)
        self.assertIn('\nFAILED', '\n' + output)
        for text in expected:
            self.assertIn(text, self.flat(output))
        return output

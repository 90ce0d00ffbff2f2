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

"""The stand-ins behave like DevStack's functions where the plugin relies
on it (inc/ini-config, functions-common, inc/async)."""

import os
import shutil
import subprocess
import tempfile

import testtools

from tests.devstack import harness

FAKE = os.path.join(harness.HERE, 'fake_devstack.sh')


class FakeDevstackTest(testtools.TestCase):

    def setUp(self):
        super(FakeDevstackTest, self).setUp()
        self.work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.work, True)
        self.ini = os.path.join(self.work, 'x.conf')

    def bash(self, script, **env):
        full = {'PATH': os.environ['PATH'], 'FAKE_WORK': self.work}
        full.update(env)
        result = subprocess.run(
            ['bash', '-c', 'set -e; source %s; %s' % (FAKE, script)],
            env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=60)
        self.assertEqual(0, result.returncode, result.stdout)
        return result.stdout

    def text(self):
        with open(self.ini) as f:
            return f.read()

    def test_iniset_creates_file_and_section_after_a_blank_line(self):
        self.bash('iniset %s a x 1' % self.ini)
        self.assertEqual('\n[a]\nx = 1\n', self.text())

    def test_iniset_inserts_new_options_first_and_replaces_in_place(self):
        with open(self.ini, 'w') as f:
            f.write('[a]\nx=1\n# y = 0\n[b]\nx = 9\n')
        self.bash('iniset %s a y 2; iniset %s a x "v a/l#1"'
                  % (self.ini, self.ini))
        self.assertEqual('[a]\ny = 2\nx=v a/l#1\n# y = 0\n[b]\nx = 9\n',
                         self.text())

    def test_iniget_collapses_whitespace(self):
        with open(self.ini, 'w') as f:
            f.write('[p]\npipeline = a  b   c\n[q]\npipeline = z\n')
        self.assertEqual('a b c\n',
                         self.bash('iniget %s p pipeline' % self.ini))
        self.assertEqual('\n', self.bash('iniget %s p nothing' % self.ini))

    def test_iniadd_and_iniget_multiline(self):
        with open(self.ini, 'w') as f:
            f.write('[f]\nenabled = A\n')
        out = self.bash('iniadd %s f avail one; iniadd %s f avail two three;'
                        ' iniget_multiline %s f avail'
                        % (self.ini, self.ini, self.ini))
        self.assertEqual('one two three\n', out)
        self.assertEqual('[f]\navail = one\navail = two\navail = three\n'
                         'enabled = A\n', self.text())

    def test_inidelete(self):
        with open(self.ini, 'w') as f:
            f.write('[f]\nx = 1\nx = 2\ny = 3\n[g]\nx = 4\n')
        self.bash('inidelete %s f x' % self.ini)
        self.assertEqual('[f]\ny = 3\n[g]\nx = 4\n', self.text())

    def test_is_service_enabled(self):
        out = self.bash(
            'for s in n-sch n-api nova swift s-proxy tls-proxy q-svc; do '
            'is_service_enabled $s && echo $s; done; '
            'is_service_enabled q-svc n-sch && echo any',
            ENABLED_SERVICES='n-sch,s-proxy,tls-proxy')
        self.assertEqual(['n-sch', 'nova', 'swift', 's-proxy', 'tls-proxy',
                          'any'], out.split())

    def test_async_wait_collects_the_job_once(self):
        out = self.bash(
            'function job { sleep 0.2; echo done > %s/job.out; }; '
            'async_runfunc job; async_wait job; cat %s/job.out; '
            'async_wait job' % (self.work, self.work))
        self.assertEqual(['done', 'Not waiting for async task job that we '
                          'never started or has already been waited for'],
                         out.splitlines())

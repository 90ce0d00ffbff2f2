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

"""bashate, with DevStack's own flags, over the plugin's shell files."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

import testtools

from tests.devstack import harness

# DevStack's tox.ini: ignore E006 (long lines), make E005 (no #! or .sh)
# and E042 (local hides the exit status of $(...)) errors.
BASHATE_FLAGS = ['-v', '-iE006', '-eE005,E042']
PLUGIN_FILES = [os.path.join(harness.TOP, 'devstack', name)
                for name in ('plugin.sh', 'settings', 'lib/openstack-ext')]


def bashate(*paths):
    exe = os.path.join(os.path.dirname(sys.executable), 'bashate')
    if not os.path.exists(exe):
        exe = shutil.which('bashate') or 'bashate'
    return subprocess.run([exe] + BASHATE_FLAGS + list(paths),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


class BashateTest(testtools.TestCase):

    def test_plugin_files(self):
        # Every shell file of the plugin is checked (the rest is docs).
        found = [p for p in glob.glob(os.path.join(harness.TOP, 'devstack',
                                                   '**'), recursive=True)
                 if os.path.isfile(p) and not p.endswith(('.md', '.example'))]
        self.assertEqual(sorted(PLUGIN_FILES), sorted(found))
        result = bashate(*PLUGIN_FILES)
        self.assertEqual(0, result.returncode, result.stdout)
        for path in PLUGIN_FILES:
            self.assertIn('Running bashate on %s' % path, result.stdout)

    def test_test_harness(self):
        scripts = glob.glob(os.path.join(harness.HERE, '*.sh'))
        self.assertEqual(['run_devstack.sh', 'stand_ins.sh'],
                         sorted(os.path.basename(p) for p in scripts))
        result = bashate(*scripts)
        self.assertEqual(0, result.returncode, result.stdout)

    def _broken_copy(self, name, edit):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(harness.TOP, 'devstack', name)) as f:
            text = f.read()
        path = os.path.join(tmp, os.path.basename(name))
        with open(path, 'w') as f:
            f.write(edit(text))
        return path

    def test_flags_catch_style_errors(self):
        # The same run fails on real errors: the flags mask nothing else.
        cases = {
            'E001': ('plugin.sh', lambda t: t.replace(
                'openstack_ext_install\n', 'openstack_ext_install \n', 1)),
            'E003': ('lib/openstack-ext', lambda t: t.replace(
                '    setup_develop', '  setup_develop', 1)),
            'E005': ('settings', lambda t: t.split('\n', 1)[1]),
            'E020': ('lib/openstack-ext', lambda t: t.replace(
                'function openstack_ext_install {',
                'function openstack_ext_install() {', 1)),
            'E042': ('lib/openstack-ext', lambda t: t.replace(
                '    local current\n    current=$(iniget',
                '    local current=$(iniget', 1)),
        }
        for code, (name, edit) in cases.items():
            path = self._broken_copy(name, edit)
            result = bashate(path)
            self.assertNotEqual(0, result.returncode, code)
            self.assertIn(code, result.stdout)

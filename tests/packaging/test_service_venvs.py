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


"""The wheel in a Swift proxy's and in Nova's own environment.

Each class makes a fresh virtualenv, installs the service and the wheel
the way an operator would (``pip install 'openstack-ext[swift]'``) within
the constraints file, and runs the installed code there. pip fetches from
the package index through the user's pip cache, so a rerun takes seconds
per package; the first run takes minutes (Nova has many dependencies).
"""

import json
import os
import subprocess
import sys
import tempfile

import testtools

from tests.packaging import wheel

WRONG_ENVIRONMENT = 'Run this verb in the environment of the service'
LIST_DISTRIBUTIONS = ('import importlib.metadata as m, json; print(json.dumps('
                      'sorted(d.metadata["Name"].lower() '
                      'for d in m.distributions())))')


class ServiceVenv(testtools.TestCase):
    """A fresh virtualenv with the wheel and one extra installed."""

    extra = None

    @classmethod
    def setUpClass(cls):
        super(ServiceVenv, cls).setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        whl = wheel.build(cls.tmp.name)
        venv = os.path.join(cls.tmp.name, 'venv')
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
        cls.bin = os.path.join(venv, 'bin')
        cls.python = os.path.join(cls.bin, 'python')
        cls.install_log = wheel.pip(
            cls.python, 'install', '-c', wheel.CONSTRAINTS,
            '%s[%s]' % (whl, cls.extra)).stdout
        cls.samples = os.path.join(venv, wheel.SAMPLES)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super(ServiceVenv, cls).tearDownClass()

    def run_in_venv(self, *argv):
        """``(exit status, output, errors)`` of a command of the venv.

        Run from / so that the source tree cannot stand in for the
        installed code.
        """
        proc = subprocess.run(
            list(argv), cwd='/', stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
            env=dict(os.environ, PYTHONPATH=''))
        return proc.returncode, proc.stdout, proc.stderr

    def python_says(self, code):
        """What *code* prints (its warnings, e.g. eventlet's, aside)."""
        status, output, errors = self.run_in_venv(self.python, '-c', code)
        self.assertEqual(0, status, output + errors)
        return output

    def command(self, *argv):
        """``(exit status, output)`` of the installed ``openstack-ext``."""
        status, output, errors = self.run_in_venv(
            os.path.join(self.bin, 'openstack-ext'), *argv)
        self.assertNotIn('Traceback', errors)
        return status, output

    def distributions(self):
        return json.loads(self.python_says(LIST_DISTRIBUTIONS))

    def sample(self, *parts):
        path = os.path.join(self.samples, *parts)
        self.assertTrue(os.path.isfile(path), path)
        return path

    def assertWrongEnvironment(self, result, verb, missing):
        status, output = result
        self.assertEqual(1, status, output)
        self.assertIn('ERROR: %s: ' % verb, output)
        self.assertIn(missing, output)
        self.assertIn(WRONG_ENVIRONMENT, output)
        return output


class SwiftOnlyVenvTest(ServiceVenv):

    extra = 'swift'

    def test_no_oslo_nor_nova_installed(self):
        names = self.distributions()
        self.assertIn('swift', names)  # the control
        self.assertIn('openstack-ext', names)
        self.assertEqual([], [n for n in names if n.startswith('oslo')])
        self.assertNotIn('nova', names)

    def test_middleware_loads_through_its_paste_entry_point(self):
        output = self.python_says(
            'import sys\n'
            'from paste.deploy import loadwsgi\n'
            'make = loadwsgi.loadfilter("egg:openstack_ext#ip_whitelist")\n'
            'mw = make(lambda env, start_response: [])\n'
            'print(type(mw).__module__, type(mw).__name__)\n'
            'print(sorted(m for m in sys.modules\n'
            '             if m.split(".")[0] in ("nova", "oslo_config")))\n')
        self.assertEqual('openstack_ext.swift.ip_whitelist '
                         'IPWhitelistMiddleware\n[]\n', output)

    def test_check_proxy_pipeline_on_the_installed_sample(self):
        # The sample authenticates with keystonemiddleware, which a Keystone
        # proxy has (with oslo.*) and this venv has not: tempauth instead.
        with open(self.sample(
                'swift', 'proxy-server.conf-sample-ip_whitelist')) as f:
            text = f.read()
        self.assertIn(' authtoken keystoneauth ip_whitelist ', text)
        conf = os.path.join(self.tmp.name, 'proxy-server.conf')
        with open(conf, 'w') as f:
            f.write(text.replace(' authtoken keystoneauth ', ' tempauth ') +
                    '\n[filter:tempauth]\nuse = egg:swift#tempauth\n')
        status, output = self.command('check-proxy-pipeline', conf)
        self.assertEqual(0, status, output)
        self.assertIn('OK: ip_whitelist is placed and configured correctly',
                      output)

    def test_check_rule(self):
        status, output = self.command('check-rule', '192.0.2.0/24')
        self.assertEqual(0, status, output)
        status, output = self.command('check-rule', '10.1.2.3/16')
        self.assertEqual(1, status, output)
        self.assertIn('has host bits set', output)

    def test_explain_pool_says_run_it_where_nova_runs(self):
        self.assertWrongEnvironment(
            self.command('explain-pool', '--config-file', self.sample(
                'nova', 'nova.conf.ip-pools-guide-example'), '10.1.0.5'),
            'explain-pool', 'oslo_config')

    def test_tool_files_need_pyyaml_and_say_so(self):
        status, output = self.command('check-proxy-pipeline', self.sample(
            'deploy', 'openstack-helm', 'swift.yaml'))
        self.assertEqual(1, status, output)
        self.assertIn('needs PyYAML, which is not installed in this '
                      'environment', ' '.join(output.split()))


class NovaOnlyVenvTest(ServiceVenv):

    extra = 'nova'

    def test_no_swift_installed(self):
        names = self.distributions()
        self.assertIn('nova', names)  # the control
        self.assertIn('oslo.config', names)
        self.assertNotIn('swift', names)

    def test_imports_the_nova_half(self):
        output = self.python_says(
            'import sys\n'
            'from openstack_ext.nova import pool_filter, pool_stamp\n'
            'print(pool_filter.ClientNetworkPoolFilter.__name__,\n'
            '      pool_stamp.filter_factory.__name__)\n'
            'print(sorted(m for m in sys.modules\n'
            '             if m.split(".")[0] == "swift"))\n')
        self.assertEqual('ClientNetworkPoolFilter filter_factory\n[]\n',
                         output)

    def test_options_through_the_oslo_config_entry_point(self):
        status, output, errors = self.run_in_venv(
            os.path.join(self.bin, 'oslo-config-generator'),
            '--namespace', 'openstack_ext.nova')
        self.assertEqual(0, status, output + errors)
        self.assertIn('[ip_pools]', output)
        self.assertIn('#client_networks =', output)

    def test_explain_pool_on_the_installed_sample(self):
        status, output = self.command(
            'explain-pool', '--config-file',
            self.sample('nova', 'nova.conf.ip-pools-guide-example'),
            '10.1.0.5')
        self.assertEqual(0, status, output)
        self.assertIn('doc', output)

    def test_installed_api_paste_is_the_installed_novas(self):
        # The file Kolla's nova-api.conf points at, written again from the
        # nova of this venv: the same, line for line.
        status, output = self.command('print-api-paste')
        self.assertEqual(0, status, output)
        with open(self.sample('deploy', 'kolla-ansible',
                              'api-paste.ini')) as f:
            self.assertEqual(f.read(), output)

    def test_swift_verbs_say_run_them_where_swift_runs(self):
        output = self.assertWrongEnvironment(
            self.command('check-proxy-pipeline', self.sample(
                'swift', 'proxy-server.conf-sample-ip_whitelist')),
            'check-proxy-pipeline', 'swift')
        self.assertNotIn('cannot load this pipeline', output)
        self.assertWrongEnvironment(self.command('check-rule', '192.0.2.1'),
                                    'check-rule', 'swift')

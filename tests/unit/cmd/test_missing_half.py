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


"""Each verb run where its service's half is missing says so.

The missing half is simulated in-process by hiding its top-level package
(``None`` in ``sys.modules`` makes every import of it fail, as on a host
without it); tests/packaging runs the same verbs in real Swift-only and
Nova-only virtualenvs.
"""

import os
import sys
from unittest import mock

from tests.unit.cmd import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SWIFT_SAMPLE = os.path.join(TOP, 'etc', 'swift',
                            'proxy-server.conf-sample-ip_whitelist')
NOVA_SAMPLE = os.path.join(TOP, 'etc', 'nova',
                           'nova.conf.ip-pools-guide-example')
WRONG_ENVIRONMENT = 'Run this verb in the environment of the service'


class MissingHalfTest(base.CommandTestCase):

    def without(self, package):
        """Make every import of *package* fail for this test."""
        hidden = {name: None for name in list(sys.modules)
                  if name == package or name.startswith(package + '.')}
        hidden[package] = None
        patcher = mock.patch.dict(sys.modules, hidden)
        patcher.start()
        self.addCleanup(patcher.stop)

    def assertWrongEnvironment(self, result, verb, package):
        status, output = result
        self.assertEqual(1, status, output)
        self.assertIn('ERROR: %s: ' % verb, output)
        self.assertIn(package, output)
        self.assertIn(WRONG_ENVIRONMENT, output)
        return output

    def test_check_proxy_pipeline_with_swift(self):
        # Positive control: the same file passes where swift is installed.
        self.assertOk(self.run_cli('check-proxy-pipeline', SWIFT_SAMPLE))

    def test_check_proxy_pipeline_without_swift(self):
        self.without('swift')
        output = self.assertWrongEnvironment(
            self.run_cli('check-proxy-pipeline', SWIFT_SAMPLE),
            'check-proxy-pipeline', 'swift')
        # Not mistaken for a pipeline whose middleware fails to import.
        self.assertNotIn('cannot load this pipeline', output)

    def test_check_proxy_pipeline_without_paste(self):
        self.without('paste')
        self.assertWrongEnvironment(
            self.run_cli('check-proxy-pipeline', SWIFT_SAMPLE),
            'check-proxy-pipeline', 'paste')

    def test_a_middleware_that_does_not_import_is_still_a_pipeline_error(self):
        # The guide's 2013 module: swift is here, the middleware is not.
        conf = self.write('proxy-server.conf', (
            '[pipeline:main]\npipeline = ip_whitelist proxy-server\n'
            '[app:proxy-server]\nuse = egg:swift#proxy\n'
            '[filter:ip_whitelist]\npaste.filter_factory = '
            'swift.common.middleware.ip_whitelist:filter_factory\n'))
        status, output = self.run_cli('check-proxy-pipeline', conf)
        self.assertEqual(1, status, output)
        self.assertIn('the proxy cannot load this pipeline', output)
        self.assertNotIn(WRONG_ENVIRONMENT, output)

    def test_check_rule_without_swift(self):
        self.assertOk(self.run_cli('check-rule', '192.0.2.0/24'))
        self.without('swift')
        self.assertWrongEnvironment(self.run_cli('check-rule', '192.0.2.0/24'),
                                    'check-rule', 'swift')

    def test_explain_pool_without_oslo_config(self):
        argv = ('explain-pool', '--config-file', NOVA_SAMPLE, '10.1.0.5')
        self.assertOk(self.run_cli(*argv))
        self.without('oslo_config')
        self.assertWrongEnvironment(self.run_cli(*argv), 'explain-pool',
                                    'oslo_config')

    def test_a_broken_openstack_ext_is_not_blamed_on_the_environment(self):
        def broken(args, out):
            raise ImportError("No module named 'openstack_ext.gone'",
                              name='openstack_ext.gone')
        with mock.patch('openstack_ext.cmd.check_rule.run', broken):
            self.assertRaises(ImportError, self.run_cli, 'check-rule', 'x')

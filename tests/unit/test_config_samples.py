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

"""The configuration samples under etc/ say what the code does."""

import difflib
import io
import os
import re

import fixtures
from oslo_config import generator
import testtools

from openstack_ext.cmd import check_pipeline
from openstack_ext.cmd import cli
from openstack_ext.swift import conf as whitelist_conf

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NOVA_GENERATOR = os.path.join(TOP, 'etc', 'oslo-config-generator',
                              'openstack-ext-nova.conf')
NOVA_SAMPLE = os.path.join(TOP, 'etc', 'nova', 'nova.conf.ip-pools.sample')
SWIFT_SAMPLE = os.path.join(TOP, 'etc', 'swift',
                            'proxy-server.conf-sample-ip_whitelist')


class NovaSampleTest(testtools.TestCase):

    def test_sample_is_what_tox_genconfig_writes(self):
        out = os.path.join(self.useFixture(fixtures.TempDir()).path, 'sample')
        # What "tox -e genconfig" runs, through the oslo.config.opts entry
        # point of the installed package.
        generator.main(['--config-file', NOVA_GENERATOR,
                        '--output-file', out])
        with open(out) as f:
            generated = f.read()
        with open(NOVA_SAMPLE) as f:
            checked_in = f.read()
        if generated != checked_in:
            diff = ''.join(difflib.unified_diff(
                checked_in.splitlines(True), generated.splitlines(True),
                NOVA_SAMPLE, 'generated'))
            self.fail('%s is out of date: run "tox -e genconfig" and commit '
                      'the result.\n%s' % (NOVA_SAMPLE, diff))


class SwiftSampleTest(testtools.TestCase):

    def test_documents_every_option_the_middleware_reads(self):
        read = set()

        class Recording(dict):
            def get(self, key, default=None):
                read.add(key)
                return super(Recording, self).get(key, default)

        whitelist_conf.parse(Recording())
        with open(SWIFT_SAMPLE) as f:
            documented = set(re.findall(r'^# (\w+) =', f.read(), re.M))
        self.assertEqual(read, documented - {'set'})
        self.assertEqual(read, set(check_pipeline.KNOWN_OPTIONS))

    def test_pipeline_passes_check_proxy_pipeline(self):
        # As the operator guide's quick start runs it.
        out = io.StringIO()
        status = cli.main(['check-proxy-pipeline', SWIFT_SAMPLE], out)
        self.assertEqual(0, status, out.getvalue())
        self.assertIn('OK: ip_whitelist is placed and configured correctly',
                      out.getvalue())

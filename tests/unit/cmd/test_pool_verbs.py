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

"""audit-pools, pool-usage and repool refuse bad input before Nova is read.

Their work is tested in Nova's functional fixtures (test_audit_pools,
test_pool_usage, test_repool); here the argument and configuration
checks, and the Prometheus text of pool-usage.
"""

import io
import re
from unittest import mock

from openstack_ext.cmd import pool_capacity
from openstack_ext.cmd import pool_usage
from openstack_ext.cmd import report
from tests.unit.cmd import base

CONF = """\
[ip_pools]
client_networks = 10.1.0.0/16=doc
default_pool = dev
"""
SECRET = 'pool-verbs-unit-secret-0123456789'
# The Prometheus text exposition format, one sample line.
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})?'
                    r' -?[0-9]+(\.[0-9]+)?$')


class PoolVerbsConfigTest(base.CommandTestCase):

    def run_refused(self, *argv, text=CONF):
        with mock.patch('nova.config.parse_args') as parse_args:
            status, output = self.run_cli(*argv + (
                '--config-file', self.write('nova.conf', text)))
        parse_args.assert_not_called()
        return status, output

    def test_audit_and_repool_need_a_stamp_secret(self):
        for argv in (('audit-pools',),
                     ('repool', '--pool', 'doc', '--reason', 'r', 'x')):
            status, output = self.run_refused(*argv)
            self.assertEqual(report.USAGE, status, output)
            self.assertIn('[ip_pools] stamp_secret = (unset)', output)

    def test_bad_ip_pools_stops_every_verb(self):
        text = CONF + 'stamp_secret = %s\nexclusive_pools = qa\n' % SECRET
        for argv in (('audit-pools',), ('pool-usage',),
                     ('repool', '--pool', 'doc', '--reason', 'r', 'x')):
            status, output = self.run_refused(*argv, text=text)
            self.assertEqual(report.USAGE, status, output)
            self.assertIn('[ip_pools] exclusive_pools = qa', output)
            self.assertNotIn(SECRET, output)

    def test_usage_errors(self):
        for argv, expected in [
                (('pool-usage', '--min-free', '3'), '--min-free needs'),
                (('repool', '--pool', 'doc', '--reason', 'r', '--live', 'x'),
                 '--live needs --migrate')]:
            status, output = self.run_refused(*argv)
            self.assertEqual(report.USAGE, status, output)
            self.assertIn(expected, output)
        self.assertIn('--reason', self.run_usage_error('repool', '--pool',
                                                       'doc', 'x'))


class PrometheusTest(base.CommandTestCase):

    def test_exposition_format(self):
        usage = pool_capacity.PoolUsage(
            'doc', True, ['u'], ['doc-1', 'doc-2'], ['doc-2'], [],
            {'VCPU': pool_capacity.ResourceUsage(20, 0, (4.0,), 80, 3, 77)},
            {'m1."odd"\\name': 7})
        text = pool_usage.prometheus([usage], ['a warning'])
        self.assertTrue(text.endswith('\n'))
        seen = set()
        for line in text.splitlines():
            if line.startswith('# '):
                kind, name = line.split()[1:3]
                self.assertNotIn((kind, name), seen)
                seen.add((kind, name))
                continue
            self.assertRegex(line, SAMPLE)
        self.assertIn('openstack_ext_pool_hosts{pool="doc",state="disabled"}'
                      ' 1', text)
        self.assertIn('openstack_ext_pool_resource_free{pool="doc",'
                      'resource_class="VCPU"} 77', text)
        self.assertIn('openstack_ext_pool_room{flavor="m1.\\"odd\\"\\\\name",'
                      'pool="doc"} 7', text)
        self.assertIn('openstack_ext_pool_warnings 1', text)
        out = io.StringIO()
        self.assertEqual(report.PROBLEMS, pool_usage.show(
            [usage], [], report.Report(out), min_free=8, form='prometheus'))
        self.assertEqual(report.OK, pool_usage.show(
            [usage], [], report.Report(out), min_free=7, form='prometheus'))

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

"""stamp-servers refuses a configuration before it touches a database.

Its work on servers is tested in Nova's functional fixtures
(tests/functional/nova/test_stamp_servers.py).
"""

from unittest import mock

from openstack_ext.cmd import report
from tests.unit.cmd import base

CONF = """\
[api_database]
connection = sqlite:////nonexistent/api.db

[ip_pools]
client_networks = 10.1.0.0/16=doc
default_pool = dev
"""
SECRET = 'stamp-servers-unit-secret-0123456789'


class StampServersConfigTest(base.CommandTestCase):

    def test_refuses_to_run_without_stamp_secret(self):
        with mock.patch('nova.config.parse_args') as parse_args:
            status, output = self.run_cli(
                'stamp-servers', '--config-file',
                self.write('nova.conf', CONF))
        self.assertEqual(report.USAGE, status)
        self.assertIn('[ip_pools] stamp_secret = (unset)', output)
        self.assertIn('nothing was read or changed', output)
        parse_args.assert_not_called()

    def test_refuses_a_bad_ip_pools_and_never_echoes_a_secret(self):
        for text, expected in [
                ('stamp_secret = %s,short' % SECRET, 'value 2 of 2'),
                ('stamp_secret = %s\ndefault_pool = -x' % SECRET,
                 'default_pool')]:
            with mock.patch('nova.config.parse_args') as parse_args:
                status, output = self.run_cli(
                    'stamp-servers', '--config-file',
                    self.write('nova.conf', CONF + text + '\n'))
            self.assertEqual(report.USAGE, status, output)
            self.assertIn(expected, output)
            self.assertNotIn(SECRET, output)
            parse_args.assert_not_called()

    def test_a_good_configuration_reaches_nova(self):
        # Positive control: with a secret, Nova's configuration is loaded.
        path = self.write('nova.conf', CONF + 'stamp_secret = %s\n' % SECRET)
        with mock.patch('nova.config.parse_args') as parse_args, \
                mock.patch('openstack_ext.cmd.stamp_servers.stamp_all') as \
                stamp_all:
            status, output = self.run_cli('stamp-servers', '--dry-run',
                                          '--config-file', path)
        self.assertEqual(report.OK, status, output)
        parse_args.assert_called_once_with(
            ['openstack-ext', '--config-file=%s' % path], init_rpc=False)
        settings = stamp_all.call_args[0][1]
        self.assertEqual((SECRET,), settings.stamp_secrets)
        self.assertIs(True, stamp_all.call_args[0][3])

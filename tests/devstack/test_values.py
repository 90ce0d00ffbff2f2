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

"""Values from local.conf reach the services as given, or stop the stack.

DevStack's iniset runs ``echo $value`` unquoted: in stack.sh's directory a
``*`` expands to its file names, runs of blanks collapse and a leading
``-n`` vanishes. Every value the user gives goes through the real iniset
here, and is read back by the real Swift and Nova.
"""

import hashlib

import testtools

from tests.devstack import harness
from tests.devstack.harness import NOVA_CONF
from tests.devstack.harness import PROXY_CONF

# Glob characters (stack.sh's directory has files for each to match),
# quotes, '&' and '\' (which iniset's sed escapes), '$' (fine for paste),
# non-ASCII.
MESSAGE = 'Access denied * [CR]* ?EADME.rst "quoted" it\'s & \\ $HOME – é'
SECRET = 's3cr*t [ab]? & \\ "q" ü %' + '0123456789abcdef' * 2
NETWORKS = '10.1.0.0/16=doc, 2001:db8::/32=ops'


class VerbatimTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super(VerbatimTest, cls).setUpClass()
        cls.host = harness.Host(
            cls.addClassCleanup,
            OPENSTACK_EXT_SWIFT_DENY_MESSAGE=MESSAGE,
            OPENSTACK_EXT_NOVA_STAMP_SECRET=SECRET,
            OPENSTACK_EXT_NOVA_CLIENT_NETWORKS=NETWORKS,
            OPENSTACK_EXT_NOVA_AGGREGATE_METADATA_KEY='pool*',
            OPENSTACK_EXT_SWIFT_ALWAYS_ALLOW='auto,198.51.100.0/24')
        cls.host.run('stack')

    def test_the_glob_would_match_in_stack_shs_directory(self):
        # Positive control: unquoted, the message expands to file names.
        self.assertIn('CONTRIBUTING.rst', harness.glob_in_devstack(MESSAGE))

    def test_written_as_given(self):
        whitelist = self.host.ini(PROXY_CONF)['filter:ip_whitelist']
        self.assertEqual([MESSAGE], whitelist['deny_message'])
        self.assertEqual(['auto,198.51.100.0/24, 127.0.0.1, ::1, %s, %s' % (
            harness.HOST_IP, harness.HOST_IPV6)], whitelist['always_allow'])
        pools = self.host.ini(NOVA_CONF)['ip_pools']
        self.assertEqual([SECRET], pools['stamp_secret'])
        self.assertEqual([NETWORKS], pools['client_networks'])
        self.assertEqual(['pool*'], pools['aggregate_metadata_key'])

    def test_services_read_them_as_given(self):
        swift = self.host.probe('swift', self.host.path(PROXY_CONF),
                                '198.51.100.7')
        self.assertEqual(MESSAGE, swift['deny_message'])
        self.assertEqual({'198.51.100.7': True}, swift['always_allow'])
        nova = self.host.probe('nova-scheduler', self.host.path(NOVA_CONF))
        pools = nova['ip_pools']
        self.assertEqual(hashlib.sha256(SECRET.encode()).hexdigest(),
                         pools['stamp_secret_sha256'])
        self.assertEqual(['10.1.0.0/16=doc', '2001:db8::/32=ops'],
                         pools['client_networks'])
        self.assertEqual('pool*', pools['aggregate_metadata_key'])


class RefusedTest(testtools.TestCase):
    """What iniset cannot write as given stops the stack, naming it."""

    def assertRefused(self, why, **settings):
        (setting, value), = settings.items()
        host = harness.Host(self.addCleanup, ENABLED_SERVICES=(
            harness.SWIFT_SERVICES if 'SWIFT' in setting
            else harness.NOVA_SERVICES), **settings)
        result = host.run('stack', check=False)
        self.assertNotEqual(0, result.returncode, result.stdout[-2000:])
        self.assertIn('[ERROR]', result.stdout)
        self.assertIn(setting + ' ', result.stdout)
        self.assertIn(why, result.stdout)
        if 'SECRET' in setting:
            self.assertNotIn(value, result.stdout)
        self.assertNotIn('start_swift', host.calls())

    def test_runs_of_blanks(self):
        self.assertRefused('a run of blanks',
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE='IP  Denied')

    def test_leading_and_trailing_blanks(self):
        self.assertRefused('leading or trailing blank',
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE=' IP Denied')

    def test_leading_echo_option(self):
        self.assertRefused("a leading '-n'",
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE='-n')
        self.assertRefused("a leading '-e'",
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE='-e no\\tway')

    def test_tabs_and_newlines(self):
        self.assertRefused('control character',
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE='IP\tDenied')

    def test_what_the_readers_would_substitute(self):
        # paste.deploy interpolates '%' in proxy-server.conf, oslo.config
        # substitutes '$' in nova.conf.
        self.assertRefused("'%'",
                           OPENSTACK_EXT_SWIFT_DENY_MESSAGE='100% denied')
        self.assertRefused("'$'",
                           OPENSTACK_EXT_NOVA_STAMP_SECRET='$' + 'x' * 40)

    def test_blanks_in_a_secret(self):
        self.assertRefused('a run of blanks',
                           OPENSTACK_EXT_NOVA_STAMP_SECRET='x' * 20 + '  ' +
                           'y' * 20)

    def test_addresses_and_pools(self):
        self.assertRefused("item '10.0.0.*' is not an IP address",
                           OPENSTACK_EXT_SWIFT_ALWAYS_ALLOW='10.0.0.*')
        self.assertRefused("item '*' is not an IP address",
                           OPENSTACK_EXT_SWIFT_TRUSTED_PROXIES='*')
        self.assertRefused("item '*' is not CIDR=pool",
                           OPENSTACK_EXT_NOVA_CLIENT_NETWORKS='10.0.0.0/8=a,*')

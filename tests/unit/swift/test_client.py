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

"""Who the client is: the table of recent address pairs."""

import ipaddress
import logging

import fixtures
import testtools

from openstack_ext import addresses
from openstack_ext.swift import client
from openstack_ext.swift import decision

ip = ipaddress.ip_address
TRUSTED = '203.0.113.10'  # a load balancer
ALWAYS = '127.0.0.1'


def networks(*texts):
    return addresses.NetworkSet(addresses.parse_network(t) for t in texts)


def env(peer, forwarded_for=None):
    found = {'REMOTE_ADDR': peer}
    if forwarded_for is not None:
        found['HTTP_X_FORWARDED_FOR'] = forwarded_for
    return found


class TestClientTable(testtools.TestCase):

    def setUp(self):
        super(TestClientTable, self).setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='test-client', level=logging.WARNING))
        options = decision.Options(networks(ALWAYS), False, decision.ENFORCE)
        self.clients = client.ClientAddress(options, networks(TRUSTED),
                                            logging.getLogger('test-client'))

    def test_kept_answers_are_the_parsed_ones(self):
        pairs = [('192.0.2.7', None), ('192.0.2.7', '198.51.100.1'),
                 (TRUSTED, '198.51.100.1'),
                 (TRUSTED, '198.51.100.1, ' + TRUSTED),
                 (TRUSTED, None), (TRUSTED, 'junk'),
                 ('::ffff:192.0.2.8', None),
                 (ALWAYS, '198.51.100.1'), ('not an address', None)]
        expected = [ip('192.0.2.7'), ip('192.0.2.7'), ip('198.51.100.1'),
                    ip('198.51.100.1'), None, None, ip('192.0.2.8'), None,
                    None]
        for _ in range(3):  # parsed, then answered from the table
            self.assertEqual(expected,
                             [self.clients(env(*pair)) for pair in pairs])
        self.assertEqual(len(pairs), len(self.clients._known))

    def test_the_untrusted_forwarder_is_warned_of_once(self):
        for _ in range(3):
            self.assertIsNone(self.clients(env(ALWAYS, '198.51.100.1')))
        self.assertEqual(1, self.log.output.count('not in trusted_proxies'))

    def test_bounded(self):
        for number in range(client.KEPT_PAIRS + 10):
            peer = str(ipaddress.IPv4Address(0xc6120000 + number))
            self.assertEqual(ip(peer), self.clients(env(peer)))
            self.assertLessEqual(len(self.clients._known), client.KEPT_PAIRS)
        long_chain = ', '.join(['198.51.100.1'] * 20) + ', ' + TRUSTED
        self.assertGreater(len(long_chain), client.MAX_KEPT_FORWARDED_FOR)
        self.clients._known.clear()
        self.assertEqual(ip('198.51.100.1'),
                         self.clients(env(TRUSTED, long_chain)))
        self.assertEqual({}, self.clients._known)

    def test_a_broken_environment_is_parsed_not_kept(self):
        self.assertIsNone(self.clients({'REMOTE_ADDR': ['192.0.2.7']}))
        self.assertEqual(ip('192.0.2.7'), self.clients(
            {'REMOTE_ADDR': '192.0.2.7', 'HTTP_X_FORWARDED_FOR': 7}))
        self.assertEqual({}, self.clients._known)

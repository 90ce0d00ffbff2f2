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

"""``always_allow = auto``: every address of the host, and the loopback.

The discovery is checked in a network namespace of its own, with a dummy
(or, where the kernel lacks the module, a veth) interface holding a
primary, a secondary and a /32 address (what the previous SIOCGIFADDR
reading missed: one IPv4 address per interface), and loopback addresses
other than 127.0.0.1 that must stay outside.
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys

import testtools

from openstack_ext.swift import local_addresses

ip = ipaddress.ip_address
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
NS_ADDRESSES = ('198.51.100.10/24',    # primary
                '198.51.100.11/24',    # secondary, same subnet
                '203.0.113.7/32',      # a VIP
                '2001:db8:5::7/64')
LOOPBACK_EXTRA = '127.0.0.5/8'         # on lo, yet an outside client
# Run inside the namespace: what auto finds, and what always_allow admits.
PROBE = """
import json, sys
from openstack_ext.swift import conf, local_addresses
found = [str(a) for a in local_addresses.local_addresses()]
allow = conf.parse({}).options.always_allow  # default: auto
from openstack_ext import addresses
admitted = {a: addresses.parse_address(a) in allow for a in sys.argv[1:]}
print(json.dumps({'found': found, 'admitted': admitted}))
"""


class TestLoopbackPolicy(testtools.TestCase):

    def test_only_127_0_0_1_and_1_of_the_loopback(self):
        found = local_addresses.local_addresses(
            ['127.0.0.1', '127.0.0.2', '127.1.2.3', '::1', '192.0.2.5',
             'fe80::1', '2001:db8::5', '::ffff:127.0.0.3'])
        self.assertEqual([ip('127.0.0.1'), ip('192.0.2.5'), ip('::1'),
                          ip('2001:db8::5'), ip('fe80::1')], found)

    def test_loopback_always_there(self):
        # A host whose lo is down still has its own seat.
        self.assertEqual([ip('127.0.0.1'), ip('::1')],
                         local_addresses.local_addresses([]))

    def test_this_host(self):
        found = local_addresses.local_addresses()
        self.assertIn(ip('127.0.0.1'), found)
        self.assertNotIn(ip('127.0.0.2'), found)


class TestInNetworkNamespace(testtools.TestCase):
    """The real discovery, in a namespace this test creates and removes."""

    def _ip(self, *argv):
        return subprocess.run(('ip',) + argv, capture_output=True,
                              text=True, timeout=30)

    def setUp(self):
        super(TestInNetworkNamespace, self).setUp()
        if not shutil.which('ip'):
            self.skipTest('no "ip" command (iproute2) to create a network '
                          'namespace')
        if os.geteuid() != 0:
            self.skipTest('creating a network namespace needs root')
        self.ns = 'ipw-test-%d-%s' % (os.getpid(), os.urandom(3).hex())
        made = self._ip('netns', 'add', self.ns)
        if made.returncode != 0:
            self.skipTest('cannot create a network namespace: %s'
                          % made.stderr.strip())
        self.addCleanup(self._ip, 'netns', 'del', self.ns)
        # A dummy interface where the kernel has the module, else a veth
        # pair whose both ends stay in the namespace.
        if self._ip('-n', self.ns, 'link', 'add', 'ipw0', 'type',
                    'dummy').returncode != 0:
            made = self._ip('-n', self.ns, 'link', 'add', 'ipw0', 'type',
                            'veth', 'peer', 'name', 'ipw1')
            self.assertEqual(0, made.returncode, made.stderr)
            self.assertEqual(0, self._ip('-n', self.ns, 'link', 'set', 'ipw1',
                                         'up').returncode)
        steps = [('link', 'set', 'lo', 'up'),
                 ('addr', 'add', LOOPBACK_EXTRA, 'dev', 'lo'),
                 ('link', 'set', 'ipw0', 'up')]
        steps += [('addr', 'add', address, 'dev', 'ipw0') + (
            ('nodad',) if ':' in address else ()) for address in NS_ADDRESSES]
        for step in steps:
            done = self._ip('-n', self.ns, *step)
            self.assertEqual(0, done.returncode, (step, done.stderr))

    def _probe(self, *candidates):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [REPO, os.environ.get('PYTHONPATH')])))
        done = subprocess.run(
            ['ip', 'netns', 'exec', self.ns, sys.executable, '-c', PROBE]
            + list(candidates), capture_output=True, text=True, timeout=60,
            env=env)
        self.assertEqual(0, done.returncode, done.stderr)
        return json.loads(done.stdout)

    def _kernel_addresses(self):
        """Every address ``ip`` lists in the namespace."""
        done = self._ip('-n', self.ns, '-j', 'addr', 'show')
        self.assertEqual(0, done.returncode, done.stderr)
        return {ip(info['local']) for link in json.loads(done.stdout)
                for info in link.get('addr_info', [])}

    def test_every_address_and_the_loopback_policy(self):
        assigned = [a.split('/')[0] for a in NS_ADDRESSES]
        result = self._probe(*(assigned + [
            '127.0.0.1', '::1', '127.0.0.5', '198.51.100.12', '192.0.2.2']))
        found = {ip(a) for a in result['found']}
        for address in assigned + ['127.0.0.1', '::1']:
            self.assertIn(ip(address), found)
            self.assertTrue(result['admitted'][address], address)
        # On lo but not 127.0.0.1; in the subnet but not assigned; the
        # host's own address, outside the namespace.
        for address in ('127.0.0.5', '198.51.100.12', '192.0.2.2'):
            self.assertNotIn(ip(address), found)
            self.assertFalse(result['admitted'][address], address)
        # Exactly what the kernel lists there, but the outside loopbacks.
        kernel = self._kernel_addresses()
        self.assertIn(ip('127.0.0.5'), kernel)  # control: it is assigned
        self.assertEqual({a for a in kernel if not a.is_loopback}
                         | {ip('127.0.0.1'), ip('::1')}, found)

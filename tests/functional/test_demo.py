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

"""tools/demo.py, run as the README's quick start runs it.

Each half runs in a process of its own, as in the demo (Nova's test package
monkey-patches the process it is imported into), so that CI proves the
quick start still works; the interrupt test proves Ctrl-C leaves nothing
behind.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import fixtures
import testtools

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEMO = os.path.join(TOP, 'tools', 'demo.py')
TIMEOUT = 300


def children_of(pid):
    """PIDs whose parent is *pid* (Linux /proc)."""
    found = []
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/status' % entry) as f:
                status = f.read()
        except (OSError, ValueError):
            continue
        if '\nPPid:\t%d\n' % pid in status:
            found.append(int(entry))
    return found


def alive(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            return '\nState:\tZ' not in f.read()
    except OSError:
        return False


class DemoTest(testtools.TestCase):

    def setUp(self):
        super(DemoTest, self).setUp()
        if not shutil.which('memcached'):
            raise RuntimeError('memcached is needed: apt-get install '
                               'memcached (tools/bootstrap.sh does it)')
        # The demo's own temporary directory goes here, to be checked.
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ, TMPDIR=self.tmp)

    def demo(self, *argv):
        proc = subprocess.run(
            [sys.executable, DEMO] + list(argv), env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(0, proc.returncode, proc.stdout)
        self.assertEqual([], os.listdir(self.tmp), 'left behind')
        return proc.stdout

    def test_swift_half(self):
        output = self.demo('--only', 'swift')
        self.assertIn('starting Swift: memcached', output)
        rows = {line.split()[0]: line for line in output.splitlines()
                if line.startswith('  127.0.0.')}
        # Columns: no rule yet, allow-dev:127.0.0.2, allow-dev:127.0.0.2/31.
        allowed, denied = '200 allowed', '403 denied'
        self.assertEqual({
            '127.0.0.1': [allowed, allowed, allowed],
            '127.0.0.2': [denied, allowed, allowed],
            '127.0.0.3': [denied, denied, allowed],
            '127.0.0.4': [denied, denied, denied]},
            {client: re.split(r'\s{2,}', row.strip())[-3:]
             for client, row in rows.items()})
        self.assertIn('denied: 403 You shall not pass!', output)
        self.assertIn('proxy log: ip_whitelist: IP 127.0.0.4 denied access '
                      'to Account=AUTH_test Container=middleware-test',
                      output)
        self.assertIn('check-proxy-pipeline <this proxy>: OK', output)
        self.assertIn('demo finished', output)

    def test_nova_half(self):
        output = self.demo('--only', 'nova')
        self.assertIn('starting fake computes... doc-1 doc-2 ops-1 dev-1 ok',
                      output)
        rows = {line.split()[0]: line.split() for line in output.splitlines()
                if line.startswith(('  10.', '  2001:'))}
        self.assertEqual('doc', rows['10.1.2.3'][1])
        self.assertIn(rows['10.1.2.3'][2], ('doc-1', 'doc-2'))
        self.assertEqual(['ops', 'ops-1'], rows['10.2.0.8'][1:3])
        self.assertEqual(['dev', 'dev-1'], rows['10.10.0.5'][1:3])
        self.assertEqual('doc', rows['2001:db8:1::7'][1])
        resize = rows['10.2.0.50']
        self.assertEqual('doc', resize[2])
        self.assertEqual(
            {'doc-1', 'doc-2'}, {resize[3], resize[5]}, resize)
        self.assertIn('explain-pool 10.10.0.5: OK: the request gets pool '
                      'dev', output)

    def test_interrupt_stops_everything(self):
        proc = subprocess.Popen(
            [sys.executable, DEMO, '--only', 'swift'], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True)
        self.addCleanup(proc.stdout.close)
        output = ''
        deadline = time.monotonic() + TIMEOUT
        # Once the cluster is up: interrupt while it serves.
        while 'creating the container' not in output:
            self.assertLess(time.monotonic(), deadline, output)
            self.assertIsNone(proc.poll(), output)
            output += proc.stdout.read(1)
        servers = children_of(proc.pid)
        self.assertGreaterEqual(len(servers), 5, 'memcached + 4 servers')
        proc.send_signal(signal.SIGINT)
        output += proc.stdout.read()
        self.assertEqual(130, proc.wait(TIMEOUT), output)
        self.assertIn('interrupted: everything started has been stopped',
                      output)
        self.assertEqual([], [pid for pid in servers if alive(pid)])
        self.assertEqual([], os.listdir(self.tmp), 'left behind')

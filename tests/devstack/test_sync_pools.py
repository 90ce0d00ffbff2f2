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

"""The plugin runs sync-pools after stack.sh's discover_hosts.

The stack harness has no databases (sync-pools itself is proven in Nova's
fixtures, tests/functional/nova/test_pool_sync.py): here the plugin's
function runs with DevStack's own ini and boolean helpers, and an
``openstack-ext`` that records how it was called.
"""

import os
import subprocess

import fixtures
import testtools

from tests.devstack import harness

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = """
set -e
source "$DEVSTACK/functions-common"
source "$DEVSTACK/inc/ini-config"
function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ,$ENABLED_SERVICES, == *,$service,* ]] || return 1
    done
}
function get_python_exec_prefix { echo "$FAKE_BIN"; }
source "$TOP/devstack/settings"
source "$TOP/devstack/lib/openstack-ext"
openstack_ext_sync_pools
"""


class SyncPoolsPhaseTest(testtools.TestCase):

    def setUp(self):
        super(SyncPoolsPhaseTest, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.calls = os.path.join(self.dir, 'calls')
        fake = os.path.join(self.dir, 'openstack-ext')
        with open(fake, 'w') as f:
            f.write('#!/bin/bash\necho "$@" >> %s\nexit ${FAKE_STATUS:-0}\n'
                    % self.calls)
        os.chmod(fake, 0o755)
        self.nova_conf = os.path.join(self.dir, 'nova.conf')

    def run_phase(self, host_selection='hostname_prefix',
                  services='n-api,n-cpu,n-sch', **env):
        with open(self.nova_conf, 'w') as f:
            f.write('[ip_pools]\nhost_selection = %s\n' % host_selection)
        environ = dict(os.environ, DEVSTACK=harness.devstack_dir(), TOP=TOP,
                       FAKE_BIN=self.dir, NOVA_CONF=self.nova_conf,
                       ENABLED_SERVICES=services, **env)
        done = subprocess.run(['bash', '-c', SCRIPT], env=environ,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=60)
        try:
            with open(self.calls) as f:
                calls = f.read().splitlines()
            os.unlink(self.calls)
        except FileNotFoundError:
            calls = []
        return done.returncode, calls, done.stdout

    def test_runs_sync_pools_with_nova_conf(self):
        status, calls, _ = self.run_phase()
        self.assertEqual((0, ['sync-pools --config-file %s'
                              % self.nova_conf]), (status, calls))

    def test_not_when_it_has_nothing_to_do(self):
        for kwargs in (dict(host_selection='aggregate_metadata'),
                       dict(services='n-api,n-sch'),
                       dict(OPENSTACK_EXT_NOVA_SYNC_POOLS='False')):
            self.assertEqual((0, []), self.run_phase(**kwargs)[:2], kwargs)

    def test_a_failed_sync_stops_the_stack(self):
        status, calls, output = self.run_phase(FAKE_STATUS='1')
        self.assertNotEqual(0, status)
        self.assertEqual(1, len(calls))
        self.assertIn('openstack-ext sync-pools failed', output)

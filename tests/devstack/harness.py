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

"""Run the DevStack plugin against DevStack-shaped files, without DevStack.

A :class:`Host` is a temporary directory standing for a DevStack host's
filesystem: /etc/nova/nova.conf and /etc/swift/proxy-server.conf as
DevStack writes them (tests/devstack/fixtures), and /etc/nova/api-paste.ini
copied from the installed Nova, as DevStack copies it from Nova's tree.
run_plugin.sh drives devstack/plugin.sh in stack.sh order over it, with
fake_devstack.sh standing for DevStack's functions.
"""

import collections
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, 'fixtures')
RUN_PLUGIN = os.path.join(HERE, 'run_plugin.sh')
PROBE = os.path.join(HERE, 'service_probe.py')

# What the fake DevStack host uses (fake_devstack.sh).
HOST_IP = '192.0.2.10'
HOST_IPV6 = '2001:db8::10'
DEVSTACK_FILTERS = ['ComputeFilter', 'ComputeCapabilitiesFilter',
                    'ImagePropertiesFilter', 'ServerGroupAntiAffinityFilter',
                    'ServerGroupAffinityFilter', 'SameHostFilter',
                    'DifferentHostFilter']
# The pipeline lib/swift writes with keystone enabled (and SWIFT_EXTRAS_*
# at their defaults), double spaces included.
DEVSTACK_PIPELINE = (
    'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats '
    'container_sync bulk tempurl ratelimit crossdomain authtoken keystoneauth '
    'tempauth  formpost staticweb copy container-quotas account-quotas slo '
    'dlo versioned_writes symlink proxy-logging  proxy-server')
# The default gate job's services (tls-proxy on), plus tempest.
GATE_SERVICES = ('key,n-api,n-cpu,n-cond,n-sch,placement-api,g-api,q-svc,'
                 's-proxy,s-object,s-container,s-account,tls-proxy,tempest')

NOVA_CONF = 'etc/nova/nova.conf'
API_PASTE = 'etc/nova/api-paste.ini'
PROXY_CONF = 'etc/swift/proxy-server.conf'
TEMPEST_CONF = 'opt/stack/tempest/etc/tempest.conf'
STATE_DIR = 'opt/stack/data/openstack-ext'


def nova_api_paste():
    """Nova's own etc/nova/api-paste.ini, as installed with Nova."""
    dist = importlib.metadata.distribution('nova')
    for path in dist.files or ():
        if str(path).replace('\\', '/').endswith('etc/nova/api-paste.ini'):
            return os.path.normpath(str(dist.locate_file(path)))
    raise RuntimeError('the installed nova has no etc/nova/api-paste.ini')


def read_ini(path):
    """``{section: {option: [values]}}``, keeping multi-valued options."""
    sections = collections.OrderedDict()
    current = None
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith(('#', ';')):
                continue
            if line.startswith('['):
                current = sections.setdefault(line.strip()[1:-1], {})
                continue
            key, _sep, value = line.partition('=')
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def words(value):
    return value.replace(',', ' ').split()


class Host(object):
    """A fake DevStack host in a temporary directory."""

    def __init__(self, add_cleanup, pipeline=None, edit_nova_conf=None):
        """Lay out the host's files.

        :param add_cleanup: a test's addCleanup, to remove the host.
        :param pipeline: replaces DevStack's proxy pipeline.
        :param edit_nova_conf: a function editing nova.conf's text.
        """
        self.root = tempfile.mkdtemp(prefix='devstack-host-')
        add_cleanup(shutil.rmtree, self.root, True)
        for name in ('etc/nova', 'etc/swift'):
            os.makedirs(self.path(name))
        shutil.copy(os.path.join(FIXTURES, 'nova.conf'), self.path(NOVA_CONF))
        shutil.copy(nova_api_paste(), self.path(API_PASTE))
        with open(os.path.join(FIXTURES, 'proxy-server.conf')) as f:
            proxy = f.read()
        if pipeline is not None:
            proxy = proxy.replace(DEVSTACK_PIPELINE, pipeline)
        with open(self.path(PROXY_CONF), 'w') as f:
            f.write(proxy)
        if edit_nova_conf is not None:
            with open(self.path(NOVA_CONF)) as f:
                text = edit_nova_conf(f.read())
            with open(self.path(NOVA_CONF), 'w') as f:
                f.write(text)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def run(self, mode, check=True, **settings):
        """Run run_plugin.sh <mode>; settings are local.conf variables."""
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
               'HOME': self.root, 'LC_ALL': 'C.UTF-8',
               'FAKE_WORK': self.root}
        env.update(settings)
        result = subprocess.run(['bash', RUN_PLUGIN, mode], env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=60)
        with open(self.path('%s.log' % mode), 'a') as f:
            f.write(result.stdout)
        if check and result.returncode:
            raise AssertionError('run_plugin.sh %s failed (%d):\n%s' % (
                mode, result.returncode, result.stdout[-4000:]))
        return result

    def snapshot(self, label):
        """Directory of the files as they were after phase ``label``."""
        base = self.path('snapshots')
        found = [d for d in sorted(os.listdir(base))
                 if d.split('-', 2)[-1] == label]
        if len(found) != 1:
            raise AssertionError('snapshot %s: %s in %s' % (
                label, found, os.listdir(base)))
        return os.path.join(base, found[0])

    def snapshot_file(self, label, relpath):
        return os.path.join(self.snapshot(label), os.path.basename(relpath))

    def ini(self, relpath, label=None):
        if label is None:
            return read_ini(self.path(relpath))
        return read_ini(self.snapshot_file(label, relpath))

    def text(self, relpath):
        with open(self.path(relpath)) as f:
            return f.read()

    def calls(self):
        try:
            with open(self.path('calls.log')) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def races(self):
        try:
            with open(self.path('races.log')) as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def probe(self, *args):
        return probe(self.root, *args)


def probe(where, *args):
    """Run service_probe.py in its own process; return its JSON.

    :param where: a directory for the probe's scratch files.
    """
    workdir = tempfile.mkdtemp(prefix='probe-', dir=where)
    result = subprocess.run(
        [sys.executable, PROBE, args[0], workdir] + list(args[1:]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, timeout=300, cwd=workdir)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith('PROBE-RESULT '):
            return json.loads(line[len('PROBE-RESULT '):])
    raise AssertionError('service_probe.py %s failed (%d):\n%s\n%s' % (
        ' '.join(args), result.returncode, result.stdout[-3000:],
        result.stderr[-6000:]))

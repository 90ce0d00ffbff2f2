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

"""Run the DevStack plugin inside DevStack's own function library.

A :class:`Host` is a temporary directory standing for a DevStack host's
filesystem: ``devstack/`` (DevStack's tree, linked, plus the test's
local.conf), ``opt/stack`` ($DEST) and ``etc/`` (nova, swift).
run_devstack.sh sources DevStack's functions, stackrc, lib/* and extras.d
and runs the phases in stack.sh's order; DevStack's configure_swift and
configure_nova write the files the plugin edits.

Where DevStack comes from, as a user or a gate job would have it:
``$DEVSTACK_DIR``, else ``../shared/devstack`` beside this repository, else
the gate's checkouts (``/opt/stack/devstack``,
``~/src/opendev.org/openstack/devstack``), else a clone from opendev into
the cache; without any, the tests fail and say how to provide it.
configure_swift copies Swift's sample configuration from Swift's source
tree: ``$SWIFT_SOURCE_DIR``, the gate's checkouts, else the installed
Swift's sdist, fetched with pip into the cache.
"""

import collections
import importlib.metadata
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
RUN_DEVSTACK = os.path.join(HERE, 'run_devstack.sh')
PROBE = os.path.join(HERE, 'service_probe.py')
CACHE = os.environ.get('OPENSTACK_EXT_TEST_CACHE',
                       os.path.join(sys.prefix, 'openstack-ext-test-cache'))
OPENDEV = 'https://opendev.org/openstack/'

# The test host's addresses (local.conf).
HOST_IP = '192.0.2.10'
HOST_IPV6 = '2001:db8::10'
# The default gate job's services (tls-proxy on), plus tempest.
GATE_SERVICES = ('key,mysql,rabbit,n-api,n-cpu,n-cond,n-sch,placement-api,'
                 'g-api,q-svc,s-proxy,s-object,s-container,s-account,'
                 'tls-proxy,tempest')
# One half only (a bad setting of that half stops the stack sooner).
SWIFT_SERVICES = 'key,mysql,s-proxy,s-object,s-container,s-account'
NOVA_SERVICES = 'key,mysql,rabbit,n-api,n-cond,n-sch,placement-api'
PLUGIN_URL = 'https://opendev.org/x/openstack-ext'

NOVA_CONF = 'etc/nova/nova.conf'
API_PASTE = 'etc/nova/api-paste.ini'
PROXY_CONF = 'etc/swift/proxy-server.conf'
TEMPEST_CONF = 'opt/stack/tempest/etc/tempest.conf'
STATE_DIR = 'opt/stack/data/openstack-ext'


class SourceMissing(Exception):
    pass


def _clone(name):
    target = os.path.join(CACHE, name)
    if os.path.isdir(os.path.join(target, '.git')):
        return target
    os.makedirs(CACHE, exist_ok=True)
    result = subprocess.run(
        ['git', 'clone', '--depth', '1', OPENDEV + name, target],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=600)
    if result.returncode:
        shutil.rmtree(target, True)
        return None
    return target


def _first_dir(candidates, marker):
    for path in candidates:
        if path and os.path.isfile(os.path.join(path, marker)):
            return os.path.abspath(path)
    return None


def devstack_dir():
    """DevStack's tree; raise SourceMissing saying how to provide it."""
    candidates = [os.environ.get('DEVSTACK_DIR'),
                  os.path.join(os.path.dirname(TOP), 'shared', 'devstack'),
                  '/opt/stack/devstack',
                  os.path.expanduser('~/src/opendev.org/openstack/devstack')]
    found = _first_dir(candidates, 'stack.sh') or _first_dir(
        [_clone('devstack')], 'stack.sh')
    if not found:
        raise SourceMissing(
            'DevStack is not there: the plugin tests run on its real '
            'function library. Set DEVSTACK_DIR to a DevStack checkout '
            '(git clone %sdevstack), or put one at %s; a clone from '
            'opendev failed (no network?)' % (OPENDEV, candidates[1]))
    return found


def swift_source_dir():
    """Swift's source tree (its etc/*-sample), for configure_swift."""
    marker = os.path.join('etc', 'proxy-server.conf-sample')
    found = _first_dir([os.environ.get('SWIFT_SOURCE_DIR'), '/opt/stack/swift',
                        os.path.expanduser(
                            '~/src/opendev.org/openstack/swift')], marker)
    if found:
        return found
    version = importlib.metadata.version('swift')
    target = os.path.join(CACHE, 'swift-%s' % version)
    if os.path.isfile(os.path.join(target, marker)):
        return target
    os.makedirs(CACHE, exist_ok=True)
    download = tempfile.mkdtemp(dir=CACHE)
    try:
        result = subprocess.run(
            [sys.executable, '-m', 'pip', 'download', '--no-deps',
             '--no-binary', ':all:', '--disable-pip-version-check',
             'swift==%s' % version, '-d', download],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=600)
        tarballs = [f for f in os.listdir(download) if f.endswith('.tar.gz')]
        if result.returncode or not tarballs:
            raise SourceMissing(
                'Swift\'s source tree is not there (configure_swift copies '
                'its etc/proxy-server.conf-sample): set SWIFT_SOURCE_DIR to '
                'a Swift checkout; fetching the swift %s sdist failed:\n%s'
                % (version, result.stdout[-2000:]))
        with tarfile.open(os.path.join(download, tarballs[0])) as tar:
            # Only regular files and directories, inside the target.
            tar.extractall(download, **(
                {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))
        try:
            os.replace(os.path.join(download, 'swift-%s' % version), target)
        except OSError:
            # Another test process got there first.
            if not os.path.isfile(os.path.join(target, marker)):
                raise
    finally:
        shutil.rmtree(download, True)
    return target


def nova_source_dir():
    """A tree with Nova's etc/nova (api-paste.ini), as in Nova's git."""
    paste = nova_api_paste()
    return os.path.dirname(os.path.dirname(os.path.dirname(paste)))


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


def local_conf(root, settings, lines=(), sections=''):
    """The text of a local.conf for a test host under ``root``.

    :param settings: localrc variables, written as bash assignments of
        exactly these values.
    :param lines: more localrc lines (enable_service ..., enable_plugin ...).
    :param sections: more local.conf text ([[post-config|...]] ...).
    """
    base = collections.OrderedDict([
        ('DEST', os.path.join(root, 'opt/stack')),
        ('DATA_DIR', os.path.join(root, 'opt/stack/data')),
        ('SWIFT_CONF_DIR', os.path.join(root, 'etc/swift')),
        ('STACK_USER', subprocess.run(
            ['id', '-un'], stdout=subprocess.PIPE,
            universal_newlines=True).stdout.strip()),
        ('HOST_IP', HOST_IP), ('HOST_IPV6', HOST_IPV6),
        ('ENABLED_SERVICES', GATE_SERVICES),
        ('ADMIN_PASSWORD', 'secret'), ('DATABASE_PASSWORD', 'secret'),
        ('RABBIT_PASSWORD', 'secret'), ('SERVICE_PASSWORD', 'secret'),
        ('SWIFT_HASH', '66a3d6b56c1f479c8b4e70ab5c2000f5'),
        # The package is installed in this venv: DevStack's global venv.
        ('GLOBAL_VENV', 'True'), ('DEVSTACK_VENV', sys.prefix),
        # No databases here (nor DevStack's discover_hosts): the plugin's
        # sync-pools step is tested on its own (test_sync_pools.py).
        ('OPENSTACK_EXT_NOVA_SYNC_POOLS', 'False'),
    ])
    base.update(settings)
    text = ['[[local|localrc]]']
    text += ['%s=%s' % (k, shlex.quote(v)) for k, v in base.items()
             if v is not None]
    text += list(lines)
    if not any(line.startswith('enable_plugin openstack-ext')
               for line in lines):
        text.append('enable_plugin openstack-ext %s' % PLUGIN_URL)
    return '\n'.join(text) + '\n' + sections


class Host(object):
    """A DevStack host in a temporary directory."""

    def __init__(self, add_cleanup, lines=(), sections='', **settings):
        """Lay out the host; the arguments are its local.conf.

        :param add_cleanup: a test's addCleanup, to remove the host.
        :param lines, sections, settings: see :func:`local_conf`.
        """
        self.root = tempfile.mkdtemp(prefix='devstack-host-')
        add_cleanup(shutil.rmtree, self.root, True)
        os.makedirs(self.path('devstack'))
        self.write_local_conf(lines, sections, **settings)

    def write_local_conf(self, lines=(), sections='', **settings):
        with open(self.path('devstack', 'local.conf'), 'w') as f:
            f.write(local_conf(self.root, settings, lines, sections))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def run(self, mode, check=True, **env):
        """Run run_devstack.sh <mode>; ``env``: the probes' variables.

        Returns ``returncode`` and ``stdout`` (with stderr). The run has a
        process group of its own, ended once the script is: a stack stopped
        by die leaves DevStack's async jobs behind, as stack.sh does.
        """
        environ = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                   'HOME': self.root, 'LC_ALL': 'C.UTF-8',
                   'OPENSTACK_EXT_TEST_WORK': self.root,
                   'DEVSTACK_DIR': devstack_dir(),
                   'SWIFT_SOURCE_DIR': swift_source_dir(),
                   'NOVA_SOURCE_DIR': nova_source_dir()}
        environ.update(env)
        log = self.path('%s.log' % mode)
        with open(log, 'a') as f:
            start = f.tell()
            process = subprocess.Popen(
                ['bash', RUN_DEVSTACK, mode], env=environ, stdout=f,
                stderr=subprocess.STDOUT, start_new_session=True)
            try:
                returncode = process.wait(timeout=600)
            finally:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        with open(log) as f:
            f.seek(start)
            result = types.SimpleNamespace(returncode=returncode,
                                           stdout=f.read())
        if check and result.returncode:
            raise AssertionError('run_devstack.sh %s failed (%d):\n%s' % (
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

    def text(self, relpath, label=None):
        path = (self.path(relpath) if label is None
                else self.snapshot_file(label, relpath))
        with open(path) as f:
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


def glob_in_devstack(value):
    """``echo $value`` as DevStack's iniset runs it, in DevStack's tree."""
    return subprocess.run(['bash', '-c', 'echo $1', '_', value],
                          cwd=devstack_dir(), stdout=subprocess.PIPE,
                          universal_newlines=True).stdout

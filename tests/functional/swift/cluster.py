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

"""A real Swift cluster on loopback, for tests, the demo and benchmarks.

memcached, one account, container and object server (or, with
``replicas=3``, three of each in three zones: ``account``, ``account-2``,
``account-3``...) and any number of proxies (each with its own pipeline and
port, sharing the backends and memcache) run as child processes of the
caller, in a temporary directory.
Nothing needs root or /etc/swift; everything listens on loopback only.

    with SwiftCluster({'main': ProxySpec(whitelist={'deny_message': 'No'})}) \
            as cluster:
        resp = cluster.request('GET', '/info', source='127.0.0.2')

Every wait is bounded; a server that does not come up fails the start with
the tail of its log.
"""

import ctypes
import hashlib
import http.client
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import fixtures
from swift.common.ring import Ring
from swift.common.ring import RingBuilder
from swift.common import utils

BIN = os.path.dirname(sys.executable)
# Servers can load test-only filters from this repository (tests.*).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
SERVER_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    filter(None, [REPO, os.environ.get('PYTHONPATH')])))
BACKENDS = ('account', 'container', 'object')

# The order the lead chose: after tempurl and auth (so the owner is known),
# before everything that makes subrequests on the client's behalf.
PIPELINE = (
    'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats '
    'tempurl ratelimit tempauth ip_whitelist bulk formpost staticweb copy '
    'container-quotas account-quotas slo dlo versioned_writes symlink '
    'proxy-logging proxy-server')
PLAIN_PIPELINE = PIPELINE.replace(' ip_whitelist', '')

ACCOUNT = 'AUTH_test'
ACCOUNT2 = 'AUTH_test2'
OWNER, USER3, OWNER2 = 'test:tester', 'test:tester3', 'test2:tester2'
RESELLER = 'admin:admin'  # tempauth .reseller_admin: an owner everywhere
PASSWORDS = {OWNER: 'testing', USER3: 'testing3', OWNER2: 'testing2',
             RESELLER: 'admin'}

# Filters that need no options; any of them may be left out of a pipeline.
SIMPLE_FILTERS = (
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging',
    'listing_formats', 'bulk', 'tempurl', 'ratelimit', 'formpost',
    'staticweb', 'copy', 'container-quotas', 'account-quotas', 'slo', 'dlo',
    'symlink', 's3api')


# Below Linux's ephemeral range (32768-60999): a port the kernel hands
# out for outgoing connections could be taken again between this check
# and the server's bind, which loaded test runs hit.
_PORTS = (20000, 32000)
# Ports handed out by this process, each held by a name in Linux's
# abstract socket namespace until the process ends (no file to leave
# behind): test workers running side by side could otherwise find the
# same port free before either server binds it, and one worker's
# requests then reach the other's server.
_claimed = []


def _claim(port):
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind('\0openstack-ext-test-port-%d' % port)
    except OSError:
        lock.close()
        return False  # another live process holds it
    _claimed.append(lock)
    return True


def free_port(host='127.0.0.1'):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    for _attempt in range(100):
        port = random.randint(*_PORTS)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        if _claim(port):
            return port
    raise RuntimeError('no free port in %d-%d' % _PORTS)


def _tmp_root():
    # Object metadata lives in xattrs: ext4 caps them near 3.5 KB (SLO
    # manifests, many headers → 507), tmpfs allows far more.
    return '/dev/shm' if os.access('/dev/shm', os.W_OK) else None


def _die_with_parent():
    # Servers must not outlive a test run that is killed before cleanUp.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: cleanUp still stops everything


def _ini(sections):
    out = []
    for title, options in sections:
        out.append('[%s]' % title)
        out.extend('%s = %s' % item for item in options.items())
        out.append('')
    return '\n'.join(out)


class Response(tuple):
    """``(status, headers, body)``; ``complete`` is False on a cut body."""

    def __new__(cls, status, headers, body, complete=True):
        self = super(Response, cls).__new__(cls, (status, headers, body))
        self.complete = complete
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])

    def __repr__(self):
        return '<Response %s %r%s>' % (
            self.status, self.body[:200], '' if self.complete else ' CUT')


class ProxySpec(object):
    """How one proxy differs from the others.

    :param whitelist: options of ``[filter:ip_whitelist]``.
    :param app: extra options of ``[app:proxy-server]`` (recheck times...).
    :param statsd_port: send Swift's statsd metrics to 127.0.0.1:port.
    :param bind_ip: ``::`` makes IPv4 clients appear IPv4-mapped.
    :param extra_sections: more ``(section, options)`` for the config.
    """

    def __init__(self, pipeline=PIPELINE, whitelist=None, app=None,
                 statsd_port=None, bind_ip='127.0.0.1', log_level='DEBUG',
                 extra_sections=()):
        self.extra_sections = list(extra_sections)
        self.pipeline = pipeline
        self.whitelist = dict(whitelist or {})
        self.app = dict(app or {})
        self.statsd_port = statsd_port
        self.bind_ip = bind_ip
        self.log_level = log_level


class SwiftCluster(fixtures.Fixture):
    """See the module docstring. ``proxies`` maps names to ProxySpec."""

    def __init__(self, proxies=None, start_timeout=30, env=None,
                 replicas=1):
        """:param env: more environment variables for every server.

        :param replicas: copies of each account, container and object, each
            on a server of its own (in a zone of its own).
        """
        super(SwiftCluster, self).__init__()
        self.replicas = replicas
        self.specs = dict(proxies or {'main': ProxySpec()})
        self.start_timeout = start_timeout
        self.env = dict(SERVER_ENV, **(env or {}))
        self._tokens = {}

    # -- life cycle -------------------------------------------------------

    def _setUp(self):
        self.dir = tempfile.mkdtemp(prefix='swift-cluster-', dir=_tmp_root())
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.procs, self.ports, self.argv, self.hosts = {}, {}, {}, {}
        self.addCleanup(self._stop_all)
        with open(os.path.join(self.dir, 'swift.conf'), 'w') as f:
            f.write(_ini([
                ('swift-hash', {'swift_hash_path_prefix': 'pre',
                                'swift_hash_path_suffix': 'suf'}),
                ('storage-policy:0', {'name': 'gold', 'default': 'yes'})]))
        self.ports['memcached'] = free_port()
        self.hosts['memcached'] = '127.0.0.1'
        self.argv['memcached'] = [
            'memcached', '-l', '127.0.0.1', '-p', str(self.ports['memcached']),
            '-U', '0', '-t', '1', '-m', '32', '-u', pwd.getpwuid(
                os.getuid()).pw_name]
        for kind in BACKENDS:
            for name in self.servers(kind):
                self.ports[name] = free_port()
                self.hosts[name] = '127.0.0.1'
                os.makedirs(os.path.join(self._devices(name), 'sdb1'),
                            exist_ok=True)
                self._write_backend_conf(name, kind)
            self._build_ring(kind)
        # Everything starts in parallel; only then wait, so the start costs
        # one interpreter start-up, not six.
        for name in ('memcached',) + self.backend_names():
            self._spawn(name)
        for name, spec in self.specs.items():
            self.start_proxy(name, spec, wait=False)
        for name in list(self.argv):
            self._wait_up(name)

    def servers(self, kind):
        """Names of the servers of *kind* (``'container'``...)."""
        return (kind,) + tuple('%s-%d' % (kind, number)
                               for number in range(2, self.replicas + 1))

    def backend_names(self):
        return tuple(name for kind in BACKENDS for name in self.servers(kind))

    def _devices(self, name):
        return os.path.join(self.dir, 'node' if name in BACKENDS else
                            'node-' + name)

    def _build_ring(self, kind):
        builder = RingBuilder(4, self.replicas, 0)
        for number, name in enumerate(self.servers(kind)):
            builder.add_dev({'id': number, 'region': 1, 'zone': number + 1,
                             'weight': 1, 'ip': '127.0.0.1',
                             'port': self.ports[name], 'device': 'sdb1'})
        builder.rebalance()
        builder.get_ring().save(
            os.path.join(self.dir, '%s.ring.gz' % kind))

    def primaries(self, kind, account, container=None):
        """``(partition, nodes)`` of a holder in this cluster's *kind* ring."""
        utils.set_swift_dir(self.dir)  # its swift.conf's hash path
        return Ring(self.dir, ring_name=kind).get_nodes(account, container)

    def server_of(self, node):
        """The name of the server of a ring *node* (a dict)."""
        return next(name for name in self.backend_names()
                    if self.ports[name] == node['port'])

    def _default_section(self, name, bind_ip, log_level='INFO'):
        return {'bind_ip': bind_ip, 'bind_port': self.ports[name],
                'workers': 0, 'swift_dir': self.dir,
                'devices': self._devices(name),
                'mount_check': 'false', 'disable_fallocate': 'true',
                'user': pwd.getpwuid(os.getuid()).pw_name,
                'log_level': log_level}

    def _write_backend_conf(self, name, kind):
        server = '%s-server' % kind
        self._write_conf(name, _ini([
            ('DEFAULT', self._default_section(name, '127.0.0.1')),
            ('pipeline:main', {'pipeline': server}),
            ('app:' + server, {'use': 'egg:swift#' + kind})]))
        self.argv[name] = [os.path.join(BIN, 'swift-' + server),
                           self.conf_path(name), '-v']

    def conf_path(self, name):
        return os.path.join(self.dir, '%s.conf' % name)

    def internal_client_conf(self):
        """An ``internal-client.conf`` for this cluster.

        As Swift's daemons use one: the proxy app, no auth, the cluster's
        memcache.
        """
        path = self.conf_path('internal-client')
        self._write_conf('internal-client', _ini([
            ('DEFAULT', {'swift_dir': self.dir, 'log_level': 'INFO'}),
            ('pipeline:main', {
                'pipeline': 'catch_errors proxy-logging cache proxy-server'}),
            ('app:proxy-server', {'use': 'egg:swift#proxy',
                                  'account_autocreate': 'true'}),
            ('filter:cache', {
                'use': 'egg:swift#memcache',
                'memcache_servers': '127.0.0.1:%d' % self.ports['memcached']}),
            ('filter:catch_errors', {'use': 'egg:swift#catch_errors'}),
            ('filter:proxy-logging', {'use': 'egg:swift#proxy_logging'})]))
        return path

    def _write_conf(self, name, text):
        with open(self.conf_path(name), 'w') as f:
            f.write(text)

    def proxy_conf(self, name, spec):
        """The text of proxy *name*'s configuration file."""
        default = self._default_section(name, spec.bind_ip, spec.log_level)
        if spec.statsd_port:
            default.update(log_statsd_host='127.0.0.1',
                           log_statsd_port=spec.statsd_port)
        app = {'use': 'egg:swift#proxy', 'account_autocreate': 'true'}
        app.update(spec.app)
        sections = [
            ('DEFAULT', default),
            ('pipeline:main', {'pipeline': spec.pipeline}),
            ('app:proxy-server', app),
            ('filter:tempauth', {
                'use': 'egg:swift#tempauth',
                'user_test_tester': 'testing .admin',
                'user_test_tester3': 'testing3',
                'user_test2_tester2': 'testing2 .admin',
                'user_admin_admin': 'admin .admin .reseller_admin'}),
            ('filter:cache', {
                'use': 'egg:swift#memcache',
                'memcache_servers': '127.0.0.1:%d' % self.ports['memcached']}),
            ('filter:versioned_writes', {
                'use': 'egg:swift#versioned_writes',
                'allow_versioned_writes': 'true',
                'allow_object_versioning': 'true'}),
            ('filter:ip_whitelist', dict(
                {'use': 'egg:openstack_ext#ip_whitelist'}, **spec.whitelist)),
        ]
        sections.extend(('filter:' + f, {'use': 'egg:swift#' + f.replace(
            '-', '_')}) for f in SIMPLE_FILTERS)
        sections.extend(spec.extra_sections)
        return _ini(sections)

    def start_proxy(self, name, spec=None, wait=True):
        """Start (or add) proxy *name*; ``wait=False`` returns at once."""
        spec = spec or self.specs[name]
        self.specs[name] = spec
        host = '::' if spec.bind_ip == '::' else spec.bind_ip
        self.ports[name] = free_port(host)
        self.hosts[name] = spec.bind_ip
        self._write_conf(name, self.proxy_conf(name, spec))
        self.argv[name] = [os.path.join(BIN, 'swift-proxy-server'),
                           self.conf_path(name), '-v']
        self._spawn(name)
        if wait:
            self._wait_up(name)

    def _spawn(self, name):
        log = open(self.log_path(name), 'ab')
        with log:
            # A session of its own: stop_server signals exactly this group.
            self.procs[name] = subprocess.Popen(
                self.argv[name], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                cwd=self.dir, preexec_fn=_die_with_parent, env=self.env)

    def _wait_up(self, name):
        deadline = time.monotonic() + self.start_timeout
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError('%s exited (%s) at start:\n%s' % (
                    name, proc.returncode, self.log_tail(name)))
            try:
                socket.create_connection(
                    (self._connect_host(name, '127.0.0.1'), self.ports[name]),
                    timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('%s not listening after %ss:\n%s' % (
            name, self.start_timeout, self.log_tail(name)))

    def wait_exit(self, name, timeout=30):
        """Return the exit status of a server expected to stop by itself."""
        try:
            return self.procs[name].wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError('%s still running after %ss:\n%s' % (
                name, timeout, self.log_tail(name)))

    def stop_server(self, name, timeout=10):
        if name == 'memcached':
            self._tokens.clear()  # tempauth keeps its tokens there
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue

    def start_server(self, name):
        """Restart a stopped server on its old port (rings stay valid).

        A no-op when it runs, so tests can register it as a cleanup.
        """
        if self.procs[name].poll() is None:
            return
        self._spawn(name)
        self._wait_up(name)

    def _stop_all(self):
        for name in list(self.procs):
            self.stop_server(name)

    # -- logs ---------------------------------------------------------------

    def log_path(self, name):
        return os.path.join(self.dir, '%s.log' % name)

    def log_text(self, name, since=0):
        with open(self.log_path(name), 'rb') as f:
            f.seek(since)
            return f.read().decode('utf-8', 'replace')

    def log_mark(self, name):
        """Current end of *name*'s log: pass it as ``since`` later."""
        return os.path.getsize(self.log_path(name))

    def log_tail(self, name, lines=30):
        return '\n'.join(self.log_text(name).splitlines()[-lines:])

    def wait_for_log(self, name, needle, since=0, timeout=5):
        """Return the log text since *since* once it contains *needle*."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(name, since)
            if needle in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    # -- clients ------------------------------------------------------------

    def _connect_host(self, name, source):
        host = self.hosts[name]
        if host == '::':
            return '::1' if ':' in source else '127.0.0.1'
        return host

    def proxy_url(self, name='main'):
        host = self._connect_host(name, '127.0.0.1')
        if ':' in host:
            host = '[%s]' % host
        return 'http://%s:%d' % (host, self.ports[name])

    def request(self, method, path, headers=None, body=None,
                source='127.0.0.2', proxy='main', timeout=20):
        """Send one request from address *source*; return a Response."""
        conn = http.client.HTTPConnection(
            self._connect_host(proxy, source), self.ports[proxy],
            source_address=(source, 0), timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            try:
                return Response(resp.status, resp.msg, resp.read())
            except http.client.IncompleteRead as err:
                # A segmented GET that fails after its first segment ends
                # the body early: keep what arrived, it must be checked too.
                return Response(resp.status, resp.msg, err.partial, False)
        finally:
            conn.close()

    def token(self, user=OWNER, refresh=False, timeout=10):
        """A tempauth token for *user* (``account:user``), cached."""
        if refresh or user not in self._tokens:
            # tempauth answers 5xx while its memcached is unreachable, e.g.
            # just after a restart: retry that, for a bounded time only.
            deadline = time.monotonic() + timeout
            while True:
                resp = self.request('GET', '/auth/v1.0', headers={
                    'X-Auth-User': user, 'X-Auth-Key': PASSWORDS[user]},
                    source='127.0.0.1', proxy=next(iter(self.specs)))
                if resp.status < 500 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if resp.status // 100 != 2:
                raise RuntimeError('login of %s failed: %r' % (user, resp))
            self._tokens[user] = resp.headers['X-Auth-Token']
        return self._tokens[user]

    def _memcache(self, command):
        with socket.create_connection(
                ('127.0.0.1', self.ports['memcached']), timeout=5) as sock:
            sock.sendall(command + b'\r\n')
            return sock.recv(64)

    def flush_memcache(self):
        """Forget cached container/account info (and tokens) everywhere."""
        if not self._memcache(b'flush_all').startswith(b'OK'):
            raise RuntimeError('memcached did not flush')
        self._tokens.clear()

    def forget_info(self, account, container=None):
        """Drop the cached info of one account or container only."""
        # swift.proxy.controllers.base.get_cache_key, stored md5-hashed.
        self.forget_key('account/' + account if container is None else
                        'container/%s/%s' % (account, container))

    def _memcache_listing(self, command):
        """memcached's answer to *command*, up to its closing ``END``."""
        with socket.create_connection(
                ('127.0.0.1', self.ports['memcached']), timeout=5) as sock:
            sock.sendall(command + b'\r\n')
            data = b''
            while not data.endswith(b'END\r\n'):
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError('memcached closed: %r' % data[:80])
                data += chunk
        return data

    def memcache_value(self, key):
        """What memcached holds under *key* (named as Swift names it).

        Decoded as Swift's MemcacheRing decodes the values it sets (JSON);
        ``None`` when there is none.
        """
        digest = hashlib.md5(key.encode(), usedforsecurity=False)
        data = self._memcache_listing(b'get ' + digest.hexdigest().encode())
        if data == b'END\r\n':
            return None
        header, _, rest = data.partition(b'\r\n')
        length = int(header.split()[3])
        return json.loads(rest[:length])

    def memcache_gets(self, stat='cmd_get'):
        """How many keys memcached has been asked for since it started.

        :param stat: ``cmd_set``: how many it has been given.
        """
        for line in self._memcache_listing(b'stats').decode().splitlines():
            if line.startswith('STAT %s ' % stat):
                return int(line.split()[2])
        raise RuntimeError('memcached did not count its gets')

    def forget_key(self, key):
        """Drop one memcache entry, named as Swift's MemcacheRing names it."""
        digest = hashlib.md5(key.encode(), usedforsecurity=False)
        self._memcache(b'delete ' + digest.hexdigest().encode())


class StatsdListener(fixtures.Fixture):
    """A UDP socket on 127.0.0.1 that collects statsd datagrams."""

    def _setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.bind(('127.0.0.1', 0))
        self.port = self.sock.getsockname()[1]
        self.received = []

    def wait_for(self, needle, timeout=5):
        """Return the datagrams received so far that contain *needle*."""
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in self.received if needle in d]
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.received.extend(data.decode('utf-8', 'replace').split('\n'))

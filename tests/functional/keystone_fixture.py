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

"""A real Keystone on loopback, for tests.

The ``keystone`` package from PyPI (a test requirement only), with a
temporary sqlite database and fernet and credential key repositories, set
up by ``keystone-manage`` (``db_sync``, ``fernet_setup``,
``credential_setup``, ``bootstrap``) and served by a child process on a
free 127.0.0.1 port::

    with KeystoneFixture() as keystone:
        project = keystone.create_project('p')
        keystone.create_user('alice', 'pw', project, ['member'])
        token = keystone.token('alice')

``keystone-manage`` runs once per test process; each fixture starts from a
copy of what it made, with servers of its own. Projects, users and roles
are made through Keystone's API, as an admin with a system-scoped token.
With ``expiring=True``, ``expiring_token`` comes from a second server on
the same database and keys whose tokens live a few seconds, so that a test
can hold a genuinely expired token. Every wait is bounded; a server that
does not come up fails the start with the tail of its log, and everything
is stopped and removed on cleanup (or when the test process dies).
"""

import atexit
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import fixtures

from tests.functional.swift import cluster

ADMIN_PASSWORD = 'keystone-admin'
DOMAIN = 'default'
# bcrypt's minimum: a login costs milliseconds instead of a quarter second.
PASSWORD_HASH_ROUNDS = 4
EXPIRING_TOKEN_SECONDS = 8


def _keystone_conf(top, log_name, expiration=3600):
    return cluster._ini([
        ('DEFAULT', {'log_file': os.path.join(top, log_name),
                     'debug': 'false'}),
        ('database', {'connection': 'sqlite:///' + os.path.join(
            top, 'keystone.db')}),
        ('fernet_tokens', {'key_repository': os.path.join(top, 'fernet')}),
        ('fernet_receipts', {'key_repository': os.path.join(top, 'fernet')}),
        ('credential', {'key_repository': os.path.join(top, 'credential')}),
        ('identity', {'password_hash_rounds': PASSWORD_HASH_ROUNDS}),
        ('token', {'expiration': expiration}),
    ])


def serve(port):
    """Serve Keystone's WSGI application on 127.0.0.1:*port* (child)."""
    import socketserver
    from wsgiref import simple_server

    from keystone.server import wsgi  # OS_KEYSTONE_CONFIG_FILES

    class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
        daemon_threads = True

    class Handler(simple_server.WSGIRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write('%s %s\n' % (self.client_address[0],
                                          fmt % args))

    app = wsgi.initialize_public_application()
    simple_server.make_server('127.0.0.1', port, app, Server,
                              Handler).serve_forever()


class KeystoneError(RuntimeError):
    pass


def _manage(top, *argv):
    log = open(os.path.join(top, 'manage-%s.log' % argv[0]), 'wb')
    with log:
        return subprocess.Popen(
            [os.path.join(cluster.BIN, 'keystone-manage'), '--config-file',
             os.path.join(top, 'keystone.conf')] + list(argv),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=top, preexec_fn=cluster._die_with_parent,
            env=cluster.SERVER_ENV)


def _wait_manage(top, procs, timeout):
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            status = proc.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            status = 'timeout'
        if status != 0:
            step = proc.args[3]
            with open(os.path.join(top, 'manage-%s.log' % step), 'rb') as f:
                tail = f.read()[-3000:].decode('utf-8', 'replace')
            raise KeystoneError('keystone-manage %s: %s\n%s'
                                % (step, status, tail))


_TEMPLATE = {}


def _template(timeout):
    """A bootstrapped database and key repositories, made once a process.

    ``keystone-manage`` is four interpreter starts: each fixture copies
    this instead (a class of tests per fixture, several per process).
    """
    if 'dir' not in _TEMPLATE:
        top = tempfile.mkdtemp(prefix='keystone-template-',
                               dir=cluster._tmp_root())
        try:
            for name in ('fernet', 'credential'):
                os.mkdir(os.path.join(top, name), 0o700)
            with open(os.path.join(top, 'keystone.conf'), 'w') as f:
                f.write(_keystone_conf(top, 'manage.log'))
            user = ['--keystone-user', str(os.getuid()),
                    '--keystone-group', str(os.getgid())]
            # The key repositories do not need the database: all at once.
            _wait_manage(top, [_manage(top, 'db_sync'),
                               _manage(top, 'fernet_setup', *user),
                               _manage(top, 'credential_setup', *user)],
                         timeout)
            # The endpoint's port is each fixture's: it sets the URL.
            _wait_manage(top, [_manage(
                top, 'bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                '--bootstrap-public-url', 'http://127.0.0.1:5000/v3',
                '--bootstrap-internal-url', 'http://127.0.0.1:5000/v3',
                '--bootstrap-region-id', 'RegionOne')], timeout)
        except BaseException:
            shutil.rmtree(top, True)
            raise
        atexit.register(shutil.rmtree, top, True)
        _TEMPLATE['dir'] = top
    return _TEMPLATE['dir']


def password_of(user):
    """The password the fixture gives *user*."""
    return 'pw-' + user


_SNAPSHOTS = {}


class KeystoneFixture(fixtures.Fixture):
    """See the module docstring.

    :param identities: ``{user: (project, [role, ...])}`` to create (with
        the projects, and the roles that do not exist yet) through the API.
        The first fixture of a process that creates a given set keeps a
        snapshot of the database; the next ones start from it.
    :param expiring: also start the server of short-lived tokens.
    :param start_timeout: seconds each ``keystone-manage`` step and each
        server start may take.
    """

    def __init__(self, identities=None, expiring=False, start_timeout=180):
        super(KeystoneFixture, self).__init__()
        self.identities = dict(identities or {})
        self.expiring = expiring
        self.start_timeout = start_timeout

    def _setUp(self):
        started = time.monotonic()
        key = tuple(sorted((user, project, tuple(roles)) for user, (
            project, roles) in self.identities.items()))
        snapshot = _SNAPSHOTS.get(key)
        source = snapshot or _template(self.start_timeout)
        self.dir = tempfile.mkdtemp(prefix='keystone-',
                                    dir=cluster._tmp_root())
        self.addCleanup(shutil.rmtree, self.dir, True)
        for name in ('fernet', 'credential'):
            shutil.copytree(os.path.join(source, name),
                            os.path.join(self.dir, name))
        shutil.copy(os.path.join(source, 'keystone.db'), self.dir)
        self.procs, self.ports = {}, {}
        self.addCleanup(self._stop_all)
        self._tokens, self._ids, self._passwords = {}, {}, {}
        self._role_ids = {}
        servers = {'main': 3600}
        if self.expiring:
            servers['expiring'] = EXPIRING_TOKEN_SECONDS
        for name, expiration in servers.items():
            self.ports[name] = cluster.free_port()
            with open(self.conf_path(name), 'w') as f:
                f.write(_keystone_conf(self.dir, '%s.log' % name,
                                       expiration))
            self._spawn(name)
        self.url = 'http://127.0.0.1:%d' % self.ports['main']
        for name in servers:
            self._wait_up(name)
        self.admin_token = self._login({
            'user': {'name': 'admin', 'domain': {'id': DOMAIN},
                     'password': ADMIN_PASSWORD}}, {'system': {'all': True}})
        for endpoint in self.admin('GET', '/v3/endpoints')['endpoints']:
            self.admin('PATCH', '/v3/endpoints/' + endpoint['id'], {
                'endpoint': {'url': self.url + '/v3'}})
        if snapshot:
            with open(os.path.join(snapshot, 'ids.json')) as f:
                self._ids, self._passwords = json.load(f)
        else:
            self._create_identities()
            _SNAPSHOTS[key] = self._snapshot()
        self.setup_seconds = time.monotonic() - started

    def _create_identities(self):
        for project in sorted({p for p, _r in self.identities.values()}):
            self.create_project(project)
        for user, (project, roles) in sorted(self.identities.items()):
            self.create_user(user, password_of(user), self.id_of(project),
                             roles)

    def _snapshot(self):
        """Copy the database (online backup) and keys; return the copy."""
        top = tempfile.mkdtemp(prefix='keystone-snapshot-',
                               dir=cluster._tmp_root())
        atexit.register(shutil.rmtree, top, True)
        for name in ('fernet', 'credential'):
            shutil.copytree(os.path.join(self.dir, name),
                            os.path.join(top, name))
        live = sqlite3.connect(os.path.join(self.dir, 'keystone.db'))
        copy = sqlite3.connect(os.path.join(top, 'keystone.db'))
        with live, copy:
            live.backup(copy)
        live.close()
        copy.close()
        with open(os.path.join(top, 'ids.json'), 'w') as f:
            json.dump([self._ids, self._passwords], f)
        return top

    def conf_path(self, name):
        return os.path.join(self.dir, '%s.conf' % name)

    def log_path(self, name):
        return os.path.join(self.dir, '%s.log' % name)

    def _spawn(self, name):
        env = dict(cluster.SERVER_ENV,
                   OS_KEYSTONE_CONFIG_FILES=self.conf_path(name))
        log = open(self.log_path(name), 'ab')
        with log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, '-c',
                 'from tests.functional import keystone_fixture as k; '
                 'k.serve(%d)' % self.ports[name]],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                cwd=self.dir, preexec_fn=cluster._die_with_parent, env=env)

    def _wait_up(self, name):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise KeystoneError('keystone %s exited at start:\n%s' % (
                    name, self.log_tail(name)))
            try:
                if self._call('GET', '/v3', port=self.ports[name])[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise KeystoneError('keystone %s not answering after %ss:\n%s' % (
            name, self.start_timeout, self.log_tail(name)))

    def _stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait(10)

    def log_tail(self, name, lines=30):
        with open(self.log_path(name), 'rb') as f:
            text = f.read().decode('utf-8', 'replace')
        return '\n'.join(text.splitlines()[-lines:])

    # -- the API --------------------------------------------------------

    def _call(self, method, path, body=None, headers=None, port=None):
        """``(status, headers, decoded JSON or None)`` of one request."""
        conn = http.client.HTTPConnection(
            '127.0.0.1', port or self.ports['main'], timeout=30)
        try:
            headers = dict(headers or {})
            if body is not None:
                body = json.dumps(body)
                headers['Content-Type'] = 'application/json'
            conn.request(method, path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            return (resp.status, resp.msg,
                    json.loads(data) if data.strip() else None)
        finally:
            conn.close()

    def admin(self, method, path, body=None, expect=(200, 201, 204)):
        status, headers, data = self._call(
            method, path, body, {'X-Auth-Token': self.admin_token})
        if status not in expect:
            raise KeystoneError('%s %s: %s %s' % (method, path, status, data))
        return data

    def _login(self, identity, scope, port=None):
        status, headers, data = self._call('POST', '/v3/auth/tokens', {
            'auth': {'identity': {'methods': ['password'],
                                  'password': identity},
                     'scope': scope}}, port=port)
        if status != 201:
            raise KeystoneError('login failed: %s %s' % (status, data))
        return headers['X-Subject-Token']

    def create_project(self, name):
        """Create project *name*; return its id."""
        project = self.admin('POST', '/v3/projects', {'project': {
            'name': name, 'domain_id': DOMAIN}})['project']
        self._ids[name] = project['id']
        return project['id']

    def role_id(self, name):
        """The id of role *name*, created when it does not exist."""
        if name not in self._role_ids:
            found = self.admin('GET', '/v3/roles?name=' + name)['roles']
            self._role_ids[name] = found[0]['id'] if found else self.admin(
                'POST', '/v3/roles', {'role': {'name': name}})['role']['id']
        return self._role_ids[name]

    def create_user(self, name, password, project_id, roles):
        """Create user *name* with *roles* on *project_id*; return its id."""
        user = self.admin('POST', '/v3/users', {'user': {
            'name': name, 'password': password, 'domain_id': DOMAIN,
            'default_project_id': project_id}})['user']
        for role in roles:
            self.admin('PUT', '/v3/projects/%s/users/%s/roles/%s' % (
                project_id, user['id'], self.role_id(role)))
        self._ids[name] = user['id']
        self._passwords[name] = (password, project_id)
        return user['id']

    def id_of(self, name):
        """The id of a project or user this fixture created."""
        return self._ids[name]

    def _user_login(self, user, port=None):
        password, project_id = self._passwords[user]
        return self._login(
            {'user': {'name': user, 'domain': {'id': DOMAIN},
                      'password': password}},
            {'project': {'id': project_id}}, port)

    def token(self, user, refresh=False):
        """A token of *user* scoped to its project, cached."""
        if refresh or user not in self._tokens:
            self._tokens[user] = self._user_login(user)
        return self._tokens[user]

    def new_token(self, user):
        """A fresh token of *user*, not shared with other callers."""
        return self._user_login(user)

    def expiring_token(self, user):
        """A fresh token of *user* that expires after a few seconds."""
        return self._user_login(user, self.ports['expiring'])

    def revoke(self, token):
        """Revoke *token* (``DELETE /v3/auth/tokens``)."""
        status, _headers, data = self._call(
            'DELETE', '/v3/auth/tokens', headers={
                'X-Auth-Token': self.admin_token, 'X-Subject-Token': token})
        if status != 204:
            raise KeystoneError('revoking a token: %s %s' % (status, data))

    def validates(self, token):
        """Whether Keystone itself accepts *token* now."""
        return self._call('GET', '/v3/auth/tokens', headers={
            'X-Auth-Token': self.admin_token,
            'X-Subject-Token': token})[0] == 200

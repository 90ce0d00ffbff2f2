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

"""A real Swift cluster behind a real Keystone: authtoken + keystoneauth.

One Keystone (:mod:`tests.functional.keystone_fixture`) and one cluster per
test class, with three proxies sharing the backends and memcache:

``devstack``
    DevStack's pipeline order (``lib/swift`` with the plugin's
    ``ip_whitelist`` after ``keystoneauth``): ``bulk`` comes before
    authentication, so before the whitelist.
``main``
    The order the middleware's manual recommends.
``strict``
    ``main`` with ``delay_auth_decision = false``: authtoken itself
    answers a request whose token is missing or invalid.

The identities, made through Keystone's API (``USERS``): an operator
(``swiftoperator``) and a member (``member``) of project ``project``, a
``swiftreader`` of it (``project_reader_roles``), a member of another
project, a reseller admin, and service users (role ``service``): the
proxies' own (authtoken) and one whose token is the ``X-Service-Token``
that ``SERVICE_`` accounts require.
"""

import os
import re

from tests.functional import keystone_fixture
from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER

_TAIL = ('formpost staticweb copy container-quotas account-quotas slo dlo '
         'versioned_writes symlink proxy-logging proxy-server')
DEVSTACK_PIPELINE = (
    'catch_errors gatekeeper healthcheck proxy-logging cache '
    'listing_formats bulk tempurl ratelimit authtoken keystoneauth '
    'ip_whitelist ' + _TAIL)
RECOMMENDED_PIPELINE = (
    'catch_errors gatekeeper healthcheck proxy-logging cache '
    'listing_formats tempurl ratelimit authtoken keystoneauth ip_whitelist '
    'bulk ' + _TAIL)

OPERATOR_ROLE, READER_ROLE = 'swiftoperator', 'swiftreader'
RESELLER_ADMIN_ROLE, SERVICE_ROLE = 'ResellerAdmin', 'service'
# name: (project, roles on it). Keystone's 'member' implies 'reader', so
# the project reader role is one of ours.
USERS = {
    'operator': ('project', [OPERATOR_ROLE]),
    'member': ('project', ['member']),
    'reader': ('project', [READER_ROLE]),
    'stranger': ('other', ['member']),
    'reseller': ('resellers', [RESELLER_ADMIN_ROLE]),
    'swift': ('service', [SERVICE_ROLE]),
    'glance': ('service', [SERVICE_ROLE]),
}
PROXY_NAMES = ('devstack', 'main', 'strict')
# The proxies where requests without a valid token reach the whitelist.
DELAYED = ('devstack', 'main')

ACCESS_LINE_5XX = re.compile(r' HTTP/1\.[01] 5\d\d ')


def log_problems(cluster, keystone, marks):
    """Tracebacks and 5xx answers logged since *marks* (proxy: offset)."""
    problems = []
    for name, mark in sorted(marks.items()):
        for line in cluster.log_text(name, mark).splitlines():
            # authtoken's debug line for a token Keystone refused carries
            # the exception that says so: no failure.
            if ('Traceback' in line and
                    'Token validation failure.' not in line) or \
                    ACCESS_LINE_5XX.search(line):
                problems.append('%s: %s' % (name, line))
    with open(keystone.log_path('main'), 'rb') as f:
        problems.extend('keystone: ' + line for line in f.read().decode(
            'utf-8', 'replace').splitlines() if 'Traceback' in line)
    return problems


def keystoneauth_options():
    return {'use': 'egg:swift#keystoneauth',
            'operator_roles': 'admin, ' + OPERATOR_ROLE,
            'reseller_admin_role': RESELLER_ADMIN_ROLE,
            'reseller_prefix': 'AUTH_, SERVICE_',
            'SERVICE_service_roles': SERVICE_ROLE,
            'project_reader_roles': READER_ROLE}


def authtoken_options(keystone, delay_auth_decision):
    """DevStack's ``filter:authtoken`` (``lib/swift``), on *keystone*."""
    return {'paste.filter_factory': 'keystonemiddleware.auth_token:'
                                    'filter_factory',
            'auth_type': 'password', 'auth_url': keystone.url,
            'www_authenticate_uri': keystone.url,
            'username': 'swift',
            'password': keystone_fixture.password_of('swift'),
            'project_name': 'service', 'user_domain_id': 'default',
            'project_domain_id': 'default',
            'delay_auth_decision': str(delay_auth_decision).lower(),
            'cache': 'swift.cache', 'include_service_catalog': 'false',
            'log_name': 'swift'}


def proxy_spec(keystone, pipeline, delay_auth_decision=True, app=None,
               whitelist=None):
    return c.ProxySpec(
        pipeline=pipeline, app=app, whitelist=whitelist, extra_sections=[
            ('filter:authtoken', authtoken_options(keystone,
                                                   delay_auth_decision)),
            ('filter:keystoneauth', keystoneauth_options())])


class KeystoneClusterTestCase(base.ClusterTestCase):
    """A Keystone and a cluster (``PROXY_NAMES``) for the whole class.

    ``self.account`` is ``AUTH_<project id>``, ``self.service_account``
    ``SERVICE_<project id>``. ``user`` arguments name ``USERS``. Every
    response is checked to be no 5xx, and every test to leave no
    traceback and no 5xx in the proxy and Keystone logs.
    """

    # Whether the tests need genuinely expired tokens (a second server).
    EXPIRING_TOKENS = False
    # More [app:proxy-server] options for every proxy.
    PROXY_APP = {}
    # Options of [filter:ip_whitelist] for every proxy.
    WHITELIST = {}

    @classmethod
    def setUpClass(cls):
        cls.keystone = keystone_fixture.KeystoneFixture(
            USERS, cls.EXPIRING_TOKENS)
        cls.keystone.setUp()
        try:
            project_id = cls.keystone.id_of('project')
            cls.account = 'AUTH_' + project_id
            cls.service_account = 'SERVICE_' + project_id
            cls.PROXIES = {
                'devstack': proxy_spec(cls.keystone, DEVSTACK_PIPELINE,
                                       app=cls.PROXY_APP,
                                       whitelist=cls.WHITELIST),
                'main': proxy_spec(cls.keystone, RECOMMENDED_PIPELINE,
                                   app=cls.PROXY_APP,
                                   whitelist=cls.WHITELIST),
                'strict': proxy_spec(cls.keystone, RECOMMENDED_PIPELINE,
                                     delay_auth_decision=False,
                                     app=cls.PROXY_APP,
                                     whitelist=cls.WHITELIST)}
            try:
                super(KeystoneClusterTestCase, cls).setUpClass()
            except Exception:
                # A port picked free was taken before the server bound it
                # (the machine is shared): one more try, on new ports.
                super(KeystoneClusterTestCase, cls).setUpClass()
        except Exception:
            cls.keystone.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            # Also what no test was running for: start-up, cleanups.
            problems = log_problems(cls.cluster, cls.keystone,
                                    dict.fromkeys(PROXY_NAMES, 0))
            super(KeystoneClusterTestCase, cls).tearDownClass()
        finally:
            cls.keystone.cleanUp()
        if problems:
            raise AssertionError('\n'.join(problems))

    def setUp(self):
        super(KeystoneClusterTestCase, self).setUp()
        marks = {name: self.cluster.log_mark(name) for name in PROXY_NAMES}
        self.addCleanup(lambda: self.assertEqual([], log_problems(
            self.cluster, self.keystone, marks)))

    # -- requests -------------------------------------------------------

    def req(self, method, path, headers=None, body=None, source=OTHER,
            user=None, proxy='main', service_user=None, token=None):
        """A request from *source* with *user*'s token (or *token*).

        *service_user*'s token goes in ``X-Service-Token``.
        """
        headers = dict(headers or {})
        if user:
            headers['X-Auth-Token'] = self.keystone.token(user)
        if token:
            headers['X-Auth-Token'] = token
        if service_user:
            headers['X-Service-Token'] = self.keystone.token(service_user)
        resp = self.cluster.request(method, path, headers, body, source,
                                    proxy)
        self.assertLess(resp.status, 500, (method, path, proxy, resp))
        return resp

    def admin(self, method, path, headers=None, body=None, user='operator',
              proxy='main', expect=None, service_user=None):
        """*user* from 127.0.0.1 (always allowed), checked to succeed."""
        resp = self.req(method, path, headers, body, ADMIN, user, proxy,
                        service_user)
        if expect is None:
            self.assertEqual(2, resp.status // 100, (method, path, resp))
        else:
            self.assertEqual(expect, resp.status, (method, path, resp))
        return resp

    def new_container(self, headers=None, account=None, user='operator',
                      prefix='c', service_user=None):
        """A fresh container of *account* (``self.account``), its path."""
        name = '%s%d-%s' % (prefix, next(base._names), os.getpid())
        path = '/v1/%s/%s' % (account or self.account, name)
        self.admin('PUT', path, headers, user=user,
                   service_user=service_user)
        return name, path

    def put_secret(self, container_path, name='o', user='operator',
                   service_user=None):
        secret = ('%s SECRET %s/%s' % (os.urandom(6).hex(),
                                       container_path, name)).encode()
        self.admin('PUT', '%s/%s' % (container_path, name), body=secret,
                   user=user, service_user=service_user)
        return secret

    def rules_shown(self, path, **kwargs):
        """The allow-* (and any sysmeta) headers a HEAD of *path* shows."""
        resp = self.req('HEAD', path, source=ADMIN, **kwargs)
        self.assertEqual(2, resp.status // 100, resp)
        return {k.lower(): v for k, v in resp.headers.items()
                if '-allow-' in k.lower() or 'sysmeta' in k.lower()}

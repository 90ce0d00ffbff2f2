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

"""One real cluster per test class, and the assertions the tests share.

Addresses: 127.0.0.1 is in the default ``always_allow`` (the owner's admin
seat); 127.0.0.2, 127.0.0.3... are outside clients.
"""

import itertools
import os
import shutil
import time

from swift.common import utils
from swift.obj import expirer
import testtools

from openstack_ext.cmd import rules as rules_cmd
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = '127.0.0.1', '127.0.0.2', '127.0.0.3'
_names = itertools.count()


class ClusterTestCase(testtools.TestCase):
    """Starts ``PROXIES`` (name -> ProxySpec) once for the whole class."""

    PROXIES = {'main': c.ProxySpec()}
    REPLICAS = 1  # copies of each account, container, object

    @classmethod
    def setUpClass(cls):
        super(ClusterTestCase, cls).setUpClass()
        if not shutil.which('memcached'):
            raise RuntimeError('memcached is needed: apt-get install '
                               'memcached (tools/bootstrap.sh does it)')
        cls.cluster = c.SwiftCluster(cls.PROXIES, replicas=cls.REPLICAS)
        cls.cluster.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanUp()
        super(ClusterTestCase, cls).tearDownClass()

    # -- requests -----------------------------------------------------------

    def req(self, method, path, headers=None, body=None, source=OTHER,
            user=None, proxy='main'):
        """A request from *source*, with *user*'s token when given."""
        headers = dict(headers or {})
        if user:
            headers['X-Auth-Token'] = self.cluster.token(user)
        return self.cluster.request(method, path, headers, body, source,
                                    proxy)

    def admin(self, method, path, headers=None, body=None, user=c.OWNER,
              proxy='main', expect=None):
        """The account owner from 127.0.0.1, checked to succeed."""
        resp = self.req(method, path, headers, body, ADMIN, user, proxy)
        if expect is None:
            self.assertEqual(2, resp.status // 100, (method, path, resp))
        else:
            self.assertEqual(expect, resp.status, (method, path, resp))
        return resp

    def new_container(self, headers=None, account=c.ACCOUNT, user=c.OWNER,
                      prefix='c'):
        """A fresh container (name unique in the cluster) and its path."""
        name = '%s%d-%s' % (prefix, next(_names), os.getpid())
        path = '/v1/%s/%s' % (account, name)
        self.admin('PUT', path, headers, user=user)
        return name, path

    def put_secret(self, container_path, name='o', user=c.OWNER):
        """Store an object whose bytes must never reach a denied client."""
        # Random first: assertNoLeak also looks for a secret's first bytes.
        secret = ('%s SECRET %s/%s' % (os.urandom(6).hex(), container_path,
                                       name)).encode()
        self.admin('PUT', '%s/%s' % (container_path, name), body=secret,
                   user=user)
        return secret

    def queued_for_expirer(self, container_path, obj):
        """What the expirer's task container for an object lists now.

        :param container_path: ``/v1/<account>/<container>``.
        """
        account, container = container_path.split('/')[2:4]
        client = rules_cmd.internal_client(
            self.cluster.internal_client_conf(), 'test')
        config = expirer.ExpirerConfig({}, logger=utils.get_logger({}))
        queued = []
        for when in {int(time.time()), int(time.time()) - 60}:
            expirer_account, task = config.get_expirer_account_and_container(
                when, account, container, obj)
            queued += [o['name'] for o in client.iter_objects(
                expirer_account, task)]
        return queued

    # -- assertions ---------------------------------------------------------

    def assertAllowed(self, resp, secret=None, status=200):
        self.assertEqual(status, resp.status, resp)
        if secret is not None:
            self.assertEqual(secret, resp.body)

    def assertIPDenied(self, resp, message=b'IP Denied'):
        """The whitelist's own 403, not some other refusal."""
        self.assertEqual(403, resp.status, resp)
        self.assertEqual(message, resp.body)

    def assertNoLeak(self, resp, *secrets, fail_closed=False):
        """Refused, without one byte of a secret, and never a crash."""
        self.assertNotEqual(2, resp.status // 100, resp)
        if not fail_closed:
            self.assertLess(resp.status, 500, resp)
        self.assertNotEqual(500, resp.status, resp)
        for secret in secrets:
            self.assertNotIn(secret, resp.body)
            # A cut-off body may hold the start of a secret only.
            self.assertNotIn(secret[:12], resp.body)


class StatsdClusterTestCase(ClusterTestCase):
    """A cluster whose proxies send their metrics to ``cls.statsd``.

    ``proxies(statsd_port)`` gives ``PROXIES``.
    """

    @classmethod
    def proxies(cls, statsd_port):
        return {'main': c.ProxySpec(statsd_port=statsd_port)}

    @classmethod
    def setUpClass(cls):
        # The metrics listener must exist before the proxy reads its port.
        cls.statsd = c.StatsdListener()
        cls.statsd.setUp()
        cls.PROXIES = cls.proxies(cls.statsd.port)
        try:
            super(StatsdClusterTestCase, cls).setUpClass()
        except Exception:
            cls.statsd.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls):
        super(StatsdClusterTestCase, cls).tearDownClass()
        cls.statsd.cleanUp()

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

"""Rules that cannot be read close the door (503), never open it."""

import glob
import os
import time

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER


class TestFailClosed(base.ClusterTestCase):
    """Stops backend servers: the tests of this class run one by one."""

    PROXIES = {'main': c.ProxySpec(app={
        # Swift stops asking a node for 60 s after 10 errors; with one
        # replica that would only delay the recovery checked here.
        'error_suppression_interval': '1'})}

    def setUp(self):
        super(TestFailClosed, self).setUp()
        self.name, path = self.new_container(
            {'X-Container-Meta-Allow-Dev': LISTED})
        self.secret = self.put_secret(path)
        self.obj = path + '/o'
        self.assertAllowed(self._get(LISTED), self.secret)
        self.assertIPDenied(self._get(OTHER))

    def _get(self, source, user=c.OWNER):
        return self.req('GET', self.obj, source=source, user=user)

    def _stop(self, *servers):
        for server in servers:
            self.addCleanup(self.cluster.start_server, server)
            self.cluster.stop_server(server)

    def _recovers(self, *servers):
        for server in servers:
            self.cluster.start_server(server)
        deadline = time.monotonic() + 15
        while True:  # bounded: the proxy may still be backing off
            resp = self._get(LISTED)
            if resp.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertAllowed(resp, self.secret)
        self.assertIPDenied(self._get(OTHER))

    def _refused(self, source, user=c.OWNER):
        resp = self._get(source, user)
        self.assertNoLeak(resp, self.secret, fail_closed=True)
        self.assertEqual(503, resp.status, resp)

    def test_nothing_cached_backends_down(self):
        self._stop('account', 'container')
        # Forget all info (tokens too: tempauth logs in without backends).
        self.cluster.flush_memcache()
        self._refused(OTHER)
        self._refused(OTHER, user=None)
        self._refused(LISTED)
        self._recovers('account', 'container')

    def test_account_rules_unreadable(self):
        # The container's info is still cached, so Swift itself would serve
        # the object (the always-allowed seat shows it): only the account's
        # rules are missing, and they might list nobody but 127.0.0.5.
        self._stop('account')
        self.cluster.forget_info(c.ACCOUNT)
        self.assertAllowed(self._get(ADMIN), self.secret)
        self._refused(OTHER)
        self._refused(LISTED)
        self._recovers('account')

    def test_container_rules_unreadable(self):
        self._stop('container')
        self.cluster.forget_info(c.ACCOUNT, self.name)
        self._refused(OTHER)
        self._refused(LISTED)
        self._recovers('container')

    def _lose_databases(self, kind):
        """Hide every account or container database, as a lost disk."""
        dbs = glob.glob(os.path.join(self.cluster.dir, 'node', '*', kind,
                                     '**', '*.db'), recursive=True)
        self.assertTrue(dbs, kind)
        for db in dbs:
            os.rename(db, db + '.lost')
            self.addCleanup(os.rename, db + '.lost', db)

    def _gone(self, source):
        # Object servers would still serve the object; the rules that
        # should guard it are gone with the database.
        resp = self._get(source)
        self.assertNoLeak(resp, self.secret)
        self.assertEqual(404, resp.status, resp)

    def test_object_outlives_its_container_database(self):
        self._lose_databases('containers')
        self.cluster.forget_info(c.ACCOUNT, self.name)
        self._gone(OTHER)
        self._gone(LISTED)

    def test_object_outlives_its_account_database(self):
        self._lose_databases('accounts')
        self.cluster.forget_info(c.ACCOUNT)
        self.cluster.forget_info(c.ACCOUNT, self.name)
        self._gone(OTHER)
        self._gone(LISTED)

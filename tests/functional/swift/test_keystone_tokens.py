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

"""Invalid, expired and revoked Keystone tokens never get data.

What a client is answered (P has a rule listing 127.0.0.2, U has none):

==================== ================ ====================================
delay_auth_decision  listed address   unlisted address
-------------------- ---------------- ------------------------------------
true (DevStack's)    401              403 with ``deny_message`` in P,
                                      401 in U
false                401              401 (authtoken answers first)
==================== ================ ====================================

authtoken keeps validated tokens in its cache (``token_cache_time``, 300
seconds by default): a token revoked after it was used still passes
authtoken there, and only the rules keep it out; an expired one never
passes, cached or not. Each test first uses its token successfully.
"""

import time

from tests.functional import keystone_fixture
from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER


class TestKeystoneBadTokens(k.KeystoneClusterTestCase):

    EXPIRING_TOKENS = True

    def setUp(self):
        super(TestKeystoneBadTokens, self).setUp()
        _name, self.p = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED}, prefix='p')
        _name, self.u = self.new_container(prefix='u')
        self.secrets = {self.p: self.put_secret(self.p),
                        self.u: self.put_secret(self.u)}

    def assertWorks(self, token):
        for proxy in k.PROXY_NAMES:
            for path, source in ((self.p, LISTED), (self.u, OTHER)):
                self.assertAllowed(self.req(
                    'GET', path + '/o', source=source, token=token,
                    proxy=proxy), self.secrets[path])

    def assertRefused(self, token):
        """The statuses of the module docstring, and never a byte."""
        for proxy in k.PROXY_NAMES:
            for path in (self.p, self.u):
                for source in (LISTED, OTHER):
                    resp = self.req('GET', path + '/o', source=source,
                                    token=token, proxy=proxy)
                    self.assertNoLeak(resp, *self.secrets.values())
                    if proxy in k.DELAYED and source == OTHER and \
                            path == self.p:
                        self.assertIPDenied(resp)
                    else:
                        self.assertEqual(401, resp.status,
                                         (proxy, path, source, resp))
            listing = self.req('GET', '/v1/' + self.account, source=LISTED,
                               token=token, proxy=proxy)
            self.assertEqual(401, listing.status, listing)

    def test_invalid_tokens(self):
        valid = self.keystone.token('operator')
        self.assertWorks(valid)
        tampered = valid[:-6] + ('AAAAAA' if valid[-6:] != 'AAAAAA'
                                 else 'BBBBBB')
        for token in ('garbage', tampered):
            self.assertRefused(token)

    def test_expired_token(self):
        token = self.keystone.expiring_token('operator')
        self.assertWorks(token)  # now in authtoken's cache too
        deadline = time.monotonic() + \
            keystone_fixture.EXPIRING_TOKEN_SECONDS + 30
        while self.keystone.validates(token):
            self.assertLess(time.monotonic(), deadline, 'never expired')
            time.sleep(0.5)
        self.assertRefused(token)

    def test_revoked_token(self):
        token = self.keystone.new_token('operator')
        self.assertWorks(token)  # now in authtoken's cache
        self.keystone.revoke(token)
        self.assertFalse(self.keystone.validates(token))
        for proxy in k.PROXY_NAMES:
            # Until the cached validation expires, only the rules count.
            self.assertIPDenied(self.req('GET', self.p + '/o', token=token,
                                         proxy=proxy))
            self.assertAllowed(self.req(
                'GET', self.p + '/o', source=LISTED, token=token,
                proxy=proxy), self.secrets[self.p])
        self.cluster.flush_memcache()  # authtoken's cache is in memcache
        self.assertRefused(token)

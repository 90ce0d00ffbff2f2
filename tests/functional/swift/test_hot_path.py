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

"""Object reads judged where the proxy asks swift.authorize, and no later.

An object GET or HEAD is judged when the proxy first asks
``swift.authorize``, with the container's info it has just read. These
are the roads around that question: an answer made without it, the
question asked again after a refusal (``delay_denial``), a pre-authorised
request (tempurl), and kept rules (``rules_cache_time``). P lists only
127.0.0.2; 127.0.0.3 holds the owner's token. Each case has its control
from 127.0.0.2.
"""

import hashlib
import hmac
import json
import time

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER
KEY = 'hot-path-key'
KEPT_SECONDS = 30
ANSWERING = c.PIPELINE.replace('ip_whitelist', 'ip_whitelist answering')
ANSWERING_SECTION = ('filter:answering', {
    'paste.filter_factory':
        'tests.functional.swift.answering_filter:filter_factory'})


class TestJudgedReads(base.ClusterTestCase):

    PROXIES = {
        'main': c.ProxySpec(),
        'answering': c.ProxySpec(pipeline=ANSWERING,
                                 extra_sections=[ANSWERING_SECTION]),
    }

    def setUp(self):
        super(TestJudgedReads, self).setUp()
        self.name, self.p = self.new_container(
            {'X-Container-Meta-Allow-Dev': LISTED}, prefix='p')
        self.secret = self.put_secret(self.p)

    def test_answer_made_without_asking_auth_is_judged(self):
        headers = {'X-Answer-Here': 'yes'}
        for method in ('GET', 'HEAD'):
            bad = self.req(method, self.p + '/o', headers, user=c.OWNER,
                           proxy='answering')
            if method == 'GET':
                self.assertIPDenied(bad)
            else:
                self.assertEqual(403, bad.status, bad)
            self.assertNotIn('X-Answered-By', bad.headers)
            self.assertNoLeak(bad, self.secret)
            # Control: the filter does answer, from the object's bytes.
            good = self.req(method, self.p + '/o', headers, source=LISTED,
                            user=c.OWNER, proxy='answering')
            self.assertEqual(200, good.status, good)
            self.assertEqual('answering', good.headers['X-Answered-By'])
            if method == 'GET':
                self.assertEqual(self.secret, good.body)

    def test_refused_again_when_the_proxy_asks_again(self):
        # tester3's auth refuses until the proxy has read the container's
        # read ACL, then asks swift.authorize again (delay_denial).
        self.admin('POST', self.p, {'X-Container-Read': c.USER3})
        mark = self.cluster.log_mark('main')
        bad = self.req('GET', self.p + '/o', user=c.USER3)
        self.assertIPDenied(bad)
        needle = 'IP %s denied access to Account=%s Container=%s' % (
            OTHER, c.ACCOUNT, self.name)
        log = self.cluster.wait_for_log('main', needle, mark)
        self.assertEqual(1, log.count(needle), log)  # judged once
        self.assertAllowed(self.req('GET', self.p + '/o', source=LISTED,
                                    user=c.USER3), self.secret)
        # Control: without the ACL tester3 is refused by auth, not by IP.
        self.admin('POST', self.p, {'X-Container-Read': ''})
        resp = self.req('GET', self.p + '/o', source=LISTED, user=c.USER3)
        self.assertEqual(403, resp.status, resp)
        self.assertNotEqual(b'IP Denied', resp.body)

    def _tempurl(self, path, method):
        expires = int(time.time()) + 300
        sig = hmac.new(KEY.encode(), ('%s\n%d\n%s' % (
            method, expires, path)).encode(), hashlib.sha256).hexdigest()
        return '%s?temp_url_sig=%s&temp_url_expires=%d' % (path, sig, expires)

    def test_tempurl_reads_judged(self):
        # tempurl sets swift.authorize_override: auth never runs.
        self.admin('POST', '/v1/' + c.ACCOUNT,
                   {'X-Account-Meta-Temp-URL-Key': KEY})
        for method in ('GET', 'HEAD'):
            url = self._tempurl(self.p + '/o', method)
            bad = self.req(method, url)
            self.assertEqual(403, bad.status, bad)
            self.assertNoLeak(bad, self.secret)
            good = self.req(method, url, source=LISTED)
            self.assertEqual(200, good.status, good)

    def test_missing_object_and_container(self):
        # Judged before Swift says what is missing.
        for path in (self.p + '/nothing', '/v1/%s/%s-gone/o' % (
                c.ACCOUNT, self.name)):
            bad = self.req('GET', path, user=c.OWNER)
            good = self.req('GET', path, source=LISTED, user=c.OWNER)
            self.assertEqual(404, good.status, good)
            if path.startswith(self.p + '/'):
                self.assertIPDenied(bad)
            else:
                self.assertEqual(404, bad.status, bad)  # no rules to pass


class TestRulesCacheTime(base.ClusterTestCase):
    """A rule change is applied at once by the proxy that made it."""

    PROXIES = {
        'main': c.ProxySpec(),
        'second': c.ProxySpec(),
        'kept': c.ProxySpec(whitelist={
            'rules_cache_time': str(KEPT_SECONDS)}),
        'kept2': c.ProxySpec(whitelist={
            'rules_cache_time': str(KEPT_SECONDS)}),
    }

    def narrow(self, proxy, others):
        """Open P to OTHER, read it everywhere, then close it via *proxy*.

        :returns: the seconds since the other proxies read the old rules.
        """
        name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, OTHER)},
            prefix='k')
        secret = self.put_secret(path)
        for each in (proxy,) + others:
            self.assertAllowed(self.req('GET', path + '/o', user=c.OWNER,
                                        proxy=each), secret)
            listing = self.req('GET', path, user=c.OWNER, proxy=each)
            self.assertEqual(200, listing.status, listing)
        read = time.monotonic()
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED},
                   proxy=proxy)
        return path, secret, time.monotonic() - read

    def test_default_applies_changes_at_once_everywhere(self):
        path, secret, _age = self.narrow('main', ('second',))
        for proxy in ('main', 'second'):
            self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER,
                                         proxy=proxy))
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        user=c.OWNER, proxy=proxy), secret)

    def test_kept_rules_change_at_once_where_changed(self):
        # Another proxy may keep the old rules for rules_cache_time where
        # it must look the info up (tests.unit.swift.test_ip_whitelist);
        # here ratelimit reads the container's info ahead of the filter,
        # and an info the request holds is always the one used.
        path, secret, _age = self.narrow('kept', ('kept2',))
        for proxy in ('kept', 'kept2'):
            self.assertIPDenied(self.req('GET', path, user=c.OWNER,
                                         proxy=proxy))
            self.assertEqual(200, self.req('GET', path, source=LISTED,
                                           user=c.OWNER, proxy=proxy).status)
            self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER,
                                         proxy=proxy))
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        user=c.OWNER, proxy=proxy), secret)

    def test_kept_account_rules_change_at_once_where_changed(self):
        name, path = self.new_container(prefix='ka')
        secret = self.put_secret(path)
        account = '/v1/' + c.ACCOUNT
        self.assertAllowed(self.req('GET', path + '/o', user=c.OWNER,
                                    proxy='kept'), secret)
        self.admin('POST', account, {'X-Account-Meta-Allow-Hot': LISTED},
                   proxy='kept')
        self.addCleanup(self.admin, 'POST', account, {
            'X-Remove-Account-Meta-Allow-Hot': 'x'}, proxy='kept')
        self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER,
                                     proxy='kept'))
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER, proxy='kept'), secret)

    def test_published_in_info(self):
        for proxy, seconds in (('main', 0), ('kept', KEPT_SECONDS)):
            info = json.loads(self.req('GET', '/info', proxy=proxy).body)
            self.assertEqual(seconds, info['ip_whitelist'][
                'rules_cache_time'])

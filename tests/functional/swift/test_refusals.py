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

"""A refusal tells an outsider nothing: one answer, whatever it asks.

The attacker is 127.0.0.3 (OTHER); the rules list 127.0.0.2 (LISTED) only.
Every refusal below is compared, status, headers and body, with the
refusal of a bare request from the same address; each has its positive
control from the listed address. Rows 1 and 2 are the two leaks found in
the fast path: CORS settings of a container, and the names of the
containers of an account whose rules refuse the client.
"""

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER
GOOD, EVIL = 'http://good.example', 'http://evil.example'
# Headers that differ between any two answers of Swift's.
VOLATILE = ('date', 'x-trans-id', 'x-openstack-request-id')
# What a client may add to a read; none may change a refusal.
VARIANTS = (
    {}, {'Origin': GOOD}, {'Origin': EVIL},
    {'Origin': GOOD, 'Access-Control-Request-Method': 'GET'},
    {'Range': 'bytes=0-3'}, {'If-None-Match': '*'}, {'If-Match': '"x"'},
    {'If-Modified-Since': 'Thu, 01 Jan 2037 00:00:00 GMT'},
    {'X-Newest': 'true'}, {'X-Symlink-Target': 'x/y'},
)
# (A query with a bad temp URL signature is tempurl's to answer, left of
# the filter, with its own 401 whatever the path names.)
QUERIES = ('', '?multipart-manifest=get', '?symlink=get', '?format=json')


def answer(resp):
    """What a client can observe of *resp*, but for per-request ids."""
    headers = sorted((k.lower(), v) for k, v in resp.headers.items()
                     if k.lower() not in VOLATILE)
    return resp.status, headers, resp.body


class TestOneRefusal(base.ClusterTestCase):

    def setUp(self):
        super(TestOneRefusal, self).setUp()
        self.name, self.path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED,
            'X-Container-Meta-Access-Control-Allow-Origin': GOOD,
            'X-Container-Meta-Access-Control-Expose-Headers':
                'X-Object-Meta-Hidden-Name'}, prefix='cors')
        self.secret = self.put_secret(self.path)
        self.admin('POST', self.path + '/o',
                   {'X-Object-Meta-Hidden-Name': 'payroll'})

    def assertSameRefusal(self, baseline, resp, what):
        self.assertEqual(403, baseline.status, baseline)
        self.assertEqual(answer(baseline), answer(resp), what)
        for name in resp.headers:
            self.assertFalse(name.lower().startswith('access-control-'),
                             (what, name))
        self.assertNotIn(b'payroll', resp.body)

    def test_row_1_cors_settings_do_not_show_through(self):
        for method in ('GET', 'HEAD'):
            baseline = self.req(method, self.path + '/o')
            for user in (c.OWNER, c.OWNER2, c.USER3, None):
                for query in QUERIES:
                    for headers in VARIANTS:
                        resp = self.req(method, self.path + '/o' + query,
                                        headers, user=user)
                        self.assertSameRefusal(
                            baseline, resp, (method, user, query, headers))
            # Positive control: the listed client gets the object, with
            # the container's CORS answer.
            good = self.req(method, self.path + '/o', {'Origin': GOOD},
                            source=LISTED, user=c.OWNER)
            self.assertEqual(200, good.status, good)
            self.assertEqual(GOOD, good.headers['Access-Control-Allow-Origin'])
            self.assertIn('x-object-meta-hidden-name', good.headers[
                'Access-Control-Expose-Headers'].lower())

    def test_container_requests_refused_alike(self):
        for method in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE'):
            baseline = self.req(method, self.path)
            for headers in VARIANTS:
                self.assertSameRefusal(baseline, self.req(
                    method, self.path, headers, user=c.OWNER),
                    (method, headers))
        self.assertEqual(200, self.req('GET', self.path, source=LISTED,
                                       user=c.OWNER).status)

    def test_refused_copy_source_answers_the_same(self):
        # The source is read by a subrequest of copy's, which carries the
        # client's headers (Origin included) to the proxy's CORS handling.
        _name, open_path = self.new_container(prefix='dst')
        copy_from = {'X-Copy-From': '%s/o' % self.name}
        baseline = self.req('PUT', open_path + '/o2', copy_from, b'',
                            user=c.OWNER)
        for headers in ({'Origin': GOOD}, {'Origin': EVIL}, {}):
            resp = self.req('PUT', open_path + '/o2',
                            dict(copy_from, **headers), b'', user=c.OWNER)
            self.assertSameRefusal(baseline, resp, headers)
        self.admin('HEAD', open_path + '/o2', expect=404)
        # Positive control: copied for the listed client.
        good = self.req('PUT', open_path + '/o2', dict(
            copy_from, Origin=GOOD), b'', source=LISTED, user=c.OWNER)
        self.assertEqual(201, good.status, good)

    def test_refused_symlink_target_answers_the_same(self):
        _name, open_path = self.new_container(prefix='links')
        self.admin('PUT', open_path + '/l', {
            'X-Symlink-Target': '%s/o' % self.name}, b'')
        baseline = self.req('GET', self.path + '/o')
        for method in ('GET', 'HEAD'):
            baseline = self.req(method, self.path + '/o')
            for headers in ({'Origin': GOOD}, {}, {'Range': 'bytes=0-3'}):
                resp = self.req(method, open_path + '/l', headers,
                                user=c.OWNER)
                self.assertSameRefusal(baseline, resp, (method, headers))
        good = self.req('GET', open_path + '/l', {'Origin': GOOD},
                        source=LISTED, user=c.OWNER)
        self.assertEqual((200, self.secret), (good.status, good.body))


class TestAccountRefusalHidesNames(base.ClusterTestCase):
    """Row 2: the account's rules bound every path, existing or not."""

    def setUp(self):
        super(TestAccountRefusalHidesNames, self).setUp()
        self.account = '/v1/' + c.ACCOUNT2
        self.admin('POST', self.account,
                   {'X-Account-Meta-Allow-Office': LISTED}, user=c.OWNER2)
        self.addCleanup(self.admin, 'POST', self.account, {
            'X-Remove-Account-Meta-Allow-Office': 'x'}, user=c.OWNER2)
        self.name, self.path = self.new_container(account=c.ACCOUNT2,
                                                  user=c.OWNER2, prefix='ac')
        self.put_secret(self.path, 'x', user=c.OWNER2)

    def test_row_2_no_container_or_object_name_shows(self):
        paths = (self.path + '/x', self.path + '/no-such-object',
                 self.account + '/no-such-container/x',
                 self.path, self.account + '/no-such-container')
        for method in ('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY',
                       'OPTIONS'):
            headers = {'Destination': 'elsewhere/x'} \
                if method == 'COPY' else {}
            for user in (None, c.OWNER, c.OWNER2):
                answers = {path: answer(self.req(method, path, headers,
                                                 b'' if method == 'PUT'
                                                 else None, user=user))
                           for path in paths}
                first = answers[paths[0]]
                self.assertEqual(403, first[0], (method, user, first))
                for path, seen in answers.items():
                    self.assertEqual(first, seen, (method, user, path))
        # Positive control: the listed owner tells them apart.
        self.assertEqual(200, self.req('GET', self.path + '/x',
                                       source=LISTED,
                                       user=c.OWNER2).status)
        self.assertEqual(404, self.req('GET',
                                       self.account + '/no-such-container/x',
                                       source=LISTED, user=c.OWNER2).status)

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

"""Under Keystone, an owner's token from an unlisted address gets nothing.

P has a rule (only 127.0.0.2), U has none. The attacker, 127.0.0.3, holds
the operator's valid Keystone token; every attack has its control from
127.0.0.2. Run through DevStack's order and the recommended one, and for
public-read containers and temporary URLs also with
``delay_auth_decision = false``, where authtoken answers first.

DevStack's order puts ``bulk`` before authentication: its subrequests
carry the token but not the client's address, so the whitelist refuses
them wherever a rule applies, even for a listed client (fail closed), and
``bulk`` still works in containers without rules.
"""

import hashlib
import hmac
import io
import json
import tarfile
import time

from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER
ACCOUNT_KEY, CONTAINER_KEY = 'account-tempurl-key', 'container-tempurl-key'


class TestKeystoneNoWayAround(k.KeystoneClusterTestCase):

    def setUp(self):
        super(TestKeystoneNoWayAround, self).setUp()
        self.p_name, self.p = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED,
            'X-Container-Meta-Temp-URL-Key': CONTAINER_KEY}, prefix='p')
        self.u_name, self.u = self.new_container(prefix='u')
        self.secret = self.put_secret(self.p)

    def both(self, method, path, headers=None, body=None, user='operator',
             proxy='main'):
        """``(attacker's response, listed client's response)``."""
        return tuple(self.req(method, path, headers, body, source, user,
                              proxy) for source in (OTHER, LISTED))

    def test_objects_and_listings(self):
        for proxy in k.DELAYED:
            for method, path in (('GET', self.p + '/o'),
                                 ('HEAD', self.p + '/o'),
                                 ('GET', self.p + '?format=json'),
                                 ('HEAD', self.p)):
                bad, good = self.both(method, path, proxy=proxy)
                self.assertIPDenied(bad, b'' if method == 'HEAD'
                                    else b'IP Denied')
                self.assertEqual(2, good.status // 100, good)
            bad, good = self.both('GET', self.p + '/o', proxy=proxy)
            self.assertNoLeak(bad, self.secret)
            self.assertAllowed(good, self.secret)

    def test_copies(self):
        for proxy in k.DELAYED:
            stolen, copied = self.u + '/stolen-' + proxy, '/copied-' + proxy
            for headers, method, path in (
                    ({'Destination': self.u_name + '/stolen-' + proxy},
                     'COPY', self.p + '/o'),
                    ({'X-Copy-From': self.p_name + '/o'}, 'PUT', stolen)):
                bad = self.req(method, path, headers, b'', OTHER,
                               'operator', proxy)
                self.assertIPDenied(bad)
                self.admin('HEAD', stolen, expect=404)
            # Into P, from U: refused too, P's object intact.
            self.admin('PUT', self.u + '/x', body=b'overwrite')
            self.assertIPDenied(self.req('COPY', self.u + '/x', {
                'Destination': self.p_name + '/o'}, None, OTHER, 'operator',
                proxy))
            self.assertAllowed(self.admin('GET', self.p + '/o'), self.secret)
            good = self.req('COPY', self.p + '/o', {
                'Destination': self.u_name + copied}, None, LISTED,
                'operator', proxy)
            self.assertEqual(201, good.status, good)
            self.assertAllowed(self.admin('GET', self.u + copied),
                               self.secret)

    def test_slo_segments(self):
        segs = [self.put_secret(self.p, 's%d' % i) for i in (1, 2)]
        manifest = json.dumps([{'path': '/%s/s%d' % (self.p_name, i)}
                               for i in (1, 2)])
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        for proxy in k.DELAYED:
            bad, good = self.both('GET', self.u + '/slo', proxy=proxy)
            self.assertNoLeak(bad, *segs)
            self.assertAllowed(good, b''.join(segs))
            bad, good = self.both('PUT', self.u + '/m?multipart-manifest=put',
                                  body=manifest, proxy=proxy)
            self.assertEqual(400, bad.status, bad)
            self.assertEqual(201, good.status, good)

    def test_slo_async_delete(self):
        segs = [self.put_secret(self.p, 's%d' % i) for i in (1, 2)]
        manifest = json.dumps([{'path': '/%s/s%d' % (self.p_name, i)}
                               for i in (1, 2)])
        query = '?multipart-manifest=delete&async=yes'
        for proxy in k.DELAYED:
            name = 'slo-' + proxy
            self.admin('PUT', self.u + '/%s?multipart-manifest=put' % name,
                       body=manifest)
            self.req('DELETE', self.u + '/' + name + query, None, None,
                     OTHER, 'operator', proxy)
            self.assertEqual([], self.queued_for_expirer(self.u, name))
            for i, seg in enumerate(segs, 1):
                self.assertAllowed(self.admin('GET', self.p + '/s%d' % i),
                                   seg)
        # Positive control: from the listed address the delete goes on.
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        good = self.req('DELETE', self.u + '/slo' + query, None, None,
                        LISTED, 'operator')
        self.assertEqual(2, good.status // 100, good)
        for i in (1, 2):
            self.admin('GET', self.p + '/s%d' % i, expect=404)

    def test_symlinks(self):
        self.admin('PUT', self.u + '/link', {
            'X-Symlink-Target': self.p_name + '/o'}, body=b'')
        for proxy in k.DELAYED:
            bad, good = self.both('GET', self.u + '/link', proxy=proxy)
            self.assertNoLeak(bad, self.secret)
            self.assertAllowed(good, self.secret)

    def test_public_read_container(self):
        self.admin('POST', self.p, {'X-Container-Read': '.r:*,.rlistings'})
        for proxy in k.DELAYED:
            for path in (self.p + '/o', self.p):
                bad, good = self.both('GET', path, user=None, proxy=proxy)
                self.assertIPDenied(bad)
                self.assertEqual(200, good.status, good)
            self.assertIn(b'o', good.body)
            # An invalid token is no token here: the rules still decide.
            bad, good = (self.req('GET', self.p + '/o', None, None, source,
                                  token='garbage', proxy=proxy)
                         for source in (OTHER, LISTED))
            self.assertIPDenied(bad)
            self.assertAllowed(good, self.secret)
        # authtoken refuses anonymous requests itself when it does not
        # delay its decision: public-read needs delay_auth_decision.
        for resp in self.both('GET', self.p + '/o', user=None,
                              proxy='strict'):
            self.assertEqual(401, resp.status, resp)

    def _tempurl(self, path, key, method='GET'):
        expires = int(time.time()) + 300
        sig = hmac.new(key.encode(), ('%s\n%d\n%s' % (
            method, expires, path)).encode(), hashlib.sha256).hexdigest()
        return '%s?temp_url_sig=%s&temp_url_expires=%d' % (path, sig, expires)

    def test_tempurl_account_and_container_keys(self):
        account = '/v1/' + self.account
        self.admin('POST', account, {'X-Account-Meta-Temp-URL-Key':
                                     ACCOUNT_KEY})
        self.addCleanup(self.admin, 'POST', account, {
            'X-Account-Meta-Temp-URL-Key': ''})
        for key in (ACCOUNT_KEY, CONTAINER_KEY):
            for proxy in k.DELAYED:
                url = self._tempurl(self.p + '/o', key)
                bad, good = self.both('GET', url, user=None, proxy=proxy)
                self.assertIPDenied(bad)
                self.assertAllowed(good, self.secret)
                url = self._tempurl(self.p + '/new', key, 'PUT')
                bad, good = self.both('PUT', url, body=b'new', user=None,
                                      proxy=proxy)
                self.assertIPDenied(bad)
                self.assertEqual(201, good.status, good)
            for resp in self.both('GET', self._tempurl(self.p + '/o', key),
                                  user=None, proxy='strict'):
                self.assertEqual(401, resp.status, resp)

    def _bulk_delete(self, source, proxy, *paths):
        body = ''.join('%s\n' % path.split('/', 3)[3] for path in paths)
        resp = self.req('POST', '/v1/%s?bulk-delete' % self.account, {
            'Accept': 'application/json', 'Content-Type': 'text/plain'},
            body.encode(), source, 'operator', proxy)
        self.assertEqual(200, resp.status, resp)
        return json.loads(resp.body)

    def test_bulk_delete(self):
        self.admin('PUT', self.u + '/d', body=b'x')
        # Recommended order: judged by the client's address.
        result = self._bulk_delete(OTHER, 'main', self.p + '/o')
        self.assertEqual(0, result['Number Deleted'], result)
        self.assertEqual(1, self._bulk_delete(LISTED, 'main', self.p + '/o')[
            'Number Deleted'])
        # DevStack's order: refused in P even from the listed address...
        self.put_secret(self.p)
        result = self._bulk_delete(LISTED, 'devstack', self.p + '/o')
        self.assertEqual(0, result['Number Deleted'], result)
        self.assertEqual([[self.p_name + '/o', '403 Forbidden']],
                         [[name.lstrip('/'), status]
                          for name, status in result['Errors']])
        self.assertAllowed(self.admin('GET', self.p + '/o'), None)
        # ...and works where no rule applies.
        result = self._bulk_delete(OTHER, 'devstack', self.u + '/d')
        self.assertEqual(1, result['Number Deleted'], result)

    def _tar(self, *names):
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode='w') as tar:
            for name in names:
                info = tarfile.TarInfo(name)
                info.size = 8
                tar.addfile(info, io.BytesIO(b'uploaded'))
        return data.getvalue()

    def test_bulk_extract_archive(self):
        for proxy, source, created in (('main', OTHER, 0),
                                       ('main', LISTED, 1),
                                       ('devstack', LISTED, 0),
                                       ('devstack', OTHER, 0)):
            name = 'x-%s-%s' % (proxy, source)
            resp = self.req('PUT', self.p + '?extract-archive=tar', {
                'Accept': 'application/json'}, self._tar(name), source,
                'operator', proxy)
            if proxy == 'main' and source == OTHER:
                self.assertIPDenied(resp)  # judged before bulk reads it
            else:
                self.assertEqual(200, resp.status, resp)
                result = json.loads(resp.body)
                self.assertEqual(created, result['Number Files Created'],
                                 (proxy, source, result))
            self.admin('HEAD', '%s/%s' % (self.p, name),
                       expect=200 if created else 404)
        # Control: DevStack's order extracts where no rule applies.
        resp = self.req('PUT', self.u + '?extract-archive=tar', {
            'Accept': 'application/json'}, self._tar('ok'), OTHER,
            'operator', 'devstack')
        self.assertEqual(1, json.loads(resp.body)['Number Files Created'])
        self.admin('HEAD', self.u + '/ok')

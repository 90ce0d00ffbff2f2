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

"""Every other road to a protected container's bytes is closed too.

P is protected (only 127.0.0.2 listed), U is open. The attacker, 127.0.0.3,
even holds the owner's token. Each attack has its positive control: the
same request from 127.0.0.2 works, so a refusal proves the whitelist and
not a broken setup.
"""

import hashlib
import hmac
import json
import time

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER

KEY = 'tempurl-key'


class TestNoWayAround(base.ClusterTestCase):

    def setUp(self):
        super(TestNoWayAround, self).setUp()
        self.admin('POST', '/v1/' + c.ACCOUNT,
                   {'X-Account-Meta-Temp-URL-Key': KEY})
        self.p_name, self.p = self.new_container(
            {'X-Container-Meta-Allow-Dev': LISTED}, prefix='p')
        self.u_name, self.u = self.new_container(prefix='u')
        self.secret = self.put_secret(self.p)

    def both(self, method, path, headers=None, body=None, user=c.OWNER):
        """``(attacker's response, listed client's response)``."""
        return (self.req(method, path, headers, body, OTHER, user),
                self.req(method, path, headers, body, LISTED, user))

    def test_copy_out(self):
        bad = self.req('COPY', self.p + '/o', {
            'Destination': self.u_name + '/stolen'}, user=c.OWNER)
        self.assertIPDenied(bad)
        self.admin('HEAD', self.u + '/stolen', expect=404)
        good = self.req('COPY', self.p + '/o', {
            'Destination': self.u_name + '/copied'}, source=LISTED,
            user=c.OWNER)
        self.assertEqual(201, good.status, good)

    def test_copy_into(self):
        self.admin('PUT', self.u + '/x', body=b'overwrite')
        bad = self.req('COPY', self.u + '/x', {
            'Destination': self.p_name + '/o'}, user=c.OWNER)
        self.assertIPDenied(bad)
        self.assertAllowed(self.req('GET', self.p + '/o', source=LISTED,
                                    user=c.OWNER), self.secret)
        good = self.req('COPY', self.u + '/x', {
            'Destination': self.p_name + '/o2'}, source=LISTED, user=c.OWNER)
        self.assertEqual(201, good.status, good)

    def test_x_copy_from(self):
        src = {'X-Copy-From': self.p_name + '/o'}
        bad = self.req('PUT', self.u + '/stolen', src, user=c.OWNER)
        self.assertNoLeak(bad, self.secret)
        self.admin('HEAD', self.u + '/stolen', expect=404)
        good = self.req('PUT', self.u + '/copied', src, source=LISTED,
                        user=c.OWNER)
        self.assertEqual(201, good.status, good)

    def test_slo_manifest_in_open_container(self):
        segs = [self.put_secret(self.p, 's%d' % i) for i in (1, 2)]
        manifest = json.dumps([{'path': '/%s/s%d' % (self.p_name, i)}
                               for i in (1, 2)])
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        bad, good = self.both('GET', self.u + '/slo')
        self.assertNoLeak(bad, *segs)
        self.assertAllowed(good, b''.join(segs))
        # Through a tempurl, whose authorize passes any subrequest.
        bad, good = self.both('GET', self._tempurl(self.u + '/slo'),
                              user=None)
        self.assertNoLeak(bad, *segs)
        self.assertAllowed(good, b''.join(segs))

    def test_slo_async_delete_is_judged_per_segment(self):
        # SLO checks an async delete's segments by asking swift.authorize
        # about the manifest's own request, then queues them for the
        # expirer with pre-authorised requests: the filter makes it a
        # synchronous delete, each segment judged by its own container.
        segs = [self.put_secret(self.p, 's%d' % i) for i in (1, 2)]
        manifest = json.dumps([{'path': '/%s/s%d' % (self.p_name, i)}
                               for i in (1, 2)])
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        query = '?multipart-manifest=delete&async=yes'
        self.req('DELETE', self.u + '/slo' + query, user=c.OWNER)
        self.assertEqual([], self.queued_for_expirer(self.u, 'slo'))
        for i, seg in enumerate(segs, 1):
            self.assertAllowed(self.req('GET', self.p + '/s%d' % i,
                                        source=LISTED, user=c.OWNER), seg)
        # Positive control: from the listed address the delete goes on.
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        good = self.req('DELETE', self.u + '/slo' + query, source=LISTED,
                        user=c.OWNER)
        self.assertEqual(2, good.status // 100, good)
        for i in (1, 2):
            self.assertEqual(404, self.req('GET', self.p + '/s%d' % i,
                                           source=LISTED,
                                           user=c.OWNER).status)
        self.assertEqual(404, self.req('GET', self.u + '/slo',
                                       source=LISTED, user=c.OWNER).status)

    def test_slo_denied_after_the_first_segment(self):
        # Larger than eventlet's 4 KiB write buffer, so the 200 and the
        # first segment are on the wire when the second one is refused.
        # (With a small first segment Swift answers 500 instead, with or
        # without the whitelist: it is how a broken SLO fails.)
        public = b'public part ' * 6000
        self.admin('PUT', self.u + '/pub', body=public)
        manifest = json.dumps([{'path': '/%s/pub' % self.u_name},
                               {'path': '/%s/o' % self.p_name}])
        self.admin('PUT', self.u + '/slo?multipart-manifest=put',
                   body=manifest)
        bad, good = self.both('GET', self.u + '/slo')
        self.assertEqual(200, bad.status, bad)
        self.assertFalse(bad.complete, bad)
        self.assertNotIn(self.secret[:12], bad.body)
        self.assertAllowed(good, public + self.secret)

    def test_slo_manifest_put_cannot_probe_segments(self):
        manifest = json.dumps([{'path': '/%s/o' % self.p_name}])
        bad, good = self.both('PUT', self.u + '/m?multipart-manifest=put',
                              body=manifest)
        self.assertEqual(400, bad.status, bad)
        self.assertEqual(201, good.status, good)

    def test_dlo_manifest_in_open_container(self):
        segs = [self.put_secret(self.p, 'seg-%d' % i) for i in (1, 2)]
        self.admin('PUT', self.u + '/dlo', {
            'X-Object-Manifest': self.p_name + '/seg-'}, body=b'')
        bad, good = self.both('GET', self.u + '/dlo')
        self.assertNoLeak(bad, *segs)
        self.assertAllowed(good, b''.join(segs))
        bad, good = self.both('GET', self._tempurl(self.u + '/dlo'),
                              user=None)
        self.assertNoLeak(bad, *segs)
        self.assertAllowed(good, b''.join(segs))

    def test_symlink_in_open_container(self):
        self.admin('PUT', self.u + '/link', {
            'X-Symlink-Target': self.p_name + '/o'}, body=b'')
        bad, good = self.both('GET', self.u + '/link')
        self.assertNoLeak(bad, self.secret)
        self.assertAllowed(good, self.secret)

    def _tempurl(self, path, method='GET'):
        expires = int(time.time()) + 300
        sig = hmac.new(KEY.encode(), ('%s\n%d\n%s' % (
            method, expires, path)).encode(), hashlib.sha256).hexdigest()
        return '%s?temp_url_sig=%s&temp_url_expires=%d' % (path, sig, expires)

    def test_tempurl(self):
        bad, good = self.both('GET', self._tempurl(self.p + '/o'), user=None)
        self.assertIPDenied(bad)
        self.assertAllowed(good, self.secret)

    def test_public_read_acl(self):
        self.admin('POST', self.p, {'X-Container-Read': '.r:*,.rlistings'})
        bad, good = self.both('GET', self.p + '/o', user=None)
        self.assertIPDenied(bad)
        self.assertAllowed(good, self.secret)

    def test_staticweb(self):
        self.admin('POST', self.p, {
            'X-Container-Read': '.r:*,.rlistings',
            'X-Container-Meta-Web-Index': 'index.html',
            'X-Container-Meta-Web-Listings': 'true'})
        index = self.put_secret(self.p, 'index.html')
        bad, good = self.both('GET', self.p + '/', user=None)
        self.assertIPDenied(bad)
        self.assertAllowed(good, index)
        self.admin('DELETE', self.p + '/index.html')
        # Without an index: the listing (names only) is closed as well.
        bad, good = self.both('GET', self.p + '/', user=None)
        self.assertIPDenied(bad)
        self.assertAllowed(good)
        self.assertIn(b'Listing of', good.body)

    def _formpost(self, source, name):
        path = self.p + '/'
        expires = int(time.time()) + 300
        sig = hmac.new(KEY.encode(), ('%s\n\n1024\n1\n%d' % (
            path, expires)).encode(), hashlib.sha256).hexdigest()
        fields = [('redirect', ''), ('max_file_size', '1024'),
                  ('max_file_count', '1'), ('expires', str(expires)),
                  ('signature', sig)]
        boundary = 'xXxBoundaryxXx'
        body = ''.join('--%s\r\nContent-Disposition: form-data; name="%s"'
                       '\r\n\r\n%s\r\n' % (boundary, k, v) for k, v in fields)
        body += ('--%s\r\nContent-Disposition: form-data; name="file"; '
                 'filename="%s"\r\nContent-Type: text/plain\r\n\r\n'
                 'uploaded\r\n--%s--\r\n' % (boundary, name, boundary))
        return self.req('POST', path, {
            'Content-Type': 'multipart/form-data; boundary=' + boundary},
            body.encode(), source)

    def test_formpost(self):
        self.assertIPDenied(self._formpost(OTHER, 'bad'))
        self.admin('HEAD', self.p + '/bad', expect=404)
        good = self._formpost(LISTED, 'good')
        self.assertEqual(201, good.status, good)
        self.assertAllowed(self.req('GET', self.p + '/good', source=LISTED,
                                    user=c.OWNER), b'uploaded')

    def test_odd_paths(self):
        for path in ('/v1/%s//%s/o' % (c.ACCOUNT, self.p_name),
                     '/v1/%s/%s//o' % (c.ACCOUNT, self.p_name),
                     '/v1//%s/%s/o' % (c.ACCOUNT, self.p_name),
                     '/v1.0/%s/%s/o' % (c.ACCOUNT, self.p_name),
                     '/v1/%s/%s/./o' % (c.ACCOUNT, self.p_name),
                     '/v1/%s/%s/o' % (c.ACCOUNT, self.p_name.upper())):
            self.assertNoLeak(self.req('GET', path, user=c.OWNER),
                              self.secret)

    def test_legacy_versions_location(self):
        # X-Versions-Location makes P the archive of U: popping a version
        # back into U reads P's bytes with a pre-authorised subrequest.
        for source in (LISTED, OTHER):
            _u, u = self.new_container({
                'X-Versions-Location': self.p_name}, prefix='uv')
            old = self.put_secret(u, 'doc')
            self.admin('PUT', u + '/doc', body=b'new')
            deleted = self.req('DELETE', u + '/doc', source=source,
                               user=c.OWNER)
            got = self.req('GET', u + '/doc', source=source, user=c.OWNER)
            if source == LISTED:
                self.assertEqual(204, deleted.status, deleted)
                self.assertAllowed(got, old)
            else:
                # Admitted to U but not to its archive P: the write that
                # would pop P's copy back into U is refused, U is intact.
                self.assertIPDenied(deleted)
                self.assertAllowed(got, b'new')

    def test_versions_location_into_protected_container(self):
        # Making P the archive of U would let writes to U reach P.
        for header in ('X-Versions-Location', 'X-History-Location'):
            bad = self.req('POST', self.u, {header: self.p_name},
                           user=c.OWNER)
            self.assertIPDenied(bad)
            head = self.admin('HEAD', self.u)
            self.assertNotIn(header, head.headers)
            good = self.req('POST', self.u, {header: self.p_name},
                            source=LISTED, user=c.OWNER)
            self.assertEqual(204, good.status, good)
            self.admin('POST', self.u, {header: ''})

    def test_s3api_segments_container_follows_its_bucket(self):
        # s3api keeps multipart upload parts of bucket P in "P+segments".
        segments = '/v1/%s/%s+segments' % (c.ACCOUNT, self.p_name)
        self.admin('PUT', segments)
        part = self.put_secret(segments, 'big/upload-id/1')
        for path in (segments + '/big/upload-id/1', segments):
            bad, good = self.both('GET', path)
            self.assertIPDenied(bad)
            self.assertNoLeak(bad, part)
            self.assertEqual(200, good.status, good)
        self.assertIn(part, good.body + self.req(
            'GET', segments + '/big/upload-id/1', source=LISTED,
            user=c.OWNER).body)

    def test_invalid_names_are_client_errors(self):
        # Not 503 (the rules are not unavailable): the path is refused.
        for path in ('/v1/%s/%%FF/o' % c.ACCOUNT,
                     '/v1/%s/%%ED%%A0%%80/o' % c.ACCOUNT,
                     '/v1/%s/a%%00b/o' % c.ACCOUNT):
            resp = self.req('GET', path, user=c.OWNER)
            self.assertEqual(4, resp.status // 100, (path, resp))

    def test_bulk_delete(self):
        body = ('%s/o\n' % self.p_name).encode()
        headers = {'Accept': 'application/json',
                   'Content-Type': 'text/plain'}
        path = '/v1/%s?bulk-delete' % c.ACCOUNT
        bad = self.req('POST', path, headers, body, OTHER, c.OWNER)
        self.assertEqual(0, json.loads(bad.body)['Number Deleted'], bad)
        self.assertAllowed(self.req('GET', self.p + '/o', source=LISTED,
                                    user=c.OWNER), self.secret)
        good = self.req('POST', path, headers, body, LISTED, c.OWNER)
        self.assertEqual(1, json.loads(good.body)['Number Deleted'], good)

    def test_writes_refused_too(self):
        obj = self.p + '/o'
        for method, path, headers in (
                ('PUT', obj, {}), ('POST', obj, {'X-Object-Meta-A': 'b'}),
                ('DELETE', obj, {}), ('POST', self.p, {
                    'X-Container-Read': '.r:*'}),
                ('DELETE', self.p, {})):
            self.assertIPDenied(self.req(method, path, headers, b'',
                                         user=c.OWNER))
        head = self.req('HEAD', obj, source=LISTED, user=c.OWNER)
        self.assertNotIn('X-Object-Meta-A', head.headers)
        self.assertAllowed(self.req('GET', obj, source=LISTED,
                                    user=c.OWNER), self.secret)
        self.assertEqual(401, self.req('GET', obj, source=LISTED).status)

    def test_owner_seat_is_always_allowed(self):
        # Positive control of the default always_allow = auto.
        self.assertAllowed(self.req('GET', self.p + '/o', source=ADMIN,
                                    user=c.OWNER), self.secret)

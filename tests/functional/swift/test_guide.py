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

"""The Operations Guide's scenario, strict and default."""

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER

SHALL_NOT = b'You shall not pass!'


class TestGuideScenario(base.ClusterTestCase):

    PROXIES = {
        'main': c.ProxySpec(),
        # The guide's own configuration: deny unless listed.
        'strict': c.ProxySpec(whitelist={
            'deny_message': SHALL_NOT.decode(),
            'deny_without_rules': 'true'}),
    }

    def test_strict_denies_until_listed(self):
        _name, path = self.new_container()
        secret = self.put_secret(path)
        obj = path + '/o'
        for source in (LISTED, OTHER):
            self.assertIPDenied(self.req('GET', path, source=source,
                                         user=c.OWNER, proxy='strict'),
                                SHALL_NOT)
        # The owner's own seat stays open (always_allow = auto).
        self.assertAllowed(self.req('GET', obj, source=ADMIN, user=c.OWNER,
                                    proxy='strict'), secret)

        # swift post --meta allow-dev:127.0.0.2 <container>
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED},
                   proxy='strict')
        self.assertAllowed(self.req('GET', obj, source=LISTED, user=c.OWNER,
                                    proxy='strict'), secret)
        resp = self.req('GET', path, source=LISTED, user=c.OWNER,
                        proxy='strict')
        self.assertAllowed(resp)
        self.assertEqual(b'o\n', resp.body)
        denied = self.req('GET', obj, source=OTHER, user=c.OWNER,
                          proxy='strict')
        self.assertIPDenied(denied, SHALL_NOT)
        self.assertNoLeak(denied, secret)

    def test_default_open_without_rules_closed_with(self):
        _name, path = self.new_container()
        secret = self.put_secret(path)
        obj = path + '/o'
        self.assertAllowed(self.req('GET', obj, user=c.OWNER), secret)

        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.assertIPDenied(self.req('GET', obj, user=c.OWNER))
        self.assertIPDenied(self.req('HEAD', path, user=c.OWNER), b'')
        self.assertAllowed(self.req('GET', obj, source=LISTED,
                                    user=c.OWNER), secret)
        # Checked before auth: an anonymous outsider learns nothing more
        # than a listed anonymous client, who gets auth's 401.
        self.assertIPDenied(self.req('GET', obj))
        self.assertEqual(401, self.req('GET', obj, source=LISTED).status)

        # Removing the rule (empty value) opens the container again.
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': ''})
        self.assertAllowed(self.req('GET', obj, user=c.OWNER), secret)

        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.assertIPDenied(self.req('GET', obj, user=c.OWNER))
        self.admin('POST', path, {'X-Remove-Container-Meta-Allow-Dev': 'x'})
        self.assertAllowed(self.req('GET', obj, user=c.OWNER), secret)

    def test_strict_mode_with_object_versioning(self):
        # Versions live in a hidden container the owner cannot give rules
        # to; a listed client must still be able to use the versions of
        # the container it is listed for.
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED,
            'X-Versions-Enabled': 'true'}, prefix='ver')
        obj = path + '/o'
        for body in (b'first', b'second'):
            self.assertEqual(201, self.req(
                'PUT', obj, body=body, source=LISTED, user=c.OWNER,
                proxy='strict').status)
        self.assertAllowed(self.req('GET', obj, source=LISTED, user=c.OWNER,
                                    proxy='strict'), b'second')
        listing = self.req('GET', path + '?versions&format=json',
                           source=LISTED, user=c.OWNER, proxy='strict')
        self.assertAllowed(listing)
        self.assertIPDenied(self.req('GET', obj, source=OTHER, user=c.OWNER,
                                     proxy='strict'), SHALL_NOT)

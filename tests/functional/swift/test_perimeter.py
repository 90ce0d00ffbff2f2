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

"""The account's rules are a perimeter; rules change only through it.

The rows of issue 10, played by an attacker at 127.0.0.9 holding a valid
token, while the rules list 127.0.0.2: the owner's (tempauth ``.admin``),
an account-ACL user's (tester3, given ``read-write`` on the account) or
the reseller admin's. Each has its positive control from 127.0.0.2, and
each is checked through two proxies sharing memcache: what one proxy
stored, the other enforces.
"""

import base64
import email.utils
import hashlib
import hmac
import io
import json
import os
import tarfile

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED = base.ADMIN, base.LISTED
BAD = '127.0.0.9'
ACCOUNT = '/v1/' + c.ACCOUNT
PROXIES = ('main', 'second')
MANAGED = {'allow_account_management': 'true'}


class PerimeterTestCase(base.ClusterTestCase):

    PROXIES = {name: c.ProxySpec(app=MANAGED) for name in PROXIES}

    def setUp(self):
        super(PerimeterTestCase, self).setUp()
        # tester3 may read and write the account (not its rules).
        self.admin('POST', ACCOUNT, {'X-Account-Access-Control': json.dumps(
            {'read-write': [c.USER3]})})
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Account-Access-Control': '{}'})

    def account_rule(self, value, name='Office', path=ACCOUNT, user=c.OWNER):
        """Set an account rule from the always-allowed seat, undone later."""
        self.admin('POST', path, {'X-Account-Meta-Allow-%s' % name: value},
                   user=user)
        self.addCleanup(self.admin, 'POST', path, {
            'X-Remove-Account-Meta-Allow-%s' % name: 'x'}, user=user)

    def account_rules(self, path=ACCOUNT, user=c.OWNER):
        head = self.admin('HEAD', path, user=user).headers
        return {k.lower(): v for k, v in head.items()
                if k.lower().startswith('x-account-meta-allow-')}

    def assertEverywhere(self, method, path, source, user, status,
                         body=None, headers=None):
        """*status* (and *body*) through every proxy."""
        for proxy in PROXIES:
            resp = self.req(method, path, headers, None, source, user, proxy)
            self.assertEqual(status, resp.status, (proxy, resp))
            if body is not None:
                self.assertEqual(body, resp.body, (proxy, resp))

    def assertDeniedEverywhere(self, path, source, user, *secrets):
        for proxy in PROXIES:
            resp = self.req('GET', path, source=source, user=user,
                            proxy=proxy)
            self.assertIPDenied(resp)
            self.assertNoLeak(resp, *secrets)


class TestAccountPerimeter(PerimeterTestCase):
    """Rows 1 to 4: the account's rules bound the account itself."""

    def test_row1_account_rule_cannot_widen_a_container(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        _open, open_path = self.new_container()
        open_secret = self.put_secret(open_path)
        # Control: the listed client reads, the attacker does not.
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER, proxy='second'), secret)
        self.assertDeniedEverywhere(path + '/o', BAD, c.OWNER, secret)
        # The account has no rule: the owner's token may give it one...
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Remove-Account-Meta-Allow-Mine': 'x'})
        resp = self.req('POST', ACCOUNT, {'X-Account-Meta-Allow-Mine': BAD},
                        source=BAD, user=c.OWNER)
        self.assertEqual(204, resp.status, resp)
        # ...which bounds the account (the open container is BAD's now)...
        self.assertAllowed(self.req('GET', open_path + '/o', source=BAD,
                                    user=c.OWNER, proxy='second'),
                           open_secret)
        self.assertDeniedEverywhere(open_path + '/o', LISTED, c.OWNER,
                                    open_secret)
        # ...but the container's own rule still refuses BAD.
        self.assertDeniedEverywhere(path + '/o', BAD, c.OWNER, secret)
        for user in (c.OWNER, c.USER3):
            self.assertDeniedEverywhere(path + '/o', BAD, user, secret)

    def test_row1_acl_user_cannot_give_the_account_a_rule(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        # Control: the ACL reads from the listed address.
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.USER3, proxy='second'), secret)
        resp = self.req('POST', ACCOUNT, {'X-Account-Meta-Allow-Mine': BAD},
                        source=BAD, user=c.USER3)
        self.assertEqual(403, resp.status, resp)
        self.assertEqual({}, self.account_rules())
        self.assertDeniedEverywhere(path + '/o', BAD, c.USER3, secret)

    def test_row2_rule_write_must_pass_the_account_rules(self):
        self.account_rule(LISTED)
        _name, path = self.new_container()
        secret = self.put_secret(path)
        for user in (c.OWNER, c.USER3):
            for proxy in PROXIES:
                resp = self.req('POST', ACCOUNT, {
                    'X-Account-Meta-Allow-Mine': BAD,
                    'X-Account-Meta-Row2': 'red'}, source=BAD, user=user,
                    proxy=proxy)
                self.assertIPDenied(resp)
        self.assertEqual({'x-account-meta-allow-office': LISTED},
                         self.account_rules())
        self.assertNotIn('X-Account-Meta-Row2',
                         self.admin('HEAD', ACCOUNT).headers)
        for user in (c.OWNER, c.USER3):
            self.assertDeniedEverywhere(path + '/o', BAD, user, secret)
            # Control: the listed client reads the object...
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        user=user, proxy='second'), secret)
        # ...and its owner may add a rule (the ACL user may not).
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Remove-Account-Meta-Allow-Mine': 'x'})
        resp = self.req('POST', ACCOUNT, {'X-Account-Meta-Allow-Mine': BAD},
                        source=LISTED, user=c.OWNER, proxy='second')
        self.assertEqual(204, resp.status, resp)
        self.assertAllowed(self.req('GET', path + '/o', source=BAD,
                                    user=c.OWNER), secret)

    def test_row3_rule_removal_must_pass_the_account_rules(self):
        self.account_rule(LISTED)
        _name, path = self.new_container()
        secret = self.put_secret(path)
        for user in (c.OWNER, c.USER3):
            for proxy in PROXIES:
                for headers in ({'X-Remove-Account-Meta-Allow-Office': 'x'},
                                {'X-Account-Meta-Allow-Office': ''}):
                    resp = self.req('POST', ACCOUNT, headers, source=BAD,
                                    user=user, proxy=proxy)
                    self.assertIPDenied(resp)
        self.assertEqual({'x-account-meta-allow-office': LISTED},
                         self.account_rules())
        self.assertDeniedEverywhere(path + '/o', BAD, c.OWNER, secret)
        # Control: the owner at the listed address removes it...
        resp = self.req('POST', ACCOUNT, {
            'X-Remove-Account-Meta-Allow-Office': 'x'}, source=LISTED,
            user=c.OWNER, proxy='second')
        self.assertEqual(204, resp.status, resp)
        self.assertEqual({}, self.account_rules())
        # ...and the account is open again, through both proxies.
        for proxy in PROXIES:
            self.assertAllowed(self.req('GET', path + '/o', source=BAD,
                                        user=c.OWNER, proxy=proxy), secret)

    def test_row4_account_reads_must_pass_the_account_rules(self):
        _name, path = self.new_container(prefix='listed-name')
        self.admin('POST', ACCOUNT, {'X-Account-Meta-Temp-URL-Key': 'k3y'})
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Remove-Account-Meta-Temp-URL-Key': 'x'})
        # Control: without account rules the attacker lists the account.
        listing = self.req('GET', ACCOUNT + '?format=json', source=BAD,
                           user=c.OWNER)
        self.assertEqual(200, listing.status, listing)
        self.assertIn(path.rsplit('/', 1)[1].encode(), listing.body)
        self.account_rule(LISTED)
        for user in (c.OWNER, c.USER3):
            for proxy in PROXIES:
                resp = self.req('GET', ACCOUNT + '?format=json', source=BAD,
                                user=user, proxy=proxy)
                self.assertIPDenied(resp)
                self.assertNotIn(b'listed-name', resp.body)
                head = self.req('HEAD', ACCOUNT, source=BAD, user=user,
                                proxy=proxy)
                self.assertEqual(403, head.status, head)
                for key in head.headers:
                    self.assertNotIn('meta', key.lower(), head.headers)
                    self.assertNotIn('count', key.lower(), head.headers)
            # Control: from the listed address the account answers.
            listing = self.req('GET', ACCOUNT + '?format=json',
                               source=LISTED, user=user, proxy='second')
            self.assertEqual(200, listing.status, listing)
            self.assertIn(b'listed-name', listing.body)
        head = self.req('HEAD', ACCOUNT, source=LISTED, user=c.OWNER,
                        proxy='second')
        self.assertEqual(204, head.status, head)
        self.assertEqual(LISTED, head.headers['X-Account-Meta-Allow-Office'])
        self.assertEqual('k3y', head.headers['X-Account-Meta-Temp-URL-Key'])

    def test_every_account_method_is_judged(self):
        self.account_rule(LISTED)
        for method in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'):
            for proxy in PROXIES:
                resp = self.req(method, ACCOUNT, source=BAD, user=c.OWNER,
                                proxy=proxy)
                self.assertEqual(403, resp.status, (method, proxy, resp))
        # Anonymous too: refused before auth, as for containers.
        self.assertIPDenied(self.req('GET', ACCOUNT, source=BAD))
        self.assertEqual(401, self.req('GET', ACCOUNT, source=LISTED).status)
        # Control: the owner at the listed address.
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Remove-Account-Meta-Color': 'x'})
        self.assertEqual(204, self.req('POST', ACCOUNT, {
            'X-Account-Meta-Color': 'blue'}, source=LISTED,
            user=c.OWNER).status)

    def test_client_sysmeta_is_stripped(self):
        self.account_rule(LISTED)
        sysmeta = 'X-Account-Sysmeta-Ip-Whitelist-Allow-Mine'
        self.admin('POST', ACCOUNT, {sysmeta: BAD})
        self.assertEqual(403, self.req('POST', ACCOUNT, {sysmeta: BAD},
                                       source=BAD, user=c.OWNER).status)
        self.assertEqual({'x-account-meta-allow-office': LISTED},
                         self.account_rules())
        self.assertEqual(403, self.req('HEAD', ACCOUNT, source=BAD,
                                       user=c.OWNER).status)
        self.assertEqual(204, self.req('HEAD', ACCOUNT, source=LISTED,
                                       user=c.OWNER).status)

    def test_container_admitted_only_by_its_own_rules_is_refused(self):
        # The behaviour change of the upgrade note, cell by cell.
        self.account_rule('127.0.0.0/29')  # .0 - .7
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': '127.0.0.2, 127.0.0.9'})
        secret = self.put_secret(path)
        for source, allowed in ((LISTED, True),     # both levels
                                (BAD, False),       # the container only
                                ('127.0.0.5', False)):  # the account only
            for proxy in PROXIES:
                resp = self.req('GET', path + '/o', source=source,
                                user=c.OWNER, proxy=proxy)
                if allowed:
                    self.assertAllowed(resp, secret)
                else:
                    self.assertIPDenied(resp)
                    self.assertNoLeak(resp, secret)


class TestRulesHolders(PerimeterTestCase):
    """Rows 5 and 6: deleting what holds rules."""

    def test_row5_reseller_admin_account_delete(self):
        account = '/v1/AUTH_perimeter-%s' % self.getUniqueString()
        # A reseller admin creates an account with a rule: validated...
        resp = self.req('PUT', account, {
            'X-Account-Meta-Allow-Office': '10.1.2.3/16'}, source=ADMIN,
            user=c.RESELLER)
        self.assertEqual(400, resp.status, resp)
        # ...and stored as a rule (201: the refused PUT created nothing).
        self.admin('PUT', account, {'X-Account-Meta-Allow-Office': LISTED},
                   user=c.RESELLER, expect=201)
        self.assertEqual({'x-account-meta-allow-office': LISTED},
                         self.account_rules(account, c.RESELLER))
        for proxy in PROXIES:
            resp = self.req('DELETE', account, source=BAD, user=c.RESELLER,
                            proxy=proxy)
            self.assertIPDenied(resp)
            self.assertEqual(403, self.req('PUT', account, source=BAD,
                                           user=c.RESELLER,
                                           proxy=proxy).status)
        self.assertEqual({'x-account-meta-allow-office': LISTED},
                         self.account_rules(account, c.RESELLER))
        # Control: from the listed address the reseller admin deletes it.
        resp = self.req('DELETE', account, source=LISTED, user=c.RESELLER,
                        proxy='second')
        self.assertEqual(204, resp.status, resp)
        self.assertIn(self.req('HEAD', account, source=LISTED,
                               user=c.RESELLER).status, (404, 410))

    def test_account_with_containers_deleted_only_from_always_allow(self):
        # The account has no rule, its container has one: deleting the
        # account would hand the container (rules, data) to the reaper.
        account = '/v1/AUTH_perimeter-%s' % self.getUniqueString()
        self.admin('PUT', account, user=c.RESELLER, expect=201)
        self.admin('PUT', account + '/pvt', {
            'X-Container-Meta-Allow-Dev': LISTED}, user=c.RESELLER)
        self.admin('PUT', account + '/pvt/o', body=b'V1-SECRET',
                   user=c.RESELLER)
        for proxy in PROXIES:
            for source in (BAD, LISTED):
                resp = self.req('DELETE', account, source=source,
                                user=c.RESELLER, proxy=proxy)
                self.assertEqual(403, resp.status, (proxy, source, resp))
                self.assertIn(b'always_allow', resp.body)
        resp = self.req('GET', account + '/pvt/o', source=LISTED,
                        user=c.RESELLER, proxy='second')
        self.assertEqual(b'V1-SECRET', resp.body)
        # Controls: an empty account goes from an address its (absent)
        # rules admit; one with containers from an always_allow address.
        empty = '/v1/AUTH_perimeter-%s' % self.getUniqueString()
        self.admin('PUT', empty, user=c.RESELLER, expect=201)
        self.assertEqual(204, self.req('DELETE', empty, source=BAD,
                                       user=c.RESELLER).status)
        self.admin('DELETE', account, user=c.RESELLER, proxy='second',
                   expect=204)

    def _row6_container(self):
        name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        return name, path

    def test_row6_acl_user_cannot_delete_a_container_with_rules(self):
        _name, path = self._row6_container()
        # Control: the ACL does let tester3 delete a container without...
        _plain, plain = self.new_container()
        resp = self.req('DELETE', plain, source=LISTED, user=c.USER3)
        self.assertEqual(204, resp.status, resp)
        # ...and use this one from the listed address.
        self.assertEqual(204, self.req('GET', path, source=LISTED,
                                       user=c.USER3).status)
        for proxy in PROXIES:
            resp = self.req('DELETE', path, source=LISTED, user=c.USER3,
                            proxy=proxy)
            self.assertEqual(403, resp.status, resp)
            self.assertIn(b'Only the owner', resp.body)
            # Re-creating it over the old one changes nothing either.
            resp = self.req('PUT', path, source=LISTED, user=c.USER3,
                            proxy=proxy)
            self.assertEqual(202, resp.status, resp)
        head = self.admin('HEAD', path).headers
        self.assertEqual(LISTED, head['X-Container-Meta-Allow-Dev'])
        secret = self.put_secret(path)
        self.assertDeniedEverywhere(path + '/o', BAD, c.USER3, secret)
        self.assertDeniedEverywhere(path + '/o', BAD, c.OWNER, secret)

    def test_row6_bulk_delete_of_a_container_with_rules(self):
        name, path = self._row6_container()
        body = ('%s\n' % name).encode()
        headers = {'Accept': 'application/json',
                   'Content-Type': 'text/plain'}
        bulk = ACCOUNT + '?bulk-delete'
        resp = self.req('POST', bulk, headers, body, LISTED, c.USER3)
        self.assertEqual(0, json.loads(resp.body)['Number Deleted'], resp)
        self.admin('HEAD', path)
        # Control: the owner's bulk delete removes it.
        resp = self.req('POST', bulk, headers, body, LISTED, c.OWNER,
                        'second')
        self.assertEqual(1, json.loads(resp.body)['Number Deleted'], resp)
        self.admin('HEAD', path, expect=404)

    def test_row6_owner_delete_must_pass_the_rules(self):
        _name, path = self._row6_container()
        for proxy in PROXIES:
            self.assertIPDenied(self.req('DELETE', path, source=BAD,
                                         user=c.OWNER, proxy=proxy))
        self.admin('HEAD', path)
        # Control: the owner from the listed address deletes it, and the
        # rules go with it: whoever creates the name again starts afresh.
        resp = self.req('DELETE', path, source=LISTED, user=c.OWNER,
                        proxy='second')
        self.assertEqual(204, resp.status, resp)
        resp = self.req('PUT', path, source=LISTED, user=c.USER3)
        self.assertEqual(201, resp.status, resp)
        self.assertNotIn('X-Container-Meta-Allow-Dev',
                         self.admin('HEAD', path).headers)

    def test_acl_user_cannot_send_versions_out_of_the_rules(self):
        # A versions location makes every overwrite copy the old data into
        # another container: out of a container with rules, only its
        # owner may decide that (as only the owner removes the rules).
        _name, path = self._row6_container()
        secret = self.put_secret(path)
        archive, archive_path = self.new_container(prefix='archive')
        for header in ('X-History-Location', 'X-Versions-Location'):
            for proxy in PROXIES:
                for method in ('POST', 'PUT'):
                    resp = self.req(method, path, {header: archive},
                                    source=LISTED, user=c.USER3,
                                    proxy=proxy)
                    self.assertEqual(403, resp.status, resp)
                    self.assertIn(b'Only the owner', resp.body)
            self.assertNotIn(header, self.admin('HEAD', path).headers)
        # The owner overwrites: nothing of the old data leaves.
        self.admin('PUT', path + '/o', body=b'new')
        listing = self.req('GET', archive_path, source=BAD, user=c.USER3)
        self.assertEqual(204, listing.status, listing)
        # Controls: tester3 may archive a container without rules...
        _plain, plain = self.new_container()
        resp = self.req('POST', plain, {'X-History-Location': archive},
                        source=LISTED, user=c.USER3)
        self.assertEqual(204, resp.status, resp)
        # ...and may stop the archiving the owner set up here.
        self.admin('POST', path, {'X-History-Location': archive})
        self.admin('PUT', path + '/o', body=secret)
        listing = self.req('GET', archive_path, source=BAD, user=c.USER3)
        self.assertEqual(200, listing.status, listing)
        resp = self.req('POST', path, {'X-Remove-History-Location': 'x'},
                        source=LISTED, user=c.USER3)
        self.assertEqual(204, resp.status, resp)
        self.assertNotIn('X-History-Location',
                         self.admin('HEAD', path).headers)

    def test_account_delete_by_non_owner_of_rules_holder(self):
        # tester3 cannot delete accounts at all (Swift: reseller admins
        # only); the refusal comes before the rules are looked at.
        self.account_rule('127.0.0.0/30')
        resp = self.req('DELETE', ACCOUNT, source=LISTED, user=c.USER3)
        self.assertEqual(403, resp.status, resp)
        self.admin('HEAD', ACCOUNT)


def tar_of(files):
    """A tar archive of ``{name: bytes}``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w') as tar:
        for name, data in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    return out.getvalue()


class TestOtherRoads(PerimeterTestCase):
    """Bulk extract, object versioning and s3api within the perimeter."""

    PROXIES = dict(PerimeterTestCase.PROXIES, s3=c.ProxySpec(
        pipeline=c.PIPELINE.replace('ratelimit tempauth',
                                    'ratelimit s3api tempauth')))

    def _extract(self, path, files, source):
        resp = self.req('PUT', path + '?extract-archive=tar', {
            'Accept': 'application/json'}, tar_of(files), source, c.OWNER)
        self.assertEqual(200, resp.status, resp)
        return json.loads(resp.body)

    def test_bulk_extract_archive(self):
        self.account_rule('127.0.0.0/29')
        name = 'extracted-%s' % os.urandom(4).hex()
        # Into the account (it creates the container): the account's rules.
        files = {name + '/o': b'data'}
        bad = self.req('PUT', ACCOUNT + '?extract-archive=tar', {
            'Accept': 'application/json'}, tar_of(files), BAD, c.OWNER)
        self.assertIPDenied(bad)
        self.admin('HEAD', '%s/%s' % (ACCOUNT, name), expect=404)
        self.assertEqual(1, self._extract(ACCOUNT, files, LISTED)[
            'Number Files Created'])
        # Into a container with rules, from an address only the account
        # lists: every object it would create is judged, and refused.
        protected, path = self.new_container({
            'X-Container-Meta-Allow-Dev': BAD})
        files = {protected + '/o1': b'1', protected + '/o2': b'2'}
        result = self._extract(ACCOUNT, files, LISTED)
        self.assertEqual(0, result['Number Files Created'], result)
        self.admin('HEAD', path + '/o1', expect=404)
        self.assertIPDenied(self.req('PUT', path + '?extract-archive=tar',
                                     body=tar_of({'o1': b'1'}),
                                     source=LISTED, user=c.OWNER))
        # Control: listed by both levels.
        self.account_rule(BAD, name='Bad')
        self.assertEqual(2, self._extract(ACCOUNT, files, BAD)[
            'Number Files Created'])

    def test_object_versions(self):
        self.account_rule(LISTED)
        _name, path = self.new_container({'X-Versions-Enabled': 'true'},
                                         prefix='versioned')
        old = self.put_secret(path)
        self.put_secret(path)
        listing = self.req('GET', path + '?versions&format=json',
                           source=LISTED, user=c.OWNER, proxy='second')
        self.assertEqual(200, listing.status, listing)
        versions = json.loads(listing.body)
        self.assertEqual(2, len(versions), versions)
        version = versions[-1]['version_id']
        for proxy in PROXIES:
            self.assertIPDenied(self.req('GET', path + '?versions',
                                         source=BAD, user=c.OWNER,
                                         proxy=proxy))
            resp = self.req('GET', path + '/o?version-id=' + version,
                            source=BAD, user=c.OWNER, proxy=proxy)
            self.assertIPDenied(resp)
            self.assertNoLeak(resp, old)
        self.assertAllowed(self.req(
            'GET', path + '/o?version-id=' + version, source=LISTED,
            user=c.OWNER), old)

    def s3(self, method, path, source, body=None):
        """An S3 request signed (v2) with the owner's tempauth key."""
        date = email.utils.formatdate(usegmt=True)
        signed = '%s\n\n\n%s\n%s' % (method, date, path)
        signature = base64.b64encode(hmac.new(
            c.PASSWORDS[c.OWNER].encode(), signed.encode(),
            hashlib.sha1).digest()).decode()
        return self.cluster.request(method, path, {
            'Date': date,
            'Authorization': 'AWS %s:%s' % (c.OWNER, signature)},
            body, source, 's3')

    def test_s3api_service_and_buckets(self):
        bucket, path = self.new_container(prefix='bucket')
        secret = self.put_secret(path)
        obj = '/%s/o' % bucket
        # Control: no rules yet, the S3 client reads from anywhere.
        self.assertEqual(secret, self.s3('GET', obj, BAD).body)
        self.account_rule(LISTED)
        for method, s3_path in (('GET', '/'), ('GET', '/' + bucket),
                                ('HEAD', '/' + bucket), ('GET', obj),
                                ('PUT', '/%s/new' % bucket),
                                ('DELETE', obj), ('PUT', '/new-bucket'),
                                ('DELETE', '/' + bucket)):
            resp = self.s3(method, s3_path, BAD)
            self.assertEqual(403, resp.status, (method, s3_path, resp))
            self.assertNotIn(secret[:12], resp.body)
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.admin('HEAD', '%s/new-bucket' % ACCOUNT, expect=404)
        for s3_path in ('/', '/' + bucket):
            self.assertEqual(200, self.s3('GET', s3_path, LISTED).status)
        self.assertEqual(secret, self.s3('GET', obj, LISTED).body)

    def test_s3api_bucket_with_its_own_rules(self):
        bucket, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED}, prefix='bucket')
        secret = self.put_secret(path)
        obj = '/%s/o' % bucket
        resp = self.s3('GET', obj, BAD)
        self.assertEqual(403, resp.status, resp)
        self.assertNoLeak(resp, secret)
        # The multipart parts of the bucket follow its rules.
        resp = self.s3('POST', obj + '?uploads', BAD)
        self.assertEqual(403, resp.status, resp)
        self.assertEqual(secret, self.s3('GET', obj, LISTED).body)
        self.assertEqual(200, self.s3('POST', obj + '?uploads',
                                      LISTED).status)

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

"""Who may change rules, who sees them, and malformed rules."""

import json

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER

ACCOUNT = '/v1/' + c.ACCOUNT


class TestRuleOwnership(base.ClusterTestCase):
    """tester3 acts from 127.0.0.1 (always allowed): only ownership counts.

    The tests share the account ACL: each sets it, none relies on its
    absence.
    """

    def _acl(self, acl):
        self.admin('POST', ACCOUNT, {
            'X-Account-Access-Control': json.dumps(acl)})

    def _as3(self, method, path, headers=None, body=None):
        return self.req(method, path, headers, body, ADMIN, c.USER3)

    def _rules(self, path):
        head = self.admin('HEAD', path)
        return {k.lower(): v for k, v in head.headers.items()
                if 'allow' in k.lower() or 'color' in k.lower()}

    def test_container_write_acl_cannot_touch_rules(self):
        self._acl({})
        _name, path = self.new_container({
            'X-Container-Write': c.USER3, 'X-Container-Read': c.USER3,
            'X-Container-Meta-Allow-Dev': LISTED})
        before = self._rules(path)
        self.assertEqual(LISTED, before['x-container-meta-allow-dev'])
        for headers in ({'X-Container-Meta-Allow-X': '127.0.0.9'},
                        {'X-Container-Meta-Allow-Dev': ''},
                        {'X-Remove-Container-Meta-Allow-Dev': 'x'}):
            self.assertEqual(403, self._as3('POST', path, headers).status)
        self.assertEqual(before, self._rules(path))
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))
        # What the ACL does grant still works.
        self.assertEqual(201, self._as3('PUT', path + '/o', body=b'x').status)
        self.assertEqual(200, self._as3('GET', path + '/o').status)

    def test_account_read_write_acl_cannot_touch_rules(self):
        self._acl({'read-write': [c.USER3]})
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        before = self._rules(path)
        # Control: this user may change other container metadata...
        self.assertEqual(204, self._as3('POST', path, {
            'X-Container-Meta-Color': 'blue'}).status)
        # ...but not a rule, and nothing else of that request is stored.
        for headers in ({'X-Container-Meta-Allow-X': '127.0.0.9'},
                        {'X-Remove-Container-Meta-Allow-Dev': 'x'},
                        {'X-Container-Meta-Allow-Dev': ''}):
            headers['X-Container-Meta-Color'] = 'red'
            self.assertEqual(403, self._as3('POST', path, headers).status)
        after = self._rules(path)
        self.assertEqual(dict(before, **{'x-container-meta-color': 'blue'}),
                         after)
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))
        # Creating a container with a rule is setting a rule.
        fresh = ACCOUNT + '/by-tester3-%s' % path.rsplit('/', 1)[1]
        self.assertEqual(403, self._as3('PUT', fresh, {
            'X-Container-Meta-Allow-X': '127.0.0.9'}).status)
        self.assertEqual(404, self.admin('HEAD', fresh, expect=404).status)
        self.assertEqual(201, self._as3('PUT', fresh).status)
        self.assertEqual(403, self._as3('POST', ACCOUNT, {
            'X-Account-Meta-Allow-X': '127.0.0.9'}).status)
        self.assertNotIn('x-account-meta-allow-x', self._rules(ACCOUNT))

    def test_account_admin_acl_is_an_owner(self):
        # Positive control of the two tests above.
        self._acl({'admin': [c.USER3]})
        self.addCleanup(self._acl, {})
        _name, path = self.new_container()
        self.assertEqual(204, self._as3('POST', path, {
            'X-Container-Meta-Allow-Dev': LISTED}).status)
        self.assertEqual(LISTED, self._rules(path)[
            'x-container-meta-allow-dev'])
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))

    def test_rules_shown_to_owners_only(self):
        self._acl({'read-only': [c.USER3]})
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        self.admin('POST', ACCOUNT, {'X-Account-Meta-Allow-Office':
                                     '127.0.0.0/30'})
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Account-Meta-Allow-Office': ''})
        owner = self.admin('HEAD', path).headers
        self.assertEqual(LISTED, owner['X-Container-Meta-Allow-Dev'])
        self.assertEqual('127.0.0.0/30', self.admin('HEAD', ACCOUNT).headers[
            'X-Account-Meta-Allow-Office'])
        for target in (path, ACCOUNT):
            resp = self._as3('HEAD', target)
            self.assertEqual(2, resp.status // 100, resp)
            shown = [k for k in resp.headers if 'allow' in k.lower()
                     or 'sysmeta' in k.lower()]
            self.assertEqual([], shown, target)

    def test_sysmeta_cannot_be_written_directly(self):
        self._acl({'read-write': [c.USER3]})
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        sysmeta = 'X-Container-Sysmeta-Ip-Whitelist-Allow-Dev'
        self._as3('POST', path, {sysmeta: OTHER})
        self.admin('POST', path, {sysmeta: OTHER})
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))
        self.assertEqual(LISTED, self._rules(path)[
            'x-container-meta-allow-dev'])


class TestMalformedRules(base.ClusterTestCase):

    def test_bad_values_refused_and_nothing_stored(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        for bad, named in (('10.0.0.300', '10.0.0.300'),
                           ('10.1.2.3/16', '10.1.2.3/16'),
                           ('nonsense', 'nonsense'),
                           ('127.0.0.3, nonsense', 'nonsense'),
                           ('127.0.0.0/33', '127.0.0.0/33'),
                           ('::1/129', '::1/129'),
                           # Only separators: it would admit nobody.
                           (', ,', 'lists no address')):
            resp = self.admin('POST', path, {
                'X-Container-Meta-Allow-New': bad,
                'X-Container-Meta-Color': 'red'}, expect=400)
            self.assertIn(named.encode(), resp.body)
        head = self.admin('HEAD', path).headers
        self.assertNotIn('X-Container-Meta-Color', head)
        self.assertNotIn('X-Container-Meta-Allow-New', head)
        self.assertEqual(LISTED, head['X-Container-Meta-Allow-Dev'])
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))
        self.assertEqual(204, self.req('GET', path, source=LISTED,
                                       user=c.OWNER).status)

    def test_container_put_with_bad_rule_creates_nothing(self):
        path = ACCOUNT + '/bad-put'
        resp = self.admin('PUT', path, {
            'X-Container-Meta-Allow-Dev': '10.1.2.3/16'}, expect=400)
        self.assertIn(b'10.1.2.3/16', resp.body)
        self.admin('HEAD', path, expect=404)

    def test_account_bad_rule(self):
        resp = self.admin('POST', ACCOUNT, {
            'X-Account-Meta-Allow-Office': '192.0.2.1/8',
            'X-Account-Meta-Color': 'red'}, expect=400)
        self.assertIn(b'192.0.2.1/8', resp.body)
        head = self.admin('HEAD', ACCOUNT).headers
        self.assertNotIn('X-Account-Meta-Color', head)
        self.assertNotIn('X-Account-Meta-Allow-Office', head)

    def test_good_values_in_loose_spelling_accepted(self):
        _name, path = self.new_container()
        self.admin('POST', path, {
            'X-Container-Meta-Allow-Dev': ' 127.0.0.2 ,,[::1], '})
        self.assertEqual(204, self.req('GET', path, source=LISTED,
                                       user=c.OWNER).status)
        self.assertIPDenied(self.req('GET', path, source=OTHER,
                                     user=c.OWNER))

    def _write_many_names(self, path, kind, names, batch=60):
        """Rules of one network each, *batch* names per request."""
        statuses = []
        for start in range(0, names, batch):
            resp = self.req('POST', path, {
                'X-%s-Meta-Allow-N%d' % (kind, i): '10.%d.%d.0/24' % (
                    i // 256, i % 256)
                for i in range(start, start + batch)}, source=LISTED,
                user=c.OWNER)
            statuses.append((resp.status, resp.body))
        return statuses

    def _remove_many_names(self, path, kind, names, batch=60):
        for start in range(0, names, batch):
            self.admin('POST', path, {
                'X-Remove-%s-Meta-Allow-N%d' % (kind, i): 'x'
                for i in range(start, start + batch)})

    def assertNamesBounded(self, statuses):
        # Each rule name is a header of every backend answer about its
        # holder: past Swift's header budget those answers fail, and the
        # account or container answers 503 to everybody, for good.
        self.assertEqual(204, statuses[0][0], statuses)
        for status, body in statuses[1:]:
            self.assertEqual(400, status, statuses)
            self.assertIn(b'allow-* rules; at most', body)

    def test_rule_names_are_bounded(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Listed': LISTED})
        secret = self.put_secret(path)
        statuses = self._write_many_names(path, 'Container', 240)
        # Control: the container still answers its listed client.
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertNoLeak(self.req('GET', path + '/o', user=c.OWNER), secret)
        self.assertNamesBounded(statuses)

    def test_account_rule_names_are_bounded(self):
        self.admin('POST', ACCOUNT, {'X-Account-Meta-Allow-Listed': LISTED})
        self.addCleanup(self.admin, 'POST', ACCOUNT, {
            'X-Remove-Account-Meta-Allow-Listed': 'x'})
        _name, path = self.new_container()
        secret = self.put_secret(path)
        self.addCleanup(self._remove_many_names, ACCOUNT, 'Account', 240)
        statuses = self._write_many_names(ACCOUNT, 'Account', 240)
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertEqual(204, self.req('HEAD', ACCOUNT, source=LISTED,
                                       user=c.OWNER).status)
        self.assertNamesBounded(statuses)


class TestRuleLimit(base.ClusterTestCase):
    """``max_rules``: networks per account or container, counted in all."""

    PROXIES = {
        'main': c.ProxySpec(whitelist={'max_rules': '5'}),
        # Without the filter: writes plain allow-* metadata, as the 2013
        # middleware's users did, past any limit.
        'plain': c.ProxySpec(pipeline=c.PLAIN_PIPELINE),
        'no-autocreate': c.ProxySpec(whitelist={'max_rules': '5'},
                                     app={'account_autocreate': 'false'}),
    }

    def _stored(self, path):
        head = self.admin('HEAD', path).headers
        return {k.lower(): v for k, v in head.items()
                if k.lower().startswith('x-container-meta-allow-')}

    def test_write_over_the_limit_refused_and_nothing_stored(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-A': '127.0.0.2, 10.0.0.0/8 fd00::/8'})
        resp = self.admin('POST', path, {
            'X-Container-Meta-Allow-B': '192.0.2.0/24, 198.51.100.0/24 ::1',
            'X-Container-Meta-Color': 'red'}, expect=400)
        self.assertIn(b'would list 6 networks', resp.body)
        self.assertIn(b'at most 5', resp.body)
        self.assertEqual({'x-container-meta-allow-a'},
                         set(self._stored(path)))
        self.assertNotIn('X-Container-Meta-Color',
                         self.admin('HEAD', path).headers)
        # Replacing a rule counts the new value instead of the old one.
        self.admin('POST', path, {
            'X-Container-Meta-Allow-A': '127.0.0.2',
            'X-Container-Meta-Allow-B': '192.0.2.0/24, 198.51.100.0/24 ::1'})
        self.assertEqual(2, len(self._stored(path)))
        self.admin('POST', path, {'X-Container-Meta-Allow-C': '127.0.0.9'})
        self.admin('POST', path, {'X-Container-Meta-Allow-D': '127.0.0.8'},
                   expect=400)

    def test_container_created_over_the_limit_is_not(self):
        path = ACCOUNT + '/too-many'
        self.admin('PUT', path, {'X-Container-Meta-Allow-A': ', '.join(
            '127.0.0.%d' % i for i in range(2, 8))}, expect=400)
        self.admin('HEAD', path, expect=404)

    def test_container_in_a_missing_account(self):
        # Swift's own 404, not "rules unavailable": nothing is stored there.
        resp = self.req('PUT', '/v1/%s/first' % c.ACCOUNT2,
                        {'X-Container-Meta-Allow-A': LISTED}, source=ADMIN,
                        user=c.OWNER2, proxy='no-autocreate')
        self.assertEqual(404, resp.status, resp)

    def test_account_rules_counted_apart(self):
        try:
            self.admin('POST', ACCOUNT, {
                'X-Account-Meta-Allow-Vpn': '127.0.0.0/29 ::1 fd00::/8'})
            resp = self.admin('POST', ACCOUNT, {
                'X-Account-Meta-Allow-Lab': '10.0.0.0/8 192.0.2.0/24 '
                                            '198.51.100.0/24'}, expect=400)
            self.assertIn(b'the account would list 6 networks', resp.body)
            # The account's rules do not count against its containers'.
            self.new_container({'X-Container-Meta-Allow-A': ', '.join(
                '127.0.0.%d' % i for i in range(2, 7))})
        finally:
            self.admin('POST', ACCOUNT, {
                'X-Remove-Account-Meta-Allow-Vpn': 'x'})

    def test_non_owner_learns_nothing_of_the_count(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-A': '127.0.0.2, 127.0.0.3'})
        too_many = {'X-Container-Meta-Allow-B':
                    '10.0.0.0/8 192.0.2.0/24 ::1 fd00::/8'}
        # tester3 may write this account's metadata (an account ACL), so
        # the request reaches the rule check, not only tempauth.
        self.admin('POST', ACCOUNT, {'X-Account-Access-Control': json.dumps(
            {'read-write': [c.USER3]})})
        try:
            self.assertEqual(204, self.req(
                'POST', path, {'X-Container-Meta-Color': 'blue'},
                source=ADMIN, user=c.USER3).status)
            resp = self.req('POST', path, too_many, source=ADMIN,
                            user=c.USER3)
        finally:
            self.admin('POST', ACCOUNT, {'X-Account-Access-Control': '{}'})
        self.assertEqual(403, resp.status, resp)
        self.assertEqual(b'Only the owner can change allow-* rules',
                         resp.body)
        # Control: the owner is told.
        owner = self.admin('POST', path, too_many, expect=400)
        self.assertIn(b'would list 6 networks', owner.body)

    def test_stored_over_the_limit_can_only_shrink(self):
        _name, path = self.new_container()
        # Seven networks written as the 2013 middleware did, past the filter.
        self.admin('POST', path, {'X-Container-Meta-Allow-Old': ', '.join(
            '127.0.0.%d' % i for i in range(2, 9))}, proxy='plain')
        self.assertIPDenied(self.req('GET', path, source='127.0.0.9',
                                     user=c.OWNER))
        resp = self.admin('POST', path, {
            'X-Container-Meta-Allow-New': '127.0.0.9'}, expect=400)
        self.assertIn(b'would list 8 networks', resp.body)
        # Replacing the old rule with a shorter one is no addition.
        self.admin('POST', path, {'X-Container-Meta-Allow-Old': '127.0.0.2'})
        self.admin('POST', path, {'X-Container-Meta-Allow-New': '127.0.0.9'})
        self.assertEqual(204, self.req('GET', path, source='127.0.0.9',
                                       user=c.OWNER).status)

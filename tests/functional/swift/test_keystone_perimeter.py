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

"""The account's rules are a perimeter under Keystone too.

An owner's valid token from an unlisted address can neither add to,
remove nor replace the account's rules, nor list, HEAD or delete the
account; an account rule never opens a container whose own rule refuses
the client. The owners are keystoneauth's three: an operator on
``AUTH_``, an operator with a service token on ``SERVICE_``, and a
reseller admin. Non-owners with a container ACL or the project reader
role cannot delete a container with rules (which would drop them). Every
refusal has its control from the listed address, through DevStack's order
and the recommended one.
"""

import json
import os

from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER
OFFICE = 'x-account-meta-allow-office'


class TestKeystoneAccountPerimeter(k.KeystoneClusterTestCase):

    # The reseller admin's DELETE of an account is the control of row 5.
    PROXY_APP = {'allow_account_management': 'true'}

    def owners(self):
        """``(account, owner's request arguments)`` of every kind."""
        return ((self.account, {'user': 'operator'}),
                (self.service_account, {'user': 'operator',
                                        'service_user': 'glance'}),
                (self.account, {'user': 'reseller'}))

    def _account_rule(self, account, owner, value=LISTED):
        path = '/v1/' + account
        self.admin('POST', path, {'X-Account-Meta-Allow-Office': value},
                   **owner)
        self.addCleanup(self.admin, 'POST', path, {
            'X-Account-Meta-Allow-Office': '',
            'X-Account-Meta-Allow-Mine': ''}, **owner)
        return path

    def test_account_rule_does_not_widen_a_container_rule(self):
        for account, owner in self.owners():
            for proxy in k.DELAYED:
                _name, path = self.new_container({
                    'X-Container-Meta-Allow-Dev': LISTED}, account=account,
                    **owner)
                secret = self.put_secret(path, **owner)
                self.assertAllowed(self.req('GET', path + '/o',
                                            source=LISTED, proxy=proxy,
                                            **owner), secret)
                acct = '/v1/' + account
                self.addCleanup(self.admin, 'POST', acct, {
                    'X-Account-Meta-Allow-Mine': ''}, **owner)
                # The account has no rule yet: nothing bounds this write.
                self.req('POST', acct, {'X-Account-Meta-Allow-Mine': OTHER},
                         source=OTHER, proxy=proxy, **owner)
                self.assertIPDenied(self.req('GET', path + '/o',
                                             proxy=proxy, **owner))
                self.admin('POST', acct, {'X-Account-Meta-Allow-Mine': ''},
                           **owner)
                self.assertAllowed(self.req('GET', path + '/o',
                                            source=LISTED, proxy=proxy,
                                            **owner), secret)

    def test_owner_cannot_add_account_rules_from_unlisted(self):
        for account, owner in self.owners():
            for proxy in k.DELAYED:
                acct = self._account_rule(account, owner)
                _name, path = self.new_container(account=account, **owner)
                secret = self.put_secret(path, **owner)
                widen = {'X-Account-Meta-Allow-Mine': OTHER}
                self.assertIPDenied(self.req('POST', acct, widen,
                                             proxy=proxy, **owner))
                self.assertEqual({OFFICE: LISTED}, self.rules_shown(
                    acct, **owner))
                self.assertIPDenied(self.req('GET', path + '/o',
                                             proxy=proxy, **owner))
                # Control: the owner at a listed address may widen.
                resp = self.req('POST', acct, widen, source=LISTED,
                                proxy=proxy, **owner)
                self.assertEqual(204, resp.status, resp)
                self.assertAllowed(self.req('GET', path + '/o',
                                            proxy=proxy, **owner), secret)
                self.admin('POST', acct, {'X-Account-Meta-Allow-Mine': ''},
                           **owner)

    def test_owner_cannot_remove_or_replace_account_rules_from_unlisted(self):
        for account, owner in self.owners():
            for proxy in k.DELAYED:
                acct = self._account_rule(account, owner)
                for headers in ({'X-Remove-Account-Meta-Allow-Office': 'x'},
                                {'X-Account-Meta-Allow-Office': ''},
                                {'X-Account-Meta-Allow-Office': OTHER}):
                    self.assertIPDenied(self.req('POST', acct, headers,
                                                 proxy=proxy, **owner))
                    self.assertEqual({OFFICE: LISTED}, self.rules_shown(
                        acct, **owner))
                resp = self.req('POST', acct, {
                    'X-Remove-Account-Meta-Allow-Office': 'x'},
                    source=LISTED, proxy=proxy, **owner)
                self.assertEqual(204, resp.status, resp)
                self.assertEqual({}, self.rules_shown(acct, **owner))

    def test_owner_cannot_list_or_head_the_account_from_unlisted(self):
        for account, owner in self.owners():
            name, _path = self.new_container(account=account, **owner)
            acct = self._account_rule(account, owner)
            for proxy in k.DELAYED:
                bad = self.req('GET', acct + '?format=json', proxy=proxy,
                               **owner)
                self.assertIPDenied(bad)
                self.assertNotIn(name.encode(), bad.body)
                head = self.req('HEAD', acct, proxy=proxy, **owner)
                self.assertEqual(403, head.status, head)
                self.assertFalse([h for h in head.headers if h.lower(
                ).startswith('x-account-')], head.headers)
                good = self.req('GET', acct + '?format=json', source=LISTED,
                                proxy=proxy, **owner)
                self.assertEqual(200, good.status, good)
                self.assertIn(name, [c['name'] for c in json.loads(
                    good.body)])
                self.assertEqual(204, self.req('HEAD', acct, source=LISTED,
                                               proxy=proxy, **owner).status)

    def test_nobody_deletes_the_account_from_unlisted(self):
        for proxy in k.DELAYED:
            # A throwaway account: the control really deletes it.
            account = 'AUTH_throwaway-%s-%d' % (proxy, os.getpid())
            reseller = {'user': 'reseller'}
            _name, path = self.new_container(account=account, **reseller)
            acct = '/v1/' + account
            self.admin('POST', acct, {'X-Account-Meta-Allow-Office': LISTED},
                       **reseller)
            self.assertIPDenied(self.req('DELETE', acct, proxy=proxy,
                                         **reseller))
            self.assertEqual(204, self.admin('HEAD', acct, **reseller).status)
            # Still holding a container: only from always_allow.
            resp = self.req('DELETE', acct, source=LISTED, proxy=proxy,
                            **reseller)
            self.assertEqual(403, resp.status, resp)
            self.assertIn(b'always_allow', resp.body)
            self.admin('DELETE', path, **reseller)
            resp = self.req('DELETE', acct, source=LISTED, proxy=proxy,
                            **reseller)
            self.assertEqual(204, resp.status, resp)
        # The operator may never delete its account (keystoneauth), and
        # from an unlisted address the rules answer first.
        acct = self._account_rule(self.account, {'user': 'operator'})
        for proxy in k.DELAYED:
            self.assertIPDenied(self.req('DELETE', acct, proxy=proxy,
                                         user='operator'))
            resp = self.req('DELETE', acct, source=LISTED, proxy=proxy,
                            user='operator')
            self.assertEqual(403, resp.status, resp)
            self.assertNotEqual(b'IP Denied', resp.body)
        self.assertEqual(204, self.admin('HEAD', acct).status)

    def test_non_owners_cannot_delete_a_container_with_rules(self):
        grantees = ','.join('%s:%s' % (self.keystone.id_of(project),
                                       self.keystone.id_of(user))
                            for user, project in (('member', 'project'),
                                                  ('stranger', 'other')))
        for proxy in k.DELAYED:
            _name, path = self.new_container({
                'X-Container-Meta-Allow-Dev': LISTED,
                'X-Container-Read': grantees,
                'X-Container-Write': grantees})
            for user in ('member', 'stranger', 'reader'):
                resp = self.req('DELETE', path, source=LISTED, user=user,
                                proxy=proxy)
                self.assertEqual(403, resp.status, (user, resp))
                self.assertEqual({'x-container-meta-allow-dev': LISTED},
                                 self.rules_shown(path, user='operator'))
            self.assertIPDenied(self.req('DELETE', path, proxy=proxy,
                                         user='operator'))
            resp = self.req('DELETE', path, source=LISTED, proxy=proxy,
                            user='operator')
            self.assertEqual(204, resp.status, resp)

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

"""Who owns rules under Keystone, and what everybody else can do.

keystoneauth makes a request ``swift_owner`` for a user with an
``operator_roles`` role on the account's project, for a reseller admin on
any account, and, on a ``SERVICE_`` account, only for an operator whose
request also carries an ``X-Service-Token`` with a ``SERVICE_service_roles``
role. Only they set, see and remove rules; from an unlisted address their
tokens are refused like anybody's. Each test runs through the DevStack
order and the recommended one (``keystone.DELAYED``).
"""

from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER
DEV = 'x-container-meta-allow-dev'


class TestKeystoneOwners(k.KeystoneClusterTestCase):

    def _admitted_only(self, path, allowed, denied, proxy, **who):
        """GET of *path* works from *allowed* and is refused from *denied*."""
        self.assertEqual(200, self.req('GET', path, source=allowed,
                                       proxy=proxy, **who).status)
        self.assertIPDenied(self.req('GET', path, source=denied,
                                     proxy=proxy, **who))

    def _owner_manages_container_rules(self, proxy, account=None, **owner):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED}, account=account, **owner)
        self.put_secret(path, **owner)
        obj = path + '/o'
        self.assertEqual({DEV: LISTED}, self.rules_shown(
            path, proxy=proxy, **owner))
        self._admitted_only(obj, LISTED, OTHER, proxy, **owner)
        self._admitted_only(path, LISTED, OTHER, proxy, **owner)  # listing
        # Replaced, from the listed address (the rule admits its author),
        # by rules that do not list it: refused unless confirmed.
        replacing = {'X-Container-Meta-Allow-Dev': OTHER,
                     'X-Container-Meta-Allow-Ops': ADMIN}
        resp = self.req('POST', path, replacing, source=LISTED, proxy=proxy,
                        **owner)
        self.assertEqual(409, resp.status, resp)
        self.assertEqual({DEV: LISTED}, self.rules_shown(
            path, proxy=proxy, **owner))
        resp = self.req('POST', path, dict(
            replacing, **{'X-Ip-Whitelist-Confirm-Lockout': 'yes'}),
            source=LISTED, proxy=proxy, **owner)
        self.assertEqual(204, resp.status, resp)
        self.assertEqual({DEV: OTHER, 'x-container-meta-allow-ops': ADMIN},
                         self.rules_shown(path, proxy=proxy, **owner))
        self._admitted_only(obj, OTHER, LISTED, proxy, **owner)
        # Removed, both ways: the container is open again.
        self.admin('POST', path, {'X-Remove-Container-Meta-Allow-Dev': 'x',
                                  'X-Container-Meta-Allow-Ops': ''},
                   proxy=proxy, **owner)
        self.assertEqual({}, self.rules_shown(path, proxy=proxy, **owner))
        for source in (LISTED, OTHER):
            self.assertEqual(200, self.req('GET', obj, source=source,
                                           proxy=proxy, **owner).status)

    def test_operator_manages_container_rules(self):
        for proxy in k.DELAYED:
            self._owner_manages_container_rules(proxy, user='operator')

    def test_operator_manages_account_rules(self):
        account = '/v1/' + self.account
        self.addCleanup(self.admin, 'POST', account, {
            'X-Account-Meta-Allow-Office': ''})
        for proxy in k.DELAYED:
            _name, path = self.new_container(prefix='open')
            self.put_secret(path)
            self.admin('POST', account, {
                'X-Account-Meta-Allow-Office': LISTED}, proxy=proxy)
            self.assertEqual({'x-account-meta-allow-office': LISTED},
                             self.rules_shown(account, user='operator',
                                              proxy=proxy))
            self._admitted_only(path + '/o', LISTED, OTHER, proxy,
                                user='operator')
            self.admin('POST', account, {
                'X-Account-Meta-Allow-Office': OTHER}, proxy=proxy)
            self._admitted_only(path + '/o', OTHER, LISTED, proxy,
                                user='operator')
            self.admin('POST', account, {
                'X-Remove-Account-Meta-Allow-Office': 'x'}, proxy=proxy)
            self.assertEqual({}, self.rules_shown(account, user='operator',
                                                  proxy=proxy))
            self.assertEqual(200, self.req('GET', path + '/o', source=OTHER,
                                           user='operator',
                                           proxy=proxy).status)

    def test_reseller_admin_is_an_owner(self):
        for proxy in k.DELAYED:
            for account in (self.account, self.service_account):
                self._owner_manages_container_rules(proxy, account,
                                                    user='reseller')
        # What the reseller admin set binds the project's operator too.
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED}, user='reseller')
        self.put_secret(path)
        self.assertEqual({DEV: LISTED}, self.rules_shown(path,
                                                         user='operator'))
        self._admitted_only(path + '/o', LISTED, OTHER, 'main',
                            user='operator')

    def test_service_token_makes_the_operator_owner_of_service_account(self):
        owner = {'user': 'operator', 'service_user': 'glance'}
        for proxy in k.DELAYED:
            self._owner_manages_container_rules(
                proxy, self.service_account, **owner)
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED},
            account=self.service_account, **owner)
        self.put_secret(path, **owner)
        for proxy in k.DELAYED:
            # The operator's token alone is not enough on SERVICE_...
            alone = self.req('HEAD', path, source=ADMIN, user='operator',
                             proxy=proxy)
            self.assertEqual(403, alone.status, alone)
            self.assertEqual(403, self.req('POST', path, {
                'X-Container-Meta-Allow-Dev': OTHER}, source=ADMIN,
                user='operator', proxy=proxy).status)
            # ...and the pair is refused from an unlisted address.
            self.assertIPDenied(self.req('POST', path, {
                'X-Container-Meta-Allow-Dev': OTHER}, proxy=proxy, **owner))
            self.assertIPDenied(self.req('GET', path + '/o', proxy=proxy,
                                         **owner))
            self.assertEqual({DEV: LISTED}, self.rules_shown(path, **owner))

    def _acl_container(self):
        """A container with a rule whose ACL lets member and stranger in."""
        grantees = ','.join('%s:%s' % (self.keystone.id_of(project),
                                       self.keystone.id_of(user))
                            for user, project in (('member', 'project'),
                                                  ('stranger', 'other')))
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED,
            'X-Container-Read': grantees, 'X-Container-Write': grantees})
        secret = self.put_secret(path)
        return path, secret

    def test_member_with_container_acl_reads_and_writes_objects(self):
        path, secret = self._acl_container()
        for proxy in k.DELAYED:
            for user in ('member', 'stranger'):
                self.assertAllowed(self.req('GET', path + '/o',
                                            source=LISTED, user=user,
                                            proxy=proxy), secret)
                self.assertEqual(201, self.req(
                    'PUT', path + '/by-' + user, body=b'x', source=LISTED,
                    user=user, proxy=proxy).status)
                listing = self.req('GET', path, source=LISTED, user=user,
                                   proxy=proxy)
                self.assertEqual(200, listing.status, listing)
                self.assertIn(b'by-' + user.encode(), listing.body)
                for method, body in (('GET', None), ('PUT', b'y'),
                                     ('DELETE', None)):
                    self.assertIPDenied(self.req(
                        method, path + '/o', body=body, user=user,
                        proxy=proxy))
                self.assertIPDenied(self.req('GET', path, user=user,
                                             proxy=proxy))
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user='operator'), secret)

    def _rule_writes(self, kind):
        prefix = 'X-%s-' % kind.capitalize()
        return ({prefix + 'Meta-Allow-X': OTHER},
                {prefix + 'Meta-Allow-Dev': ''},
                {prefix + 'Meta-Allow-Dev': OTHER},
                {'X-Remove-%sMeta-Allow-Dev' % prefix[2:]: 'x'},
                {prefix + 'Sysmeta-Ip-Whitelist-Allow-X': OTHER},
                {prefix + 'Sysmeta-Ip-Whitelist-Allow-Dev': ''})

    def test_members_neither_see_nor_change_container_rules(self):
        path, _secret = self._acl_container()
        before = self.rules_shown(path, user='operator')
        self.assertEqual({DEV: LISTED}, before)
        for proxy in k.DELAYED:
            for user in ('member', 'stranger', 'reader'):
                self.assertEqual({}, self.rules_shown(path, user=user,
                                                      proxy=proxy), user)
                for source in (ADMIN, LISTED):
                    for headers in self._rule_writes('container'):
                        for method in ('POST', 'PUT'):
                            resp = self.req(method, path, headers,
                                            source=source, user=user,
                                            proxy=proxy)
                            self.assertEqual(403, resp.status,
                                             (user, headers, resp))
                self.assertEqual(before, self.rules_shown(path,
                                                          user='operator'))
        # Positive control: the same write by the owner takes effect.
        self.admin('POST', path, {'X-Container-Meta-Allow-X': OTHER})
        self.assertEqual(OTHER, self.rules_shown(path, user='operator')[
            'x-container-meta-allow-x'])

    def test_members_neither_see_nor_change_account_rules(self):
        account = '/v1/' + self.account
        self.admin('POST', account, {'X-Account-Meta-Allow-Dev': LISTED})
        self.addCleanup(self.admin, 'POST', account, {
            'X-Account-Meta-Allow-Dev': '', 'X-Account-Meta-Allow-X': ''})
        before = self.rules_shown(account, user='operator')
        self.assertEqual({'x-account-meta-allow-dev': LISTED}, before)
        for proxy in k.DELAYED:
            # The project reader may HEAD the account: it sees no rule.
            self.assertEqual({}, self.rules_shown(account, user='reader',
                                                  proxy=proxy))
            for user in ('member', 'stranger', 'reader'):
                for headers in self._rule_writes('account'):
                    resp = self.req('POST', account, headers, source=ADMIN,
                                    user=user, proxy=proxy)
                    self.assertEqual(403, resp.status, (user, headers, resp))
            self.assertEqual(before, self.rules_shown(account,
                                                      user='operator'))
        self.admin('POST', account, {'X-Account-Meta-Allow-X': OTHER})
        self.assertEqual(OTHER, self.rules_shown(account, user='operator')[
            'x-account-meta-allow-x'])

    def test_project_reader_reads_within_the_rules_only(self):
        _name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        for proxy in k.DELAYED:
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        user='reader', proxy=proxy), secret)
            self.assertIPDenied(self.req('GET', path + '/o', user='reader',
                                         proxy=proxy))
            self.assertIPDenied(self.req('GET', path, user='reader',
                                         proxy=proxy))
            # A reader, not a writer: keystoneauth's refusal, not ours.
            resp = self.req('PUT', path + '/w', body=b'x', source=LISTED,
                            user='reader', proxy=proxy)
            self.assertEqual(403, resp.status, resp)
            self.assertNotEqual(b'IP Denied', resp.body)

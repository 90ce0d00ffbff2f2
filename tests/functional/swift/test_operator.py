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

"""The operator's level, on a real cluster under tempauth.

The proxy's ``operator_rules`` bound every ``AUTH_test2...`` account to
127.0.0.2 and 127.0.0.4 (``AUTH_test`` has no default). 127.0.0.2
(LISTED) is inside, 127.0.0.3 (OTHER) outside; 127.0.0.1 is always
allowed. Every refusal has its positive control: the same request from
inside, or after the operator's own command.
"""

import io
import json

from openstack_ext.cmd import cli
from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER
INSIDE_TOO = '127.0.0.4'
DEFAULT = '%s %s' % (LISTED, INSIDE_TOO)
OP = 'X-Account-Meta-Ip-Whitelist-Operator-'
ACCOUNT2 = '/v1/' + c.ACCOUNT2


class OperatorTestCase(base.ClusterTestCase):

    PROXIES = {'main': c.ProxySpec(
        whitelist={'operator_rules': 'AUTH_test2=' + DEFAULT},
        app={'allow_account_management': 'true'})}

    def rules(self, *argv):
        """``openstack-ext rules`` on this cluster: (status, output)."""
        out = io.StringIO()
        status = cli.main(['rules', argv[0], '--config-file',
                           self.cluster.internal_client_conf()] +
                          list(argv[1:]), out)
        return status, out.getvalue()

    def operator(self, *argv):
        status, out = self.rules(*argv)
        self.assertEqual(0, status, out)
        return out

    def shown(self, account=ACCOUNT2, user=c.OWNER2):
        """The operator level its owner sees on an account."""
        head = self.admin('HEAD', account, user=user)
        return {k.lower(): v for k, v in head.headers.items()
                if k.lower().startswith(OP.lower())}


class TestOperatorLevel(OperatorTestCase):

    def test_the_prefix_default_bounds_the_account(self):
        _name, path = self.new_container(account=c.ACCOUNT2, user=c.OWNER2)
        secret = self.put_secret(path, user=c.OWNER2)
        for what in (ACCOUNT2, path, path + '/o'):
            self.assertIPDenied(self.req('GET', what, user=c.OWNER2))
            self.assertEqual(2, self.req('GET', what, source=LISTED,
                                         user=c.OWNER2).status // 100)
        self.assertAllowed(self.req('GET', path + '/o', source=INSIDE_TOO,
                                    user=c.OWNER2), secret)
        # No default for AUTH_test: the same client passes there.
        _name, path1 = self.new_container()
        self.assertEqual(204, self.req('GET', path1, user=c.OWNER).status)
        # The owner reads it, under its Meta names.
        self.assertEqual({OP.lower() + 'allow-proxy-default': DEFAULT,
                          OP.lower() + 'mode': 'enforce'}, self.shown())
        self.assertEqual({}, self.shown('/v1/' + c.ACCOUNT, c.OWNER))

    def test_an_account_that_does_not_exist_is_bounded_too(self):
        # A reseller admin creating an account under the prefix.
        self.assertIPDenied(self.req('PUT', '/v1/AUTH_test2new',
                                     user=c.RESELLER))
        self.assertIPDenied(self.req('PUT', '/v1/AUTH_test2new/c',
                                     user=c.RESELLER))
        self.assertEqual(201, self.req('PUT', '/v1/AUTH_test2new',
                                       source=LISTED,
                                       user=c.RESELLER).status)

    def test_no_owner_request_writes_the_operator_level(self):
        self.admin('POST', ACCOUNT2, {'X-Account-Access-Control': json.dumps(
            {'admin': [c.USER3]})}, user=c.OWNER2)
        self.addCleanup(self.admin, 'POST', ACCOUNT2, {
            'X-Account-Access-Control': '{}'}, user=c.OWNER2)
        before = self.shown()
        mark = self.cluster.log_mark('main')
        attempts = [
            {OP + 'Allow-Any': '0.0.0.0/0'},
            {OP + 'Allow-Proxy-Default': '0.0.0.0/0'},
            {'x-account-meta-ip-whitelist-operator-allow-any': '::/0'},
            {'X-ACCOUNT-META-IP-WHITELIST-OPERATOR-MODE': 'audit'},
            {'X-Remove-Account-Meta-Ip-Whitelist-Operator-Allow-'
             'Proxy-Default': 'x'},
            {'X-Remove-Account-Meta-Ip-Whitelist-Operator-Mode': 'x'},
            {OP + 'Allow-Any': '0.0.0.0/0',
             'X-Ip-Whitelist-Confirm-Lockout': 'yes'},
        ]
        for user in (c.OWNER2, c.RESELLER, c.USER3):  # USER3: ACL admin
            for headers in attempts:
                resp = self.req('POST', ACCOUNT2, headers, source=LISTED,
                                user=user)
                self.assertEqual(400, resp.status, (user, headers, resp))
                self.assertIn(b'operator', resp.body)
        needle = ("refused rule change by test2:tester2 from %s on "
                  "Account=%s Container=None: %sAllow-Any: the operator's "
                  "rules are written by the operator only (it would have "
                  "made: writes %sAllow-Any: '0.0.0.0/0')"
                  % (LISTED, c.ACCOUNT2, OP, OP))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))
        # Sysmeta from a client is the gatekeeper's to strip: accepted,
        # nothing of it stored.
        for user in (c.OWNER2, c.RESELLER, c.USER3):
            for headers in (
                    {'X-Account-Sysmeta-Ip-Whitelist-Operator-Allow-Any':
                     '0.0.0.0/0'},
                    {'X-Account-Sysmeta-Ip-Whitelist-Operator-Mode':
                     'audit'},
                    {'X-Account-Sysmeta-Ip-Whitelist-Operator-Allow-Any':
                     '0.0.0.0/0', 'X-Ip-Whitelist-Confirm-Lockout': 'yes'}):
                resp = self.req('POST', '/v1/' + c.ACCOUNT2, headers,
                                source=LISTED, user=user)
                self.assertEqual(204, resp.status, (user, headers, resp))
        # The container's headers of the same name are refused as well.
        _name, path = self.new_container(account=c.ACCOUNT2, user=c.OWNER2)
        resp = self.req('POST', path, {
            'X-Container-Meta-Ip-Whitelist-Operator-Allow-Any': '0/0'},
            source=LISTED, user=c.OWNER2)
        self.assertEqual(400, resp.status, resp)
        # The effect: nothing changed, the client outside is still out.
        self.assertEqual(before, self.shown())
        self.assertIPDenied(self.req('GET', ACCOUNT2, user=c.OWNER2))
        # Nor can the owner's own rules open what it bounds.
        self.assertEqual(204, self.req('POST', ACCOUNT2, {
            'X-Account-Meta-Allow-All': '0.0.0.0/0'}, source=LISTED,
            user=c.OWNER2).status)
        self.addCleanup(self.admin, 'POST', ACCOUNT2, {
            'X-Remove-Account-Meta-Allow-All': 'x'}, user=c.OWNER2)
        self.assertIPDenied(self.req('GET', ACCOUNT2, user=c.OWNER2))
        # Positive control: the operator's command does widen it.
        self.operator('set', '--operator', '--account', c.ACCOUNT2,
                      'allow-all:0.0.0.0/0')
        self.addCleanup(self.operator, 'remove', '--operator', '--account',
                        c.ACCOUNT2, '--all')
        self.assertEqual(2, self.req('HEAD', ACCOUNT2,
                                     user=c.OWNER2).status // 100)
        self.assertEqual({OP.lower() + 'allow-all': '0.0.0.0/0',
                          OP.lower() + 'mode': 'enforce'}, self.shown())

    def test_per_account_level_replaces_the_default_and_audits(self):
        account = '/v1/' + c.ACCOUNT
        self.assertEqual(2, self.req('HEAD', account,
                                     user=c.OWNER).status // 100)
        mark = self.cluster.log_mark('main')
        out = self.operator('set', '--operator', '--account', c.ACCOUNT,
                            'allow-campus:' + LISTED)
        self.addCleanup(self.rules, 'remove', '--operator', '--account',
                        c.ACCOUNT, '--all')
        self.assertIn("changed account %s: operator-allow-campus: (none) -> "
                      "'%s'" % (c.ACCOUNT, LISTED), out)
        self.assertIPDenied(self.req('GET', account, user=c.OWNER))
        self.assertEqual(204, self.req('HEAD', account, source=LISTED,
                                       user=c.OWNER).status)
        out = self.operator('show', '--operator', '--account', c.ACCOUNT)
        self.assertIn('allow-campus', out)
        self.assertIn(LISTED, out)
        # The owner sees it; writing over it is refused.
        self.assertEqual({OP.lower() + 'allow-campus': LISTED,
                          OP.lower() + 'mode': 'enforce'},
                         self.shown(account, c.OWNER))
        self.assertEqual(400, self.req('POST', account, {
            OP + 'Allow-Campus': '0.0.0.0/0'}, source=LISTED,
            user=c.OWNER).status)
        # In audit: let through, logged as the operator's.
        self.operator('set', '--operator', '--account', c.ACCOUNT,
                      '--mode', 'audit')
        self.assertEqual(2, self.req('HEAD', account,
                                     user=c.OWNER).status // 100)
        needle = ('audit: IP %s would be denied access to Account=%s '
                  'Container=None (operator rules, in audit)'
                  % (OTHER, c.ACCOUNT))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))
        self.operator('set', '--operator', '--account', c.ACCOUNT,
                      '--mode', 'enforce')
        self.assertIPDenied(self.req('GET', account, user=c.OWNER))
        # On AUTH_test2 it replaces the default: OTHER in, LISTED out.
        self.operator('set', '--operator', '--account', c.ACCOUNT2,
                      'allow-other:' + OTHER)
        self.assertEqual(2, self.req('HEAD', ACCOUNT2,
                                     user=c.OWNER2).status // 100)
        self.assertIPDenied(self.req('GET', ACCOUNT2, source=LISTED,
                                     user=c.OWNER2))
        self.operator('remove', '--operator', '--account', c.ACCOUNT2,
                      'allow-other')
        self.assertIPDenied(self.req('GET', ACCOUNT2, user=c.OWNER2))
        self.assertEqual(204, self.req('HEAD', ACCOUNT2, source=LISTED,
                                       user=c.OWNER2).status)
        # Removed: no level on AUTH_test again.
        self.operator('remove', '--operator', '--account', c.ACCOUNT,
                      '--all')
        self.assertEqual(2, self.req('HEAD', account,
                                     user=c.OWNER).status // 100)

    def test_operator_with_container_is_refused(self):
        status, out = self.rules('show', '--operator', '--account',
                                 c.ACCOUNT, '--container', 'x')
        self.assertEqual(1, status, out)
        self.assertIn('not with --container', out)
        status, out = self.rules('set', '--operator', '--account',
                                 c.ACCOUNT, 'allow-proxy-default:10.0.0.0/8')
        self.assertEqual(1, status, out)
        status, out = self.rules('set', '--operator', '--account',
                                 c.ACCOUNT, 'allow-x:10.1.2.3/8')
        self.assertEqual(1, status, out)
        self.assertIn('10.1.2.3/8', out)

    def test_deleting_an_account_does_not_drop_the_operator_level(self):
        account = '/v1/AUTH_test2gov'
        self.assertEqual(201, self.req('PUT', account, source=LISTED,
                                       user=c.RESELLER).status)
        self.operator('set', '--operator', '--account', 'AUTH_test2gov',
                      'allow-campus:' + LISTED)
        resp = self.req('DELETE', account, source=LISTED, user=c.RESELLER)
        self.assertEqual(403, resp.status, resp)
        self.assertIn(b"operator's rules", resp.body)
        self.assertEqual(204, self.req('HEAD', account, source=LISTED,
                                       user=c.RESELLER).status)
        # Controls: from an always_allow address, or once the operator
        # removed its level, the reseller deletes it.
        self.operator('remove', '--operator', '--account', 'AUTH_test2gov',
                      '--all')
        self.assertEqual(204, self.req('DELETE', account, source=LISTED,
                                       user=c.RESELLER).status)


class TestOperatorWrites(OperatorTestCase):

    def test_a_widening_applies_at_once(self):
        # The proxy has kept what the primaries hold (replica_reads, the
        # default) and carried it in Swift's info; the command's write
        # must not wait for either to expire.
        name, path = self.new_container({'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        for _read in range(2):
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        user=c.OWNER), secret)
            self.assertIPDenied(self.req('GET', path + '/o', source=OTHER,
                                         user=c.OWNER))
        self.operator('set', '--account', c.ACCOUNT, '--container', name,
                      'allow-dev:%s %s' % (LISTED, OTHER))
        self.assertAllowed(self.req('GET', path + '/o', source=OTHER,
                                    user=c.OWNER), secret)
        # And a narrowing.
        self.operator('set', '--account', c.ACCOUNT, '--container', name,
                      'allow-dev:' + LISTED)
        self.assertIPDenied(self.req('GET', path + '/o', source=OTHER,
                                     user=c.OWNER))
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)

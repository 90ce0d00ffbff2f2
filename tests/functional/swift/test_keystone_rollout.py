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

"""Audit mode, the lockout guard, the change trail and the operator's
level under Keystone.

The owner is a user with an ``operator_roles`` role on the project; a
``member`` of it, or another project's user, is not. The trail names the
requester by Keystone's user and project ids.

``operator_rules`` binds every ``SERVICE_`` account to 127.0.0.2 (LISTED):
"service accounts only from the internal networks" (the other tests use
the project's ``AUTH_`` account, which it leaves alone). The service
account's owner is the project's operator with a service user's
``X-Service-Token``; the reseller admin is an owner everywhere. Neither
can write, widen or remove the level; the operator's command can (the
positive control).
"""

import io

from openstack_ext.cmd import cli
from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER
MODE = 'X-Container-Meta-Ip-Whitelist-Mode'
OP = 'x-account-meta-ip-whitelist-operator-'
SERVICE_OWNER = {'user': 'operator', 'service_user': 'glance'}


class TestKeystoneRollout(k.KeystoneClusterTestCase):

    # One Keystone for both topics: each class starts its own.
    WHITELIST = {'operator_rules': 'SERVICE_=' + LISTED}

    def test_owner_audits_and_the_trail_names_keystone_ids(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        secret = self.put_secret(path)
        # Nobody but the owner, from a listed address, switches to audit.
        for source, user in ((LISTED, 'member'), (LISTED, 'stranger'),
                             (OTHER, 'operator')):
            resp = self.req('POST', path, {MODE: 'audit'}, source=source,
                            user=user)
            self.assertIn(resp.status, (401, 403), (source, user, resp))
        self.assertIsNone(self.req('HEAD', path, source=ADMIN,
                                   user='operator').headers.get(MODE))
        mark = self.cluster.log_mark('main')
        self.assertEqual(204, self.req('POST', path, {MODE: 'audit'},
                                       source=LISTED,
                                       user='operator').status)
        needle = ('rule change by user %s (project %s) from %s on '
                  'Account=%s Container=%s (204): mode: '
                  "'enforce' -> 'audit'" % (
                      self.keystone.id_of('operator'),
                      self.keystone.id_of('project'), LISTED, self.account,
                      name))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))
        # In audit, the unlisted read goes through, and is logged.
        resp = self.req('GET', path + '/o', user='operator')
        self.assertEqual((200, secret), (resp.status, resp.body))
        self.cluster.wait_for_log('main', 'would be denied access', mark)
        self.assertEqual('audit', self.req('HEAD', path, source=ADMIN,
                                           user='operator').headers[MODE])
        # Enforced again: refused.
        self.assertEqual(204, self.req('POST', path, {MODE: 'enforce'},
                                       source=LISTED,
                                       user='operator').status)
        self.assertIPDenied(self.req('GET', path + '/o', user='operator'))

    def test_lockout_guard(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        resp = self.req('POST', path, {'X-Container-Meta-Allow-Dev': OTHER},
                        source=LISTED, user='operator')
        self.assertEqual(409, resp.status, resp)
        self.assertIn(LISTED.encode(), resp.body)
        resp = self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': OTHER,
            'X-Ip-Whitelist-Confirm-Lockout': 'yes'}, source=LISTED,
            user='operator')
        self.assertEqual(204, resp.status, resp)
        # Now only the other address reads (an empty listing: 204).
        self.assertEqual(204, self.req('GET', path, source=OTHER,
                                       user='operator').status)
        self.assertIPDenied(self.req('GET', path, source=LISTED,
                                     user='operator'))

    def command(self, *argv):
        out = io.StringIO()
        conf = ['--config-file', self.cluster.internal_client_conf()]
        if argv[0] == 'rules':
            argv = list(argv[:2]) + conf + list(argv[2:])
        else:
            argv = list(argv[:1]) + conf + [
                '--proxy-config', self.cluster.conf_path('main')] + list(
                    argv[1:])
        return cli.main(argv, out), out.getvalue()

    def shown(self):
        resp = self.req('HEAD', '/v1/' + self.service_account, source=ADMIN,
                        **SERVICE_OWNER)
        self.assertEqual(2, resp.status // 100, resp)
        return {key.lower(): value for key, value in resp.headers.items()
                if key.lower().startswith(OP)}

    def test_service_accounts_only_from_inside_and_nobody_widens_it(self):
        account = '/v1/' + self.service_account
        _name, path = self.new_container(account=self.service_account,
                                         **SERVICE_OWNER)
        secret = self.put_secret(path, **SERVICE_OWNER)
        for proxy in k.PROXY_NAMES:
            self.assertIPDenied(self.req('GET', path + '/o', proxy=proxy,
                                         **SERVICE_OWNER))
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        proxy=proxy, **SERVICE_OWNER),
                               secret)
        # The project's own account has no default: open from OTHER.
        _name, project_path = self.new_container()
        self.assertEqual(204, self.req('GET', project_path,
                                       user='operator').status)
        before = self.shown()
        self.assertEqual({OP + 'allow-proxy-default': LISTED,
                          OP + 'mode': 'enforce'}, before)
        for owner in (SERVICE_OWNER, {'user': 'reseller'}):
            for headers in (
                    {OP + 'allow-any': '0.0.0.0/0'},
                    {OP.upper() + 'ALLOW-PROXY-DEFAULT': '0.0.0.0/0'},
                    {OP + 'mode': 'audit'},
                    {'X-Remove-Account-Meta-Ip-Whitelist-Operator-Allow-'
                     'Proxy-Default': 'x'},
                    {OP + 'allow-any': '0.0.0.0/0',
                     'X-Ip-Whitelist-Confirm-Lockout': 'yes'}):
                resp = self.req('POST', account, headers, source=LISTED,
                                **owner)
                self.assertEqual(400, resp.status, (owner, headers, resp))
            for headers in (
                    {'X-Account-Sysmeta-Ip-Whitelist-Operator-Allow-Any':
                     '0.0.0.0/0'},
                    {'X-Account-Sysmeta-Ip-Whitelist-Operator-Mode':
                     'audit'}):
                resp = self.req('POST', account, headers, source=LISTED,
                                **owner)
                self.assertEqual(204, resp.status, (owner, headers, resp))
            # Nor does the owner's own account rule open it.
            self.assertEqual(204, self.req('POST', account, {
                'X-Account-Meta-Allow-All': '0.0.0.0/0'}, source=LISTED,
                **owner).status)
            self.admin('POST', account, {
                'X-Remove-Account-Meta-Allow-All': 'x'}, **owner)
        self.assertEqual(before, self.shown())
        self.assertIPDenied(self.req('GET', path + '/o', **SERVICE_OWNER))
        # Positive control: the operator's command opens it to OTHER.
        status, out = self.command('rules', 'set', '--operator',
                                   '--account', self.service_account,
                                   'allow-other:' + OTHER)
        self.assertEqual(0, status, out)
        self.addCleanup(self.command, 'rules', 'remove', '--operator',
                        '--account', self.service_account, '--all')
        self.assertAllowed(self.req('GET', path + '/o', **SERVICE_OWNER),
                           secret)
        self.assertIPDenied(self.req('GET', path + '/o', source=LISTED,
                                     **SERVICE_OWNER))

    def test_audit_rules_reach_equals_what_the_proxy_admits(self):
        _name, service_path = self.new_container(
            account=self.service_account, prefix='svc', **SERVICE_OWNER)
        _name, project_path = self.new_container(prefix='prj')
        accounts = '%s,%s' % (self.account, self.service_account)
        status, out = self.command('audit-rules', '--accounts', accounts)
        self.assertIn('operator  enforce %s: allow-proxy-default %s '
                      '(proxy default)' % (self.service_account, LISTED),
                      out.splitlines())
        for address in (OTHER, LISTED):
            status, out = self.command('audit-rules', '--accounts',
                                       accounts, '--reach', address)
            self.assertEqual(0, status, out)
            reached = {line.split()[1] for line in out.splitlines()
                       if line.startswith('reaches ')}
            for path in ('/v1/' + self.account, project_path,
                         '/v1/' + self.service_account, service_path):
                resp = self.req('GET', path, source=address, user='reseller')
                holder = path[len('/v1/'):]
                self.assertEqual(resp.status // 100 == 2, holder in reached,
                                 (address, holder, resp, out))
            self.assertEqual(address == LISTED,
                             self.service_account in reached, out)
            self.assertIn(self.account, reached)

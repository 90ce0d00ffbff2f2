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

"""Rolling rules out: audit mode, the lockout guard, recovery, the trail.

On a real cluster under tempauth. 127.0.0.2 (LISTED) is what the rules
list, 127.0.0.3 (OTHER) what they do not; 127.0.0.1 is always allowed.
Every refusal has its positive control.
"""

import io

from openstack_ext.cmd import cli
from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER
MODE = 'X-Container-Meta-Ip-Whitelist-Mode'
ACCOUNT_MODE = 'X-Account-Meta-Ip-Whitelist-Mode'
CONFIRM = 'X-Ip-Whitelist-Confirm-Lockout'


class RolloutTestCase(base.StatsdClusterTestCase):

    @classmethod
    def proxies(cls, statsd_port):
        return {
            'main': c.ProxySpec(statsd_port=statsd_port),
            'auditing': c.ProxySpec(whitelist={'mode': 'audit'}),
        }

    def stored(self, path, name=MODE):
        """What the owner sees of *name* on *path*."""
        return self.admin('HEAD', path).headers.get(name)

    def rules(self, *argv):
        """``openstack-ext rules`` on this cluster: (status, output)."""
        out = io.StringIO()
        verb, rest = argv[0], argv[1:]
        status = cli.main(['rules', verb, '--config-file',
                           self.cluster.internal_client_conf()] +
                          list(rest), out)
        return status, out.getvalue()


class TestAuditMode(RolloutTestCase):

    def test_audit_lets_through_and_logs_what_enforce_refuses(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev': LISTED,
                                         MODE: 'audit'})
        secret = self.put_secret(path)
        self.assertEqual('audit', self.stored(path))
        mark = self.cluster.log_mark('main')
        # Object read and write, container listing, a COPY's source read
        # (a subrequest): all through, each logged.
        self.assertAllowed(self.req('GET', path + '/o', user=c.OWNER),
                           secret)
        self.assertEqual(201, self.req('PUT', path + '/new', body=b'x',
                                       user=c.OWNER).status)
        self.assertEqual(200, self.req('GET', path, user=c.OWNER).status)
        _open_name, open_path = self.new_container(prefix='open')
        self.assertEqual(201, self.req('PUT', open_path + '/copy', {
            'X-Copy-From': name + '/o'}, b'', user=c.OWNER).status)
        needle = ('audit: IP %s would be denied access to Account=%s '
                  'Container=%s (container rules, in audit)'
                  % (OTHER, c.ACCOUNT, name))
        log = self.cluster.wait_for_log('main', needle, mark)
        for what in ('GET /v1/%s/%s/o' % (c.ACCOUNT, name),
                     'PUT /v1/%s/%s/new' % (c.ACCOUNT, name),
                     'GET /v1/%s/%s' % (c.ACCOUNT, name)):
            self.assertIn(needle + ': ' + what, log)
        self.assertNotIn('IP %s denied access' % OTHER, log)
        counted = self.statsd.wait_for('ip_whitelist.audited:')
        self.assertNotEqual([], counted)
        # Positive control: the listed client is not logged.
        mark = self.cluster.log_mark('main')
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertNotIn('would be denied', self.cluster.log_text(
            'main', mark))
        # Enforced: the same read is refused.
        self.req('POST', path, {MODE: 'enforce'}, source=LISTED,
                 user=c.OWNER)
        self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER))

    def test_account_audit_audits_account_requests(self):
        account = '/v1/' + c.ACCOUNT2
        self.admin('POST', account, {'X-Account-Meta-Allow-Office': LISTED,
                                     ACCOUNT_MODE: 'audit'}, user=c.OWNER2)
        self.addCleanup(self.admin, 'POST', account, {
            'X-Remove-Account-Meta-Allow-Office': 'x',
            ACCOUNT_MODE: ''}, user=c.OWNER2)
        self.assertEqual('audit', self.admin(
            'HEAD', account, user=c.OWNER2).headers.get(ACCOUNT_MODE))
        self.assertEqual(204, self.req('HEAD', account,
                                       user=c.OWNER2).status)
        self.admin('POST', account, {ACCOUNT_MODE: 'enforce'},
                   user=c.OWNER2)
        self.assertIPDenied(self.req('GET', account, user=c.OWNER2))
        self.assertEqual(204, self.req('HEAD', account, source=LISTED,
                                       user=c.OWNER2).status)

    def test_a_container_in_audit_does_not_open_an_enforced_account(self):
        account = '/v1/' + c.ACCOUNT2
        self.admin('POST', account, {'X-Account-Meta-Allow-Office': LISTED},
                   user=c.OWNER2)
        self.addCleanup(self.admin, 'POST', account, {
            'X-Remove-Account-Meta-Allow-Office': 'x'}, user=c.OWNER2)
        _name, path = self.new_container({MODE: 'audit',
                                          'X-Container-Meta-Allow-Dev':
                                          LISTED}, account=c.ACCOUNT2,
                                         user=c.OWNER2)
        secret = self.put_secret(path, user=c.OWNER2)
        self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER2))
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER2), secret)

    def test_the_proxy_s_audit_mode(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        secret = self.put_secret(path)
        mark = self.cluster.log_mark('auditing')
        self.assertAllowed(self.req('GET', path + '/o', user=c.OWNER,
                                    proxy='auditing'), secret)
        self.cluster.wait_for_log(
            'auditing', 'audit: IP %s would be denied access to Account=%s '
            'Container=%s' % (OTHER, c.ACCOUNT, name), mark)
        # Control: the enforcing proxy refuses the same read.
        self.assertIPDenied(self.req('GET', path + '/o', user=c.OWNER))

    def test_only_the_owner_from_inside_switches_to_audit(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        self.admin('POST', path, {'X-Container-Read': c.USER3,
                                  'X-Container-Write': c.USER3})
        for source, user in ((LISTED, c.USER3),    # an ACL user
                             (LISTED, c.OWNER2),   # another account's owner
                             (OTHER, c.OWNER),     # the owner, unlisted
                             (LISTED, None)):      # anonymous
            resp = self.req('POST', path, {MODE: 'audit'}, source=source,
                            user=user)
            self.assertIn(resp.status, (401, 403), (source, user, resp))
            self.assertIsNone(self.stored(path), (source, user))
        # Positive control: the owner, from a listed address.
        self.assertEqual(204, self.req('POST', path, {MODE: 'audit'},
                                       source=LISTED, user=c.OWNER).status)
        self.assertEqual('audit', self.stored(path))

    def test_a_bad_mode_is_400_and_nothing_is_stored(self):
        _name, path = self.new_container({'X-Container-Meta-Color': 'red'})
        resp = self.req('POST', path, {MODE: 'sometimes',
                                       'X-Container-Meta-Color': 'blue'},
                        source=ADMIN, user=c.OWNER)
        self.assertEqual(400, resp.status, resp)
        self.assertIn(b'sometimes', resp.body)
        head = self.admin('HEAD', path)
        self.assertEqual('red', head.headers['X-Container-Meta-Color'])
        self.assertNotIn(MODE, head.headers)


class TestLockoutAndRecovery(RolloutTestCase):

    def test_a_write_that_locks_the_writer_out_is_409(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        resp = self.req('POST', path, {'X-Container-Meta-Allow-Dev': OTHER},
                        source=LISTED, user=c.OWNER)
        self.assertEqual(409, resp.status, resp)
        self.assertIn(LISTED.encode(), resp.body)
        self.assertIn(CONFIRM.encode(), resp.body)
        self.assertEqual(LISTED, self.stored(path, 'X-Container-Meta-'
                                             'Allow-Dev'))
        # Keeping the writer in is fine; so is audit, which refuses nobody.
        self.assertEqual(204, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, OTHER)},
            source=LISTED, user=c.OWNER).status)
        # Removing the writer's own network, confirmed: done.
        self.assertEqual(204, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': OTHER, CONFIRM: 'yes'},
            source=LISTED, user=c.OWNER).status)
        self.assertIPDenied(self.req('GET', path, source=LISTED,
                                     user=c.OWNER))

    def test_an_always_allowed_writer_is_never_refused_for_it(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': OTHER})
        self.assertEqual(OTHER, self.stored(path, 'X-Container-Meta-'
                                            'Allow-Dev'))

    def test_the_operator_lets_a_locked_out_owner_back_in(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        secret = self.put_secret(path)
        self.assertEqual(204, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': '192.0.2.1', CONFIRM: 'yes'},
            source=LISTED, user=c.OWNER).status)
        self.assertIPDenied(self.req('GET', path + '/o', source=LISTED,
                                     user=c.OWNER))
        status, out = self.rules('show', '--account', c.ACCOUNT,
                                 '--container', name)
        self.assertEqual(0, status, out)
        self.assertIn('192.0.2.1', out)
        # A malformed value is refused as the middleware would: nothing.
        status, out = self.rules('set', '--account', c.ACCOUNT,
                                 '--container', name,
                                 'allow-dev:10.1.2.3/16')
        self.assertEqual(1, status, out)
        self.assertIn('invalid allow-dev rule: 10.1.2.3/16', out)
        self.assertEqual('192.0.2.1', self.stored(
            path, 'X-Container-Meta-Allow-Dev'))
        mark = self.cluster.log_mark('main')
        status, out = self.rules('set', '--account', c.ACCOUNT,
                                 '--container', name, 'allow-dev:' + LISTED,
                                 '--mode', 'audit')
        self.assertEqual(0, status, out)
        self.assertIn("allow-dev: '192.0.2.1' -> '%s'" % LISTED, out)
        self.assertIn("mode: 'enforce' -> 'audit'", out)
        # Back in at once, through the proxy, without a token change.
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertEqual('audit', self.stored(path))
        status, out = self.rules('remove', '--account', c.ACCOUNT,
                                 '--container', name, '--all')
        self.assertEqual(0, status, out)
        self.assertIsNone(self.stored(path, 'X-Container-Meta-Allow-Dev'))
        # The proxy did not write these: it logged nothing of them.
        self.assertNotIn('rule change by', self.cluster.log_text(
            'main', mark))


class TestTrail(RolloutTestCase):

    def test_changes_logged_with_who_where_old_and_new(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        mark = self.cluster.log_mark('main')
        self.assertEqual(204, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': '%s 127.0.0.4' % LISTED,
            MODE: 'audit'}, source=LISTED, user=c.OWNER).status)
        needle = ("rule change by test:tester from %s on Account=%s "
                  "Container=%s (204): allow-dev: '%s' -> '%s 127.0.0.4'; "
                  "mode: 'enforce' -> 'audit'" % (LISTED, c.ACCOUNT, name,
                                                  LISTED, LISTED))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))
        self.assertNotEqual([], self.statsd.wait_for(
            'ip_whitelist.rule_changes:'))

    def test_refused_attempts_are_logged(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        self.admin('POST', path, {'X-Container-Write': c.USER3})
        mark = self.cluster.log_mark('main')
        self.assertEqual(403, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': '0.0.0.0/0'}, source=LISTED,
            user=c.USER3).status)
        self.assertIPDenied(self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': '0.0.0.0/0'}, user=c.OWNER))
        self.assertEqual(400, self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': 'junk'}, source=LISTED,
            user=c.OWNER).status)
        log = self.cluster.wait_for_log('main', "'junk'", mark)
        for who, where, why in (
                ('test:tester3', LISTED, 'refused by auth (403'),
                ('test:tester', OTHER, 'outside the rules'),
                ('test:tester', LISTED, 'invalid allow-dev rule: junk')):
            self.assertIn('refused rule change by %s from %s on Account=%s '
                          'Container=%s: %s' % (who, where, c.ACCOUNT, name,
                                                why), log)
        self.assertIn("0.0.0.0/0", log)
        self.assertNotIn('rule change by test:tester3 from', log.replace(
            'refused rule change by test:tester3', ''))

    def test_deleting_a_holder_with_rules_is_logged(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        mark = self.cluster.log_mark('main')
        self.assertEqual(204, self.req('DELETE', path, source=LISTED,
                                       user=c.OWNER).status)
        needle = ("rule change by test:tester from %s on Account=%s "
                  "Container=%s (204): deleted, with allow-dev: '%s'"
                  % (LISTED, c.ACCOUNT, name, LISTED))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))

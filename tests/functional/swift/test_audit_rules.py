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

"""``openstack-ext audit-rules`` on a real cluster of four accounts.

The cluster is built once per class into a known state (below); the
inventory must list exactly its rules and findings, and ``--reach`` must
list exactly the holders that the proxy itself lets each address reach
(asked with a reseller admin's token, which is an owner everywhere), at
addresses inside, outside and at the edges of the networks.
"""

import io
import json
import os

from openstack_ext.cmd import cli
from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN = base.ADMIN
OPERATOR_DEFAULT = '127.0.0.2 127.0.0.4'
CAMPUS = '127.0.0.8/29'  # .8 - .15
LEGACY = '10.1.2.3/16, 127.0.0.2'

# The cluster's state: {holder: (headers written through the proxy)}.
CONTAINERS = {
    ('AUTH_test', 'pub'): {'X-Container-Read': '.r:*'},
    ('AUTH_test', 'pubruled'): {'X-Container-Read': '.r:*',
                                'X-Container-Meta-Allow-Dev': '127.0.0.2'},
    ('AUTH_test', 'temp'): {'X-Container-Meta-Temp-URL-Key': 'k'},
    ('AUTH_test', 'audited'): {'X-Container-Read': '.r:*',
                               'X-Container-Meta-Allow-Dev': '127.0.0.2',
                               'X-Container-Meta-Ip-Whitelist-Mode':
                               'audit'},
    ('AUTH_test', 'plain'): {},
    ('AUTH_test', 'legacy'): {},  # guide-era metadata, written below
    ('AUTH_test2', 'pub2'): {'X-Container-Read': '.r:*'},
    ('AUTH_test2', 'narrow'): {'X-Container-Meta-Allow-Dev':
                               '127.0.0.2 127.0.0.4 10.0.0.0/8'},
    ('AUTH_test3', 'c3'): {},
    ('AUTH_test4', 'c4'): {'X-Container-Read': '.r:*'},
}

RULES = [  # (account, container, level, mode, source, rules, bad)
    ('AUTH_test', 'pubruled', 'container', 'enforce', 'account',
     {'allow-dev': '127.0.0.2'}, []),
    ('AUTH_test', 'audited', 'container', 'audit', 'account',
     {'allow-dev': '127.0.0.2'}, []),
    ('AUTH_test', 'legacy', 'container', 'enforce', 'account',
     {'allow-old': LEGACY}, ['10.1.2.3/16']),
    ('AUTH_test2', None, 'operator', 'enforce', 'proxy',
     {'allow-proxy-default': OPERATOR_DEFAULT}, []),
    ('AUTH_test2', None, 'account', 'enforce', 'account',
     {'allow-office': '127.0.0.0/30'}, []),
    ('AUTH_test2', 'narrow', 'container', 'enforce', 'account',
     {'allow-dev': '127.0.0.2 127.0.0.4 10.0.0.0/8'}, []),
    ('AUTH_test4', None, 'operator', 'enforce', 'account',
     {'allow-campus': CAMPUS}, []),
]
FINDINGS = [  # (kind, account, container, words of the detail)
    ('unprotected-public', 'AUTH_test', 'pub', '.r:*'),
    ('unprotected-public', 'AUTH_test', 'audited', '.r:*'),
    ('unprotected-tempurl', 'AUTH_test', 'temp', '(container)'),
    ('unprotected-tempurl', 'AUTH_test3', 'c3', '(account)'),
    ('unparsable', 'AUTH_test', 'legacy', '10.1.2.3/16'),
    ('ineffective', 'AUTH_test2', None,
     'account allow-office 127.0.0.0/30 is partly outside the operator'),
    ('ineffective', 'AUTH_test2', 'narrow',
     'container allow-dev 127.0.0.4/32 is wholly outside the account'),
    ('ineffective', 'AUTH_test2', 'narrow',
     'container allow-dev 10.0.0.0/8 is wholly outside the operator'),
    ('ineffective', 'AUTH_test2', 'narrow',
     'container allow-dev 10.0.0.0/8 is wholly outside the account'),
]
ACCOUNTS = ('AUTH_test', 'AUTH_test2', 'AUTH_test3', 'AUTH_test4')
HOLDERS = [(a, None) for a in ACCOUNTS] + list(CONTAINERS)


class TestAuditRules(base.ClusterTestCase):

    PROXIES = {'main': c.ProxySpec(
        whitelist={'operator_rules': 'AUTH_test2=' + OPERATOR_DEFAULT},
        app={'allow_account_management': 'true'})}

    @classmethod
    def setUpClass(cls):
        super(TestAuditRules, cls).setUpClass()
        try:
            cls._build()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def _build(cls):
        cluster = cls.cluster

        def ok(method, path, headers=None, source=ADMIN, user=c.RESELLER):
            headers = dict(headers or {}, **{
                'X-Auth-Token': cluster.token(user)})
            resp = cluster.request(method, path, headers, None, source)
            assert resp.status // 100 == 2, (method, path, resp)
        for account in ('AUTH_test3', 'AUTH_test4'):
            ok('PUT', '/v1/' + account)
        ok('POST', '/v1/AUTH_test3', {'X-Account-Meta-Temp-URL-Key': 'k3'})
        # The owner, from inside the operator's default.
        ok('POST', '/v1/AUTH_test2', {
            'X-Account-Meta-Allow-Office': '127.0.0.0/30'}, '127.0.0.2',
            c.OWNER2)
        for (account, container), headers in CONTAINERS.items():
            ok('PUT', '/v1/%s/%s' % (account, container), headers)
        status = cls.command('rules', 'set', '--operator', '--account',
                             'AUTH_test4', 'allow-campus:' + CAMPUS)[0]
        assert status == 0
        # What the guide's 2013 middleware let owners store: written past
        # the proxy, as no request through it can.
        from openstack_ext.cmd import rules as rules_cmd
        client = rules_cmd.internal_client(
            cluster.internal_client_conf(), 'test')
        client.make_request('POST', client.make_path('AUTH_test', 'legacy'),
                            {'X-Container-Meta-Allow-Old': LEGACY}, (2,))

    @classmethod
    def command(cls, verb, *argv):
        out = io.StringIO()
        conf = ['--config-file', cls.cluster.internal_client_conf()]
        if verb == 'rules':  # rules ACTION --config-file ...
            argv = [verb, argv[0]] + conf + list(argv[1:])
        else:
            argv = [verb] + conf + ['--proxy-config',
                                    cls.cluster.conf_path('main')] + list(argv)
        return cli.main(argv, out), out.getvalue()

    def audit(self, *argv):
        """audit-rules --json over the account databases: (status, lines)."""
        status, out = self.command(
            'audit-rules', '--json', '--devices',
            os.path.join(self.cluster.dir, 'node'), *argv)
        return status, [json.loads(line) for line in out.splitlines()]

    def test_lists_exactly_the_rules_and_the_findings(self):
        status, lines = self.audit()
        self.assertEqual(1, status, lines)
        rules = sorted(
            (r['account'], r['container'] or '', r['level'], r['mode'],
             r['source'], r['rules'], r['bad'])
            for r in lines if r['type'] == 'rules')
        self.assertEqual(sorted((a, c_ or '', lv, m, s, r, b)
                                for a, c_, lv, m, s, r, b in RULES), rules)
        networks = {(r['account'], r['container'], r['level']):
                    r['networks'] for r in lines if r['type'] == 'rules'}
        self.assertEqual(['127.0.0.2/32', '127.0.0.4/32', '10.0.0.0/8'],
                         networks['AUTH_test2', 'narrow', 'container'])
        found = [r for r in lines if r['type'] == 'finding']
        self.assertEqual(sorted((k, a, c_ or '') for k, a, c_, _w in
                                FINDINGS),
                         sorted((f['kind'], f['account'],
                                 f['container'] or '') for f in found))
        for kind, account, container, words in FINDINGS:
            self.assertTrue(any(
                f['kind'] == kind and f['account'] == account and
                f['container'] == container and words in f['detail']
                for f in found), (kind, account, container, words, found))
        self.assertEqual(
            {'type': 'summary', 'accounts': 4, 'containers': 10,
             'holders_with_rules': 6, 'findings': len(FINDINGS),
             'unreadable': 0}, lines[-1])

    def test_the_table_and_a_list_of_accounts(self):
        status, out = self.command('audit-rules', '--accounts',
                                   'AUTH_test4,AUTH_test3')
        self.assertEqual(1, status, out)
        self.assertEqual([
            'operator  enforce AUTH_test4: allow-campus %s' % CAMPUS,
            'FINDING unprotected-tempurl AUTH_test3/c3: a tempurl key '
            '(account) and no rule enforced at any level: any signed URL, '
            'from anywhere',
            '2 accounts, 2 containers, 1 holders with rules, 1 findings'],
            out.splitlines())
        # Nothing to look at: exit 0.
        status, out = self.command('audit-rules', '--accounts', 'AUTH_test4')
        self.assertEqual(0, status, out)

    def reached(self, address):
        """What audit-rules --reach lists: {holder: through}."""
        status, lines = self.audit('--reach', address)
        self.assertEqual(0, status, lines)
        self.assertEqual('summary', lines[-1]['type'])
        return {(r['account'], r['container']): r['through']
                for r in lines if r['type'] == 'reach'}

    def proxy_admits(self, address):
        """The holders the proxy lets *address* read, asked one by one."""
        admitted = set()
        for account, container in HOLDERS:
            path = '/v1/' + account + ('/' + container if container else '')
            resp = self.req('GET', path, source=address, user=c.RESELLER)
            if resp.status // 100 == 2:
                admitted.add((account, container))
            else:
                self.assertIPDenied(resp)
        return admitted

    def test_reach_is_exactly_what_the_proxy_admits(self):
        in_test = {('AUTH_test', None)} | {
            h for h in CONTAINERS if h[0] == 'AUTH_test'}
        in_test_open = in_test - {('AUTH_test', 'pubruled'),
                                  ('AUTH_test', 'legacy')}
        in_3 = {('AUTH_test3', None), ('AUTH_test3', 'c3')}
        in_4 = {('AUTH_test4', None), ('AUTH_test4', 'c4')}
        in_2 = {('AUTH_test2', None), ('AUTH_test2', 'pub2'),
                ('AUTH_test2', 'narrow')}
        expected = {
            '127.0.0.1': set(HOLDERS),               # always_allow
            '127.0.0.2': in_test | in_2 | in_3,      # inside everything
            '127.0.0.3': in_test_open | in_3,        # in the account /30
            '127.0.0.4': in_test_open | in_3,        # operator, not /30
            '127.0.0.7': in_test_open | in_3,        # below the campus
            '127.0.0.8': in_test_open | in_3 | in_4,   # its first address
            '127.0.0.15': in_test_open | in_3 | in_4,  # its last
            '127.0.0.16': in_test_open | in_3,       # past it
        }
        for address, holders in sorted(expected.items()):
            reached = self.reached(address)
            self.assertEqual(holders, set(reached), address)
            self.assertEqual(holders, self.proxy_admits(address), address)
        reached = self.reached('127.0.0.2')
        self.assertEqual(['always_allow'],
                         self.reached('127.0.0.1')['AUTH_test2', None])
        self.assertEqual(['operator allow-proxy-default',
                          'account allow-office'],
                         reached['AUTH_test2', None])
        self.assertEqual(['operator allow-proxy-default',
                          'account allow-office', 'container allow-dev'],
                         reached['AUTH_test2', 'narrow'])
        self.assertEqual(['no rules'], reached['AUTH_test', 'pub'])
        self.assertEqual(['container allow-old'],
                         reached['AUTH_test', 'legacy'])
        self.assertEqual(['container (audit: would refuse)'],
                         self.reached('127.0.0.3')['AUTH_test', 'audited'])
        self.assertEqual(['operator allow-campus'],
                         self.reached('127.0.0.8')['AUTH_test4', 'c4'])

    def test_usage_errors(self):
        status, out = self.command('audit-rules', '--accounts', 'AUTH_test',
                                   '--reach', 'not-an-address')
        self.assertEqual(2, status, out)
        self.assertIn('not-an-address', out)

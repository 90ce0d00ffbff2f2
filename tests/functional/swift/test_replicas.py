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

"""A removed address stays removed when a replica missed the write.

Three copies of every account, container and object, on three servers of
each kind in three zones; proxies ``main`` and ``second`` share the
memcache and read the rules from every primary (the default); ``plain``
(``replica_reads = false``) takes the proxy's info as it comes and is each
case's positive control: it must leak, or the case proves nothing. No
replicator runs, so a primary that was down during the owner's write stays
stale for the whole test. Each read drops Swift's cached info first, so
that every read refills it from a primary picked at random (Swift's
``shuffle``); every other read drops the filter's merged entry too.

127.0.0.1 is the owner's seat (``always_allow``), 127.0.0.2 stays listed,
127.0.0.3 is the address removed.
"""

import os
import subprocess

from swift.common import direct_client

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, REMOVED = base.ADMIN, base.LISTED, base.OTHER
READS = 30  # per proxy and case: (2/3)**30 < 1e-5 for a control to miss
RECHECK = {'recheck_container_existence': '10',
           'recheck_account_existence': '10'}
REPLICAS_HEADER = 'X-Ip-Whitelist-Replicas'
WARNING_HEADER = 'X-Ip-Whitelist-Warning'


class TestReplicaConsistentRules(base.ClusterTestCase):

    REPLICAS = 3
    PROXIES = {
        'main': c.ProxySpec(app=RECHECK),
        'second': c.ProxySpec(app=RECHECK),
        'plain': c.ProxySpec(app=RECHECK,
                             whitelist={'replica_reads': 'false'}),
    }

    # -- helpers --------------------------------------------------------

    def stop_one(self, kind, account, container=None):
        """Stop one primary of a holder; return (its node, partition)."""
        part, nodes = self.cluster.primaries(kind, account, container)
        name = self.cluster.server_of(nodes[0])
        self.cluster.stop_server(name)
        self.addCleanup(self.cluster.start_server, name)
        return nodes[0], part

    def start(self, node):
        self.cluster.start_server(self.cluster.server_of(node))

    def stored(self, node, part, account, container=None):
        """The sysmeta headers one primary holds, read directly."""
        if container:
            headers = direct_client.direct_head_container(
                node, part, account, container)
        else:
            headers = direct_client.direct_get_account(
                node, part, account, limit=0)[0]
        return {k.lower(): v for k, v in headers.items()
                if '-sysmeta-ip-whitelist-' in k.lower()}

    def forget(self, account, container, merged_too):
        self.cluster.forget_info(account)
        self.cluster.forget_info(account, container)
        if merged_too:
            self.cluster.forget_key('ip_whitelist/replicas/account/' +
                                    account)
            self.cluster.forget_key('ip_whitelist/replicas/container/%s/%s'
                                    % (account, container))

    def leaks(self, proxy, path, secret, account, container, source=REMOVED,
              reads=READS, user=c.OWNER):
        """How many of *reads* GETs from *source* got the secret's bytes.

        With the owner's token: only the addresses can refuse.
        """
        leaked = 0
        for number in range(reads):
            self.forget(account, container, merged_too=number % 2 == 0)
            # Refilled, then as the refill left it (the sets carried in
            # Swift's info).
            for _read in range(2):
                resp = self.req('GET', path, source=source, proxy=proxy,
                                user=user)
                if resp.status // 100 == 2 or secret[:12] in resp.body:
                    leaked += 1
                else:
                    self.assertIPDenied(resp)
        return leaked

    def assertRemovedStaysRemoved(self, path, secret, account, container,
                                  user=c.OWNER):
        # Control first: a proxy that takes its info as it comes leaks.
        self.assertGreater(
            self.leaks('plain', path, secret, account, container,
                       user=user),
            0, 'the stale replica never answered: the case proves nothing')
        for proxy in ('main', 'second'):
            self.assertEqual(0, self.leaks(proxy, path, secret, account,
                                           container, user=user), proxy)
        # The listed address still reads, through each proxy.
        for proxy in ('main', 'second'):
            self.forget(account, container, merged_too=True)
            self.assertAllowed(self.req('GET', path, source=LISTED,
                                        proxy=proxy, user=user), secret)

    # -- the table ----------------------------------------------

    def test_container_rule_narrowed(self):
        name, path = self.new_container(
            {'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, REMOVED)})
        secret = self.put_secret(path)
        node, part = self.stop_one('container', c.ACCOUNT, name)
        resp = self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.assertEqual('2/3', resp.headers[REPLICAS_HEADER])
        self.assertIn('2 of 3 primaries', resp.headers[WARNING_HEADER])
        self.start(node)
        self.assertIn(REMOVED, self.stored(node, part, c.ACCOUNT, name)[
            'x-container-sysmeta-ip-whitelist-allow-dev'])  # still stale
        self.assertRemovedStaysRemoved(path + '/o', secret, c.ACCOUNT, name)

    def test_container_rule_removed(self):
        name, path = self.new_container({
            'X-Container-Meta-Allow-Dev': LISTED,
            'X-Container-Meta-Allow-Lab': REMOVED})
        secret = self.put_secret(path)
        node, part = self.stop_one('container', c.ACCOUNT, name)
        resp = self.admin('POST', path,
                          {'X-Remove-Container-Meta-Allow-Lab': 'x'})
        self.assertEqual('2/3', resp.headers[REPLICAS_HEADER])
        self.start(node)
        self.assertIn('x-container-sysmeta-ip-whitelist-allow-lab',
                      self.stored(node, part, c.ACCOUNT, name))
        self.assertRemovedStaysRemoved(path + '/o', secret, c.ACCOUNT, name)

    def test_account_rule_removed(self):
        account, owner = c.ACCOUNT2, c.OWNER2
        name, path = self.new_container(account=account, user=owner)
        secret = self.put_secret(path, user=owner)
        self.admin('POST', '/v1/' + account, {
            'X-Account-Meta-Allow-Dev': LISTED,
            'X-Account-Meta-Allow-Lab': REMOVED}, user=owner)
        self.addCleanup(self.admin, 'POST', '/v1/' + account, {
            'X-Remove-Account-Meta-Allow-Dev': 'x',
            'X-Remove-Account-Meta-Allow-Lab': 'x'}, user=owner)
        node, part = self.stop_one('account', account)
        resp = self.admin('POST', '/v1/' + account,
                          {'X-Remove-Account-Meta-Allow-Lab': 'x'},
                          user=owner)
        self.assertEqual('2/3', resp.headers[REPLICAS_HEADER])
        self.start(node)
        self.assertIn('x-account-sysmeta-ip-whitelist-allow-lab',
                      self.stored(node, part, account))
        self.assertRemovedStaysRemoved(path + '/o', secret, account, name,
                                       user=owner)

    def test_container_recreated_with_narrower_rules(self):
        name, path = self.new_container(
            {'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, REMOVED)})
        self.put_secret(path)
        node, part = self.stop_one('container', c.ACCOUNT, name)
        self.admin('DELETE', path + '/o')
        self.admin('DELETE', path)
        self.admin('PUT', path, {'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        self.start(node)
        self.assertIn(REMOVED, self.stored(node, part, c.ACCOUNT, name)[
            'x-container-sysmeta-ip-whitelist-allow-dev'])
        self.assertRemovedStaysRemoved(path + '/o', secret, c.ACCOUNT, name)

    # -- beyond the table -----------------------------------------------

    def test_fewer_answers_than_a_quorum_is_503(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        part, nodes = self.cluster.primaries('container', c.ACCOUNT, name)
        for node in nodes[:2]:
            server = self.cluster.server_of(node)
            self.cluster.stop_server(server)
            self.addCleanup(self.cluster.start_server, server)
        for proxy in ('main', 'second'):
            self.forget(c.ACCOUNT, name, merged_too=True)
            resp = self.req('GET', path + '/o', source=LISTED, proxy=proxy,
                            user=c.OWNER)
            self.assertEqual(503, resp.status, resp)
            self.assertNoLeak(resp, secret, fail_closed=True)
        # Control: Swift itself still serves it from the one container
        # replica left, so the 503 is the quorum's.
        self.forget(c.ACCOUNT, name, merged_too=True)
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    proxy='plain', user=c.OWNER), secret)
        for node in nodes[:2]:
            self.start(node)
        self.forget(c.ACCOUNT, name, merged_too=True)
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)

    def test_widening_missed_by_a_replica_waits_for_it(self):
        # Documented: until the replica has the new rules (replication, or
        # openstack-ext rules verify --repair), the narrower ones apply.
        name, path = self.new_container({'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        node, part = self.stop_one('container', c.ACCOUNT, name)
        self.admin('POST', path, {
            'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, REMOVED)})
        self.start(node)
        for proxy in ('main', 'second'):
            self.assertEqual(0, self.leaks(proxy, path + '/o', secret,
                                           c.ACCOUNT, name, reads=6))
        # rules verify sees it and repairs it; the new address then reads.
        verify = ['rules', 'verify', '--account', c.ACCOUNT, '--container',
                  name]
        status, text = self.command(verify)
        self.assertEqual(1, status, text)
        self.assertIn('the primaries disagree', text)
        self.assertEqual(3, text.count('allow-dev: ' + LISTED), text)
        self.assertEqual(2, text.count(REMOVED), text)
        status, text = self.command(verify + ['--repair'])
        self.assertEqual(0, status, text)
        self.assertIn('now on 3 of 3 primaries', text)
        self.assertEqual(LISTED + ' ' + REMOVED, self.stored(
            node, part, c.ACCOUNT, name)[
                'x-container-sysmeta-ip-whitelist-allow-dev'])
        status, text = self.command(verify)
        self.assertEqual(0, status, text)
        self.assertIn('all 3 primaries hold the same rules', text)
        # --repair dropped the merged entry: no forgetting needed here.
        for proxy in ('main', 'second'):
            self.assertAllowed(self.req('GET', path + '/o', source=REMOVED,
                                        proxy=proxy, user=c.OWNER), secret)

    def command(self, argv):
        """``(exit status, output)`` of ``openstack-ext`` *argv*."""
        proc = subprocess.run(
            [os.path.join(c.BIN, 'openstack-ext')] + argv +
            ['--internal-client-conf', self.cluster.internal_client_conf()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
            env=self.cluster.env, cwd=self.cluster.dir)
        return proc.returncode, proc.stdout.decode('utf-8', 'replace')

    def test_the_primaries_rules_ride_in_swifts_info(self):
        name, path = self.new_container(
            {'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, REMOVED)})
        secret = self.put_secret(path)
        node, _part = self.stop_one('container', c.ACCOUNT, name)
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.start(node)
        info_key = 'container/%s/%s' % (c.ACCOUNT, name)
        carried = None
        for _attempt in range(READS):  # until the stale primary answers
            self.forget(c.ACCOUNT, name, merged_too=True)
            self.assertIPDenied(self.req('GET', path + '/o', source=REMOVED,
                                         user=c.OWNER))
            info = self.cluster.memcache_value(info_key)
            carried = info['ip_whitelist_replicas']
            if REMOVED in info['sysmeta']['ip-whitelist-allow-dev']:
                break
        # Swift's info came from the primary that missed the write; the
        # rules of the others ride beside it.
        self.assertIn(REMOVED, info['sysmeta']['ip-whitelist-allow-dev'])
        self.assertEqual([[LISTED]], carried)
        # From there, an object read costs memcache no more than through a
        # proxy that reads no replicas; and the removed address stays out.
        for proxy in ('plain', 'main', 'second'):
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        proxy=proxy, user=c.OWNER), secret)
        gets = {}
        for proxy in ('plain', 'main', 'second'):
            before = self.cluster.memcache_gets()
            for _read in range(5):
                self.assertAllowed(self.req(
                    'GET', path + '/o', source=LISTED, proxy=proxy,
                    user=c.OWNER), secret)
            gets[proxy] = self.cluster.memcache_gets() - before
        self.assertEqual(gets['plain'], gets['main'], gets)
        self.assertEqual(gets['plain'], gets['second'], gets)
        self.assertIPDenied(self.req('GET', path + '/o', source=REMOVED,
                                     proxy='second', user=c.OWNER))
        # Control: once Swift refills its info without the field, a read
        # costs more (the filter's own entry), and carries it again.
        self.cluster.forget_info(c.ACCOUNT, name)
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    proxy='plain', user=c.OWNER), secret)
        before = self.cluster.memcache_gets()
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertGreater(self.cluster.memcache_gets() - before,
                           gets['plain'] / 5)
        self.assertIn('ip_whitelist_replicas',
                      self.cluster.memcache_value(info_key))
        # A request on the container itself, after which Swift writes its
        # info again, carries nothing: it writes memcache what it writes
        # without replica reads.
        sets = {}
        for proxy in ('plain', 'main'):
            before = self.cluster.memcache_gets('cmd_set')
            resp = self.req('HEAD', path, source=LISTED, proxy=proxy,
                            user=c.OWNER)
            self.assertEqual(204, resp.status, resp)
            sets[proxy] = self.cluster.memcache_gets('cmd_set') - before
        self.assertEqual(sets['plain'], sets['main'], sets)
        self.assertGreater(sets['plain'], 0)  # Swift's own

    def test_a_narrowing_reaches_a_proxy_that_carried_the_old_rules(self):
        name, path = self.new_container(
            {'X-Container-Meta-Allow-Dev': '%s %s' % (LISTED, REMOVED)})
        secret = self.put_secret(path)
        info_key = 'container/%s/%s' % (c.ACCOUNT, name)
        for proxy in ('second', 'main'):
            self.assertAllowed(self.req('GET', path + '/o', source=REMOVED,
                                        proxy=proxy, user=c.OWNER), secret)
        self.assertEqual([], self.cluster.memcache_value(info_key)[
            'ip_whitelist_replicas'])
        # Through main, nothing forgotten by hand: once the write has
        # ended, neither Swift's info nor the filter's entry is left.
        self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.assertIsNone(self.cluster.memcache_value(info_key))
        self.assertIsNone(self.cluster.memcache_value(
            'ip_whitelist/replicas/' + info_key))
        for proxy in ('second', 'main'):
            self.assertIPDenied(self.req('GET', path + '/o', source=REMOVED,
                                         proxy=proxy, user=c.OWNER))
            self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                        proxy=proxy, user=c.OWNER), secret)
        self.assertEqual([], self.cluster.memcache_value(info_key)[
            'ip_whitelist_replicas'])

    def test_a_write_auth_refuses_leaves_the_cached_rules(self):
        # Else anybody the rules admit could make the next request read
        # every primary, once per refused write.
        name, path = self.new_container({'X-Container-Meta-Allow-Dev': LISTED})
        secret = self.put_secret(path)
        info_key = 'container/%s/%s' % (c.ACCOUNT, name)
        kept_key = 'ip_whitelist/replicas/' + info_key
        self.assertAllowed(self.req('GET', path + '/o', source=LISTED,
                                    user=c.OWNER), secret)
        self.assertEqual([], self.cluster.memcache_value(info_key)[
            'ip_whitelist_replicas'])
        self.assertIsNotNone(self.cluster.memcache_value(kept_key))
        # A user of the account without the right to write it, from the
        # listed address: auth refuses, nothing is forgotten.
        for method in ('POST', 'PUT', 'DELETE'):
            resp = self.req(method, path, {'X-Container-Meta-Color': 'red'},
                            source=LISTED, user=c.USER3)
            self.assertEqual(403, resp.status, (method, resp))
            self.assertEqual([], self.cluster.memcache_value(info_key)[
                'ip_whitelist_replicas'], method)
            self.assertIsNotNone(self.cluster.memcache_value(kept_key),
                                 method)
        # Control: the owner's write, from the same address, drops both.
        resp = self.req('POST', path, {'X-Container-Meta-Color': 'red'},
                        source=LISTED, user=c.OWNER)
        self.assertEqual(204, resp.status, resp)
        self.assertIsNone(self.cluster.memcache_value(info_key))
        self.assertIsNone(self.cluster.memcache_value(kept_key))

    def test_rule_write_on_every_primary_says_so(self):
        name, path = self.new_container()
        resp = self.admin('POST', path, {'X-Container-Meta-Allow-Dev': LISTED})
        self.assertEqual('3/3', resp.headers[REPLICAS_HEADER])
        self.assertNotIn(WARNING_HEADER, resp.headers)
        # Writes that change no rule say nothing.
        resp = self.admin('POST', path, {'X-Container-Meta-Color': 'blue'})
        self.assertNotIn(REPLICAS_HEADER, resp.headers)

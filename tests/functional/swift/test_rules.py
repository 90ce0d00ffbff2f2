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

"""What a rule matches: networks, lists, IPv6, accounts, proxies."""

from tests.functional.swift import base
from tests.functional.swift import cluster as c

ADMIN, LISTED, OTHER = base.ADMIN, base.LISTED, base.OTHER

TRUSTED = '127.0.0.4'


class TestRules(base.ClusterTestCase):

    PROXIES = {
        'main': c.ProxySpec(),
        # Bound to "::": IPv4 clients arrive as ::ffff:127.0.0.x. Nothing
        # local is always allowed, so ::1 and 127.0.0.1 obey the rules too.
        'v6': c.ProxySpec(bind_ip='::',
                          whitelist={'always_allow': '203.0.113.1'}),
        'lb': c.ProxySpec(whitelist={'trusted_proxies': TRUSTED}),
        # A TLS terminator on the proxy host, listed: always_allow = auto
        # covers its address too.
        'local_lb': c.ProxySpec(whitelist={'trusted_proxies': ADMIN}),
    }

    def _check(self, path, allowed, denied, proxy='main', secret=None):
        """GET path with the owner's token from each source."""
        for source in allowed:
            self.assertAllowed(self.req('GET', path, source=source,
                                        user=c.OWNER, proxy=proxy),
                               secret)
        for source in denied:
            resp = self.req('GET', path, source=source, user=c.OWNER,
                            proxy=proxy)
            self.assertIPDenied(resp)
            if secret:
                self.assertNoLeak(resp, secret)

    def _protected(self, **rules):
        headers = {'X-Container-Meta-Allow-%s' % k: v
                   for k, v in rules.items()}
        _name, path = self.new_container(headers)
        return path + '/o', self.put_secret(path)

    def test_cidr(self):
        obj, secret = self._protected(net='127.0.0.0/30')
        self._check(obj, ['127.0.0.2', '127.0.0.3'],
                    ['127.0.0.4', '127.0.0.5'], secret=secret)

    def test_several_entries_in_one_value(self):
        obj, secret = self._protected(team='127.0.0.5,127.0.0.6 '
                                      ' 127.0.0.8/29')
        self._check(obj, ['127.0.0.5', '127.0.0.6', '127.0.0.9'],
                    ['127.0.0.7', '127.0.0.16', LISTED], secret=secret)

    def test_several_keys_are_a_union(self):
        obj, secret = self._protected(a='127.0.0.5', b='127.0.0.6')
        self._check(obj, ['127.0.0.5', '127.0.0.6'], ['127.0.0.7'],
                    secret=secret)
        self.admin('POST', obj.rsplit('/', 1)[0],
                   {'X-Remove-Container-Meta-Allow-A': 'x'})
        self._check(obj, ['127.0.0.6'], ['127.0.0.5'], secret=secret)

    def test_ipv6_rules(self):
        obj6, secret6 = self._protected(v6='::1')
        self._check(obj6, ['::1'], [LISTED, ADMIN], proxy='v6',
                    secret=secret6)
        obj, secret = self._protected(mix='fd00::/8, 127.0.0.2')
        self._check(obj, [LISTED], ['::1', OTHER], proxy='v6', secret=secret)

    def test_ipv4_mapped_clients_and_rules(self):
        # The proxy sees ::ffff:127.0.0.2; the rule says 127.0.0.2.
        obj, secret = self._protected(dev=LISTED)
        self._check(obj, [LISTED], [OTHER], proxy='v6', secret=secret)
        # A rule written in mapped form means the IPv4 network.
        obj, secret = self._protected(dev='::ffff:127.0.0.0/126')
        for proxy in ('main', 'v6'):
            self._check(obj, [LISTED, OTHER], ['127.0.0.5'], proxy=proxy,
                        secret=secret)

    def test_account_rules(self):
        account = '/v1/' + c.ACCOUNT2
        self.admin('POST', account, {'X-Account-Meta-Allow-Office': LISTED},
                   user=c.OWNER2)
        self.addCleanup(self.admin, 'POST', account, {
            'X-Remove-Account-Meta-Allow-Office': 'x'}, user=c.OWNER2)
        head = self.admin('HEAD', account, user=c.OWNER2)
        self.assertEqual(LISTED, head.headers['X-Account-Meta-Allow-Office'])
        _name, open_path = self.new_container(account=c.ACCOUNT2,
                                              user=c.OWNER2)
        _name, own_path = self.new_container(
            {'X-Container-Meta-Allow-Dev': '127.0.0.5'}, account=c.ACCOUNT2,
            user=c.OWNER2)

        def check(path, allowed, denied):
            for source in allowed:
                # An empty container lists as 204.
                self.assertEqual(204, self.req('GET', path, source=source,
                                               user=c.OWNER2).status)
            for source in denied:
                self.assertIPDenied(self.req('GET', path, source=source,
                                             user=c.OWNER2))
        # The account's rules bound every container; a container's narrow
        # within them (here to nobody: .5 is not in the account's).
        check(open_path, [LISTED], [OTHER, '127.0.0.5'])
        check(own_path, [], [LISTED, OTHER, '127.0.0.5'])
        # The account's own requests are bounded too.
        self.assertIPDenied(self.req('GET', account, source=OTHER,
                                     user=c.OWNER2))
        self.assertEqual(200, self.req('GET', account, source=LISTED,
                                       user=c.OWNER2).status)

        self.admin('POST', account, {'X-Remove-Account-Meta-Allow-Office':
                                     'x'}, user=c.OWNER2)
        self.assertNotIn('X-Account-Meta-Allow-Office', self.admin(
            'HEAD', account, user=c.OWNER2).headers)
        check(open_path, [LISTED, OTHER], [])
        check(own_path, ['127.0.0.5'], [LISTED, OTHER])
        self.assertEqual(200, self.req('GET', account, source=OTHER,
                                       user=c.OWNER2).status)

    def test_forwarded_for_only_from_trusted_proxies(self):
        obj, secret = self._protected(dev=LISTED)

        def get(source, forwarded, proxy='lb'):
            return self.req('GET', obj, {'X-Forwarded-For': forwarded},
                            source=source, user=c.OWNER, proxy=proxy)
        # Spoofed by the client itself: ignored.
        self.assertIPDenied(get(OTHER, LISTED, proxy='main'))
        self.assertIPDenied(get(OTHER, LISTED))
        # From the load balancer, read right to left.
        self.assertAllowed(get(TRUSTED, '127.0.0.3, 127.0.0.2'), secret)
        self.assertAllowed(get(TRUSTED, '127.0.0.2, ' + TRUSTED), secret)
        self.assertAllowed(get(TRUSTED, '::ffff:127.0.0.2'), secret)
        self.assertIPDenied(get(TRUSTED, '127.0.0.2, 127.0.0.3'))
        for garbage in ('127.0.0.2, garbage', 'garbage', '127.0.0.2,'):
            resp = get(TRUSTED, garbage)
            self.assertIPDenied(resp)
            self.assertNoLeak(resp, secret)
        # The balancer is not a client: without the header it is denied.
        self.assertIPDenied(self.req('GET', obj, source=TRUSTED,
                                     user=c.OWNER, proxy='lb'))

    def test_trusted_proxy_that_does_not_say_for_whom(self):
        obj, secret = self._protected(dev=LISTED)
        _name, open_path = self.new_container()
        self.admin('PUT', open_path + '/o', body=b'open')

        def get(path, headers=None):
            return self.req('GET', path, headers, source=ADMIN,
                            user=c.OWNER, proxy='local_lb')
        # Every hop trusted (no header, an empty one, or only trusted
        # addresses): an unknown client, though the proxy's address is
        # always allowed.
        for headers in (None, {'X-Forwarded-For': ''},
                        {'X-Forwarded-For': ADMIN}):
            resp = get(obj, headers)
            self.assertIPDenied(resp)
            self.assertNoLeak(resp, secret)
            self.assertEqual(200, get(open_path + '/o', headers).status)
        # Positive controls: the client it names is judged.
        self.assertAllowed(get(obj, {'X-Forwarded-For': LISTED}), secret)
        self.assertIPDenied(get(obj, {'X-Forwarded-For': OTHER}))

    def test_forwarding_from_an_always_allowed_address(self):
        # A TLS terminator on the proxy host, not in trusted_proxies.
        obj, secret = self._protected(dev=LISTED)
        self.assertAllowed(self.req('GET', obj, source=ADMIN, user=c.OWNER),
                           secret)
        for forwarded in (LISTED, OTHER, ADMIN):
            resp = self.req('GET', obj, {'X-Forwarded-For': forwarded},
                            source=ADMIN, user=c.OWNER)
            self.assertIPDenied(resp)
            self.assertNoLeak(resp, secret)
        _name, open_path = self.new_container()
        self.admin('PUT', open_path + '/o', body=b'open')
        self.assertEqual(200, self.req('GET', open_path + '/o', {
            'X-Forwarded-For': OTHER}, source=ADMIN, user=c.OWNER).status)

    def test_forwarded_client_carries_into_subrequests(self):
        obj, secret = self._protected(dev=LISTED)
        _name, open_path = self.new_container()
        src = obj.split('/', 3)[3]  # "container/o"
        for client, status in (('127.0.0.3', 403), ('127.0.0.2', 201)):
            resp = self.req('PUT', open_path + '/copy-' + client,
                            {'X-Copy-From': src, 'X-Forwarded-For': client},
                            source=TRUSTED, user=c.OWNER, proxy='lb')
            self.assertEqual(status, resp.status, resp)
        self.assertEqual(404, self.admin(
            'HEAD', open_path + '/copy-127.0.0.3', expect=404).status)

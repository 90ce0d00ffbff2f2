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

"""What the proxy leaves alone, what it reports, and bad configurations."""

import json

from tests.functional.swift import base
from tests.functional.swift import cluster as c

LISTED, OTHER = base.LISTED, base.OTHER

HOST_ADDRESS = '192.0.2.2'  # eth0: local delivery, still never on a wire


class TestProxy(base.StatsdClusterTestCase):

    @classmethod
    def proxies(cls, statsd_port):
        return {
            'main': c.ProxySpec(statsd_port=statsd_port),
            'strict': c.ProxySpec(whitelist={'deny_without_rules': 'true'}),
        }

    def test_requests_without_container_pass(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        for proxy in ('main', 'strict'):
            info = self.req('GET', '/info', proxy=proxy)
            self.assertEqual(200, info.status)
            section = json.loads(info.body)['ip_whitelist']
            self.assertEqual(proxy == 'strict',
                             section['deny_without_rules'])
            self.assertEqual('allow-', section['rule_prefix'])
            self.assertEqual(1000, section['max_rules'])
            for secret in ('always_allow', 'trusted_proxies', HOST_ADDRESS):
                self.assertNotIn(secret, json.dumps(section))
            self.assertEqual(b'OK', self.req('GET', '/healthcheck',
                                             proxy=proxy).body)
            login = self.req('GET', '/auth/v1.0', {
                'X-Auth-User': c.OWNER,
                'X-Auth-Key': c.PASSWORDS[c.OWNER]}, proxy=proxy)
            self.assertEqual(200, login.status, login)
            token = {'X-Auth-Token': login.headers['X-Auth-Token']}
            listing = self.req('GET', '/v1/' + c.ACCOUNT, token, proxy=proxy)
            self.assertEqual(200, listing.status, listing)
            self.assertEqual(204, self.req('HEAD', '/v1/' + c.ACCOUNT, token,
                                           proxy=proxy).status)
            # Control: the same token is refused one level down.
            self.assertIPDenied(self.req('GET', path, token, proxy=proxy))

    def test_host_addresses_are_always_allowed(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        self.assertEqual(204, self.req('GET', path, source=HOST_ADDRESS,
                                       user=c.OWNER).status)

    def test_denial_logged_and_counted(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        mark = self.cluster.log_mark('main')
        self.assertEqual(204, self.req('GET', path, source=LISTED,
                                       user=c.OWNER).status)
        self.assertIPDenied(self.req('GET', path, user=c.OWNER))
        needle = 'IP %s denied access to Account=%s Container=%s' % (
            OTHER, c.ACCOUNT, name)
        log = self.cluster.wait_for_log('main', needle, mark)
        self.assertIn(needle, log)
        self.assertNotIn('IP %s denied' % LISTED, log)
        # At debug level, why each request passed or not.
        self.assertIn('GET /v1/%s/%s from %s: refused by the container '
                      'rules' % (c.ACCOUNT, name, OTHER), log)
        self.assertIn('GET /v1/%s/%s from %s: admitted' % (
            c.ACCOUNT, name, LISTED), log)
        counted = self.statsd.wait_for('ip_whitelist.denied:')
        self.assertNotEqual([], counted, self.statsd.received[-20:])
        self.assertTrue(counted[0].endswith('|c'), counted)


class TestBadConfig(base.ClusterTestCase):

    def _refused(self, name, needles, **spec):
        self.cluster.start_proxy(name, c.ProxySpec(**spec), wait=False)
        self.assertNotEqual(0, self.cluster.wait_exit(name))
        self.assertNamed(name, needles)

    def assertNamed(self, name, needles):
        # One line names them all: a traceback's source lines do not count.
        log = self.cluster.log_text(name)
        self.assertTrue([line for line in log.splitlines()
                         if all(n in line for n in needles)
                         and 'Error' in line], log[-2000:])

    def test_bad_addresses_stop_the_proxy(self):
        cases = {
            'cidr': ({'always_allow': '10.0.0.0/33'},
                     ['always_allow', '10.0.0.0/33']),
            'hostbits': ({'always_allow': 'auto, 10.1.2.3/16'},
                         ['always_allow', '10.1.2.3/16']),
            'nonsense': ({'trusted_proxies': 'nonsense'},
                         ['trusted_proxies', 'nonsense']),
            'max0': ({'max_rules': '0'}, ['max_rules', "'0'"]),
            'maxword': ({'max_rules': 'lots'}, ['max_rules', "'lots'"]),
            'cacheneg': ({'rules_cache_time': '-1'},
                         ['rules_cache_time', "'-1'"]),
            'cacheword': ({'rules_cache_time': 'soon'},
                          ['rules_cache_time', "'soon'"]),
        }
        for name, (options, _needles) in cases.items():
            self.cluster.start_proxy(name, c.ProxySpec(whitelist=options),
                                     wait=False)
        # Control: a good list starts.
        self.cluster.start_proxy('good', c.ProxySpec(whitelist={
            'always_allow': 'auto, 10.0.0.0/8 2001:db8::/32',
            'trusted_proxies': '127.0.0.4'}))
        self.assertEqual(200, self.req('GET', '/info', proxy='good').status)
        for name, (_options, needles) in cases.items():
            self.assertNotEqual(0, self.cluster.wait_exit(name))
            self.assertNamed(name, needles)

    def test_misplaced_filter_stops_the_proxy(self):
        # Left of tempauth, the wrapped swift.authorize would be replaced.
        pipeline = c.PIPELINE.replace('tempauth ip_whitelist',
                                      'ip_whitelist tempauth')
        self._refused('misplaced', ['tempauth', 'before ip_whitelist'],
                      pipeline=pipeline)

    def test_auth_behind_oslo_middleware_stops_the_proxy(self):
        # oslo.middleware keeps the next app in ``application``.
        pipeline = c.PIPELINE.replace('tempauth ip_whitelist',
                                      'ip_whitelist request_id tempauth')
        self._refused('behind-oslo', ['tempauth', 'before ip_whitelist'],
                      pipeline=pipeline, extra_sections=[(
                          'filter:request_id',
                          {'use': 'egg:oslo.middleware#request_id'})])

    def assertRefusedAsMisplaced(self, proxy, error):
        """*proxy* answers 503 to a judged path and logs *error*.

        :returns: the object path it was asked for.
        """
        path = '/v1/%s/anything/o' % c.ACCOUNT
        for source in (base.OTHER, base.ADMIN):
            resp = self.req('GET', path, source=source, user=c.OWNER,
                            proxy=proxy)
            self.assertEqual(503, resp.status, resp)
            self.assertIn(b'misplaced', resp.body)
        self.assertIn(error, self.cluster.log_text(proxy))
        return path

    def test_misplacement_hidden_at_start_is_refused_at_run_time(self):
        pipeline = c.PIPELINE.replace('tempauth ip_whitelist',
                                      'ip_whitelist hiding tempauth')
        self.cluster.start_proxy('hidden', c.ProxySpec(
            pipeline=pipeline, extra_sections=[('filter:hiding', {
                'paste.filter_factory':
                    'tests.functional.swift.hiding_filter:filter_factory'})]))
        self.assertEqual(200, self.req('GET', '/info', proxy='hidden').status)
        self.assertRefusedAsMisplaced(
            'hidden', 'tempauth must come before ip_whitelist')

    def test_slo_left_of_the_filter_is_refused(self):
        # Its async delete would queue segments unjudged: an error, seen
        # once the pipeline is loaded (the filter sees only its right at
        # start, where slo may just be absent).
        pipeline = c.PIPELINE.replace(' slo ', ' ').replace(
            'tempauth ip_whitelist', 'tempauth slo ip_whitelist')
        self.assertNotEqual(pipeline, c.PIPELINE)
        self.cluster.start_proxy('slo_left', c.ProxySpec(pipeline=pipeline))
        path = self.assertRefusedAsMisplaced(
            'slo_left', 'slo must come after ip_whitelist')
        for source in (base.OTHER, base.ADMIN):
            # slo's own answer, once the filter refused its manifest read.
            resp = self.req('DELETE', path + '?multipart-manifest=delete'
                            '&async=yes', source=source, user=c.OWNER,
                            proxy='slo_left')
            self.assertEqual(5, resp.status // 100, resp)
        # Positive control: the recommended pipeline answers.
        self.assertEqual(404, self.req('GET', path, source=base.ADMIN,
                                       user=c.OWNER).status)

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

"""explain-pool against nova.conf files (no Nova needed)."""

import os

from tests.unit.cmd import base

SECRET = 'explain-pool-test-secret-0123456789abcdef'
GUIDE = """
[ip_pools]
client_networks = 10.1.0.0/16=doc, 10.2.0.0/16=ops, 2001:db8:1::/48=doc
default_pool = dev
stamp_secret = %s
""" % SECRET
BEHIND_PROXY = GUIDE + """trusted_proxy_hops = 1

[oslo_middleware]
enable_proxy_headers_parsing = true
"""


class ExplainPoolTest(base.CommandTestCase):

    def explain(self, conf, *argv):
        path = self.write('nova.conf', conf)
        return self.run_cli('explain-pool', '--config-file', path, *argv)

    def test_matched_network(self):
        output = self.assertOk(self.explain(GUIDE, '10.1.2.3'))
        flat = self.flat(output)
        self.assertIn('client 10.1.2.3', flat)
        self.assertIn('matched 10.1.0.0/16=doc (the most specific', flat)
        self.assertIn('pool doc', flat)
        self.assertIn('compute hosts named doc, or doc followed by a '
                      'character other than a letter or digit', flat)
        self.assertIn('stay in pool doc (signed ip_pool hint)', flat)
        self.assertIn('OK: the request gets pool doc', flat)

    def test_the_guides_10_10_bug(self):
        flat = self.flat(self.assertOk(self.explain(GUIDE, '10.10.0.5')))
        self.assertIn('no client network; default_pool = dev', flat)
        self.assertIn("IPScheduler matched startswith('10.1') and would have "
                      "sent 10.10.0.5 to doc; 10.10.0.5 is not in "
                      "10.1.0.0/16", flat)
        self.assertIn('OK: the request gets pool dev', flat)

    def test_default_pool_any(self):
        conf = GUIDE.replace('default_pool = dev', 'default_pool = *')
        flat = self.flat(self.assertOk(self.explain(conf, '192.0.2.7')))
        self.assertIn('pool * (default_pool = *): any host, hosts in no '
                      'pool included', flat)
        self.assertIn('OK: the request is not constrained to a pool', flat)
        # A listed network is still pinned.
        self.assertIn('OK: the request gets pool doc', self.flat(
            self.assertOk(self.explain(conf, '10.1.2.3'))))

    def test_ipv6_and_mapped_addresses(self):
        self.assertIn('pool doc', self.flat(self.assertOk(
            self.explain(GUIDE, '2001:db8:1::7'))))
        flat = self.flat(self.assertOk(self.explain(GUIDE,
                                                    '::ffff:10.2.0.8')))
        self.assertIn('client 10.2.0.8', flat)
        self.assertIn('pool ops', flat)

    def test_most_specific_network_wins(self):
        conf = GUIDE.replace('10.1.0.0/16=doc', '10.0.0.0/8=lab, '
                             '10.1.0.0/16=doc')
        self.assertIn('pool lab', self.flat(self.assertOk(
            self.explain(conf, '10.9.0.1'))))
        self.assertIn('pool doc', self.flat(self.assertOk(
            self.explain(conf, '10.1.0.1'))))

    def test_hosts(self):
        conf = GUIDE.replace('=ops', '=ops, 10.3.0.0/16=doc-eu')
        output = self.assertOk(self.explain(
            conf, '10.1.2.3', '--host', 'doc-1', '--host', 'docker-1',
            '--host', 'ops-1', '--host', 'doc-eu-1'))
        self.assertIn('host doc-1: in pool doc', output)
        self.assertIn('host docker-1: in no pool', output)
        self.assertIn('host ops-1: in pool ops, not doc', output)
        self.assertIn('host doc-eu-1: in pool doc-eu, not doc', output)
        self.assertIn('hosts of the longer pool names doc-eu are not in it',
                      self.flat(output))

    def test_aggregate_metadata(self):
        conf = GUIDE + 'host_selection = aggregate_metadata\n' \
            'aggregate_metadata_key = site\n'
        flat = self.flat(self.assertOk(self.explain(conf, '10.2.0.8')))
        self.assertIn('openstack aggregate set --property site=ops '
                      'AGGREGATE', flat)

    def test_unmatched_without_default_pool_is_refused(self):
        conf = GUIDE.replace('default_pool = dev\n', '')
        self.assertProblems(
            self.explain(conf, '192.0.2.1'),
            'ERROR: refused: 192.0.2.1 is in none of [ip_pools] '
            'client_networks and default_pool is unset')

    def test_bad_address_is_refused(self):
        self.assertProblems(self.explain(GUIDE, 'bogus'),
                            "refused: 'bogus' is not an IP address")

    def test_forwarded_for_through_one_trusted_proxy(self):
        # The client wrote 10.1.0.9; the load balancer appended 10.2.0.8.
        flat = self.flat(self.assertOk(self.explain(
            BEHIND_PROXY, '192.0.2.10', '--forwarded-for',
            '10.1.0.9, 10.2.0.8')))
        self.assertIn('request address 10.1.0.9, 10.2.0.8 (1 trusted proxy '
                      'hop)', flat)
        self.assertIn('client 10.2.0.8', flat)
        self.assertIn('pool ops', flat)

    def test_chain_shorter_than_the_trusted_hops(self):
        conf = BEHIND_PROXY.replace('trusted_proxy_hops = 1',
                                    'trusted_proxy_hops = 2')
        self.assertProblems(
            self.explain(conf, '192.0.2.10', '--forwarded-for', '10.1.0.9'),
            'the chain has 1 entry, fewer than trusted_proxy_hops = 2')

    def test_chain_without_trusted_proxies(self):
        self.assertProblems(
            self.explain(GUIDE + '[oslo_middleware]\n'
                         'enable_proxy_headers_parsing = true\n',
                         '192.0.2.10', '--forwarded-for', '10.1.0.9'),
            'enable_proxy_headers_parsing = True with [ip_pools] '
            'trusted_proxy_hops = 0',
            'ip_pool_stamp filter refuses to start')
        self.assertProblems(
            self.explain(GUIDE + '[oslo_middleware]\n'
                         'enable_proxy_headers_parsing = true\n',
                         '192.0.2.10', '--forwarded-for', '10.1.0.9, 1.2.3.4'),
            'with trusted_proxy_hops = 0 nova-api expects a single address')

    def test_forwarded_for_ignored_without_header_parsing(self):
        flat = self.flat(self.assertOk(self.explain(
            GUIDE, '10.2.0.8', '--forwarded-for', '10.1.0.9')))
        self.assertIn('nova-api ignores X-Forwarded-For', flat)
        self.assertIn('pool ops', flat)

    def test_no_stamp_secret(self):
        conf = GUIDE.replace('stamp_secret = %s\n' % SECRET, '')
        flat = self.flat(self.assertOk(self.explain(conf, '10.1.2.3')))
        self.assertIn("note: [ip_pools] stamp_secret = (unset): required by "
                      "the ip_pool_stamp paste filter", flat)
        self.assertIn('keep the pool of the host the server leaves', flat)

    def test_invalid_configuration(self):
        self.assertProblems(
            self.explain(GUIDE.replace('10.1.0.0/16', '10.1.2.3/16'),
                         '10.1.2.3'),
            "[ip_pools] client_networks = '10.1.2.3/16=doc'",
            'has host bits set',
            'nova-scheduler and nova-api refuse to start with it')
        self.assertProblems(
            self.explain(GUIDE + 'trusted_proxy_hops = many\n', '10.1.2.3'),
            'trusted_proxy_hops', 'refuse to start')
        self.assertProblems(
            self.explain('[ip_pools]\n', '10.1.2.3'),
            'every client would be refused')

    def test_misspelt_option(self):
        self.assertProblems(
            self.explain(GUIDE + 'default_pol = ops\n', '10.1.2.3'),
            'unknown option [ip_pools] default_pol is ignored')

    def test_missing_config_file(self):
        self.assertProblems(
            self.run_cli('explain-pool', '--config-file',
                         os.path.join(self.dir, 'nope.conf'), '10.1.2.3'),
            'cannot read the configuration')

    def test_config_dir_overrides(self):
        conf_d = os.path.join(self.dir, 'nova.conf.d')
        os.mkdir(conf_d)
        with open(os.path.join(conf_d, 'pools.conf'), 'w') as f:
            f.write('[ip_pools]\ndefault_pool = ops\n')
        path = self.write('nova.conf', GUIDE)
        flat = self.flat(self.assertOk(self.run_cli(
            'explain-pool', '--config-file', path, '--config-dir', conf_d,
            '192.0.2.1')))
        self.assertIn('default_pool = ops', flat)

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

from tests.unit.cmd import base


class CheckRuleTest(base.CommandTestCase):

    def check(self, *argv):
        return self.run_cli('check-rule', *argv)

    def test_single_address(self):
        output = self.assertOk(self.check('198.51.100.12'))
        self.assertIn('198.51.100.12/32', output)
        self.assertIn('IPv4', output)
        self.assertIn('1 address', output)
        self.assertIn('a single address (/32)', output)

    def test_guide_form_with_networks_of_both_families(self):
        output = self.assertOk(self.check(
            'allow-office:203.0.113.0/24, 2001:db8:5::/48'))
        self.assertIn("allow-office: '203.0.113.0/24, 2001:db8:5::/48'",
                      output)
        self.assertIn('valid: 2 networks', output)
        self.assertIn('256 addresses', output)
        self.assertIn('203.0.113.0 - 203.0.113.255', output)
        self.assertIn('2^80 addresses', output)
        self.assertIn('IPv6', output)

    def test_header_form(self):
        output = self.assertOk(self.check(
            'X-Container-Meta-Allow-Dev: 10.2.0.0/16'))
        self.assertIn("allow-dev: '10.2.0.0/16'", output)
        self.assertIn('65,536 addresses', output)

    def test_normalisations_are_shown(self):
        output = self.assertOk(self.check(
            '::ffff:192.0.2.0/120 [fe80::1%eth0] 2001:DB8::0001/128'))
        flat = self.flat(output)
        self.assertIn('192.0.2.0/24 IPv4', flat)
        self.assertIn('IPv4-mapped IPv6, matched as the IPv4 network', flat)
        self.assertIn('brackets dropped', flat)
        self.assertIn('scope %eth0 dropped', flat)
        self.assertIn('2001:db8::1/128', flat)
        self.assertIn('written 2001:DB8::0001/128', flat)

    def test_redundant_and_everybody_rules_are_pointed_out(self):
        flat = self.flat(self.assertOk(self.check('10.0.0.0/8 10.1.0.0/16')))
        self.assertIn('already inside 10.0.0.0/8', flat)
        flat = self.flat(self.assertOk(self.check('0.0.0.0/0')))
        self.assertIn('the rule allows everybody', flat)

    def test_host_bits_set(self):
        self.assertProblems(
            self.check('allow-dev:10.1.2.3/16'),
            "ERROR: '10.1.2.3/16' has host bits set; the network is "
            "10.1.0.0/16",
            'the proxy answers 400 "invalid allow-dev rule: 10.1.2.3/16"')

    def test_every_bad_entry_is_named(self):
        self.assertProblems(
            self.check('10.0.0.0/8, bogus 10.0.0.0/33 192.0.2.1'),
            "'bogus' is not an IP network",
            "'10.0.0.0/33' has an invalid prefix length",
            'FAILED: 2 errors')

    def test_one_bad_rule_among_several_fails(self):
        output = self.assertProblems(
            self.check('192.0.2.1', 'allow-x:192.0.2.300'),
            "'192.0.2.300' is not an IP network")
        self.assertIn('valid: 1 network', output)

    def test_empty_value_removes_the_rule(self):
        output = self.assertOk(self.check('allow-dev:'))
        self.assertIn('removes the rule allow-dev', output)

    def test_rule_without_a_name(self):
        self.assertProblems(self.check('allow-:192.0.2.1'),
                            'has no name after "allow-"')

    def test_value_longer_than_swift_allows(self):
        value = ' '.join('192.0.2.%d' % i for i in range(30))
        self.assertProblems(self.check(value),
                            'longer than 256 characters')

    def test_name_longer_than_swift_allows(self):
        self.assertProblems(self.check('allow-%s:192.0.2.1' % ('x' * 120)),
                            'longer than 128 characters')

    def test_clients(self):
        output = self.assertOk(self.check(
            '203.0.113.0/24', '--client', '203.0.113.9', '--client',
            '::ffff:203.0.113.10', '--client', '198.51.100.1'))
        self.assertIn('client 203.0.113.9: covered by 203.0.113.0/24', output)
        self.assertIn('client 203.0.113.10: covered by 203.0.113.0/24',
                      output)
        self.assertIn('client 198.51.100.1: NOT covered', output)

    def test_bad_client_is_a_usage_error(self):
        self.assertIn("'nope' is not an IP address", self.run_usage_error(
            'check-rule', '192.0.2.1', '--client', 'nope'))

    def test_account_rules_bound_the_container_s(self):
        flat = self.flat(self.assertOk(self.check(
            'allow-dev:10.2.0.0/16 192.0.2.0/24 2001:db8::/32',
            '--account-rule', '10.0.0.0/8',
            '--account-rule', '192.0.2.128/25',
            '--client', '10.2.9.9', '--client', '192.0.2.9',
            '--client', '192.0.2.200')))
        self.assertIn('only partly inside the account\'s rules', flat)
        self.assertIn('2^96 addresses 2001:db8:: - 2001:db8:ffff:ffff:ffff:'
                      'ffff:ffff:ffff - outside the account\'s rules', flat)
        self.assertNotIn('10.2.255.255 - ', flat)  # inside: no note
        self.assertIn('client 10.2.9.9: covered by 10.2.0.0/16 ', flat)
        self.assertIn('client 192.0.2.9: covered by 192.0.2.0/24, but '
                      'refused: outside the account\'s rules', flat)
        self.assertIn('client 192.0.2.200: covered by 192.0.2.0/24 ', flat)

    def test_bad_account_rule_is_an_error(self):
        output = self.check('10.2.0.0/16', '--account-rule', '10.1.2.3/8')
        self.assertEqual(1, output[0], output)
        self.assertIn('--account-rule: 10.1.2.3/8', output[1])

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

"""How rules are stored, counted and parsed."""

import ipaddress

import testtools

from openstack_ext.swift import rules

ip = ipaddress.ip_address


class TestStoredRules(testtools.TestCase):

    def test_sysmeta_and_guide_era_meta(self):
        info = {'sysmeta': {'ip-whitelist-allow-dev': '192.0.2.1',
                            'ip-whitelist-allow-gone': '',
                            'other': '198.51.100.1'},
                'meta': {'allow-dev': '203.0.113.0/24', 'color': 'red'}}
        self.assertEqual({('sysmeta', 'dev'): '192.0.2.1',
                          ('meta', 'dev'): '203.0.113.0/24'},
                         rules.stored_rules(info))
        self.assertEqual(('192.0.2.1', '203.0.113.0/24'),
                         rules.rule_values(info))
        self.assertEqual({}, rules.stored_rules({}))

    def test_count_networks_counts_every_entry(self):
        self.assertEqual(4, rules.count_networks(
            ['192.0.2.1, 10.0.0.0/8 ::1', 'nonsense']))
        self.assertEqual(0, rules.count_networks(['', ' , ']))


class TestParseValues(testtools.TestCase):

    def test_bad_entries_named_the_rest_applies(self):
        networks, bad = rules.parse_values(('192.0.2.0/24, nonsense',
                                            '2001:db8::/32 10.1.2.3/16'))
        self.assertEqual(('nonsense', '10.1.2.3/16'), bad)
        self.assertIn(ip('192.0.2.7'), networks)
        self.assertIn(ip('2001:db8::1'), networks)
        self.assertNotIn(ip('198.51.100.1'), networks)

    def test_nothing_valid_is_an_empty_set_not_none(self):
        networks, bad = rules.parse_values(('nonsense',))
        self.assertEqual(0, len(networks))
        self.assertIsNotNone(networks)
        self.assertEqual(('nonsense',), bad)

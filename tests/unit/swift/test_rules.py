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

"""Stored rules, their count, and the bounded cache of compiled rules."""

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
        self.assertEqual(['192.0.2.1', '203.0.113.0/24'],
                         rules.rule_values(info))
        self.assertEqual({}, rules.stored_rules({}))

    def test_count_networks_counts_every_entry(self):
        self.assertEqual(4, rules.count_networks(
            ['192.0.2.1, 10.0.0.0/8 ::1', 'nonsense']))
        self.assertEqual(0, rules.count_networks(['', ' , ']))


class TestCompiledRules(testtools.TestCase):

    def test_compiled_once_and_bad_entries_named(self):
        cache = rules.CompiledRules()
        values = ('192.0.2.0/24, nonsense', '2001:db8::/32')
        networks, bad = cache(values)
        self.assertIs(networks, cache(values)[0])
        self.assertEqual(('nonsense',), bad)
        self.assertIn(ip('192.0.2.7'), networks)
        self.assertIn(ip('2001:db8::1'), networks)
        self.assertNotIn(ip('198.51.100.1'), networks)

    def test_bounded_by_networks_least_recently_used_first(self):
        cache = rules.CompiledRules(budget=10)
        first = cache(('192.0.2.1, 192.0.2.2, 192.0.2.3',))[0]   # weighs 4
        second = cache(('198.51.100.1, 198.51.100.2',))[0]       # weighs 3
        self.assertIs(first, cache(('192.0.2.1, 192.0.2.2, 192.0.2.3',))[0])
        cache(('203.0.113.1, 203.0.113.2, 203.0.113.3',))        # 11 > 10
        self.assertEqual(2, len(cache))
        self.assertLessEqual(cache.held, cache.budget)
        # The least recently used (second) went; the first was used again.
        self.assertIs(first, cache(('192.0.2.1, 192.0.2.2, 192.0.2.3',))[0])
        self.assertIsNot(second, cache(('198.51.100.1, 198.51.100.2',))[0])

    def test_a_set_over_the_budget_is_still_answered(self):
        cache = rules.CompiledRules(budget=2)
        cache(('192.0.2.1',))
        networks, bad = cache(('10.0.0.0/8, 172.16.0.0/12, ::1',))
        self.assertEqual((3, ()), (len(networks), bad))
        self.assertEqual(1, len(cache))


class TestPerimeter(testtools.TestCase):

    def test_printed_level_by_level(self):
        compiled = rules.CompiledRules()
        account = compiled(('192.0.2.0/24',))[0]
        container = compiled(('2001:db8::/32',))[0]
        self.assertEqual('account: 192.0.2.0/24; container: 2001:db8::/32',
                         str(rules.Perimeter((account, container))))
        self.assertEqual('container: 2001:db8::/32',
                         str(rules.Perimeter((None, container))))
        self.assertEqual('no rules', str(rules.NO_PERIMETER))
        self.assertEqual((account, None),
                         (rules.Perimeter((account, None)).account,
                          rules.Perimeter((account, None)).container))


class TestCompiledRulesByHolder(testtools.TestCase):
    """Told the holder, the cache compares values instead of hashing."""

    def fresh(self, *values):
        # As read from memcache: equal strings, new objects.
        return tuple(v.encode().decode() for v in values)

    def test_same_set_for_equal_values_new_set_for_changed(self):
        cache = rules.CompiledRules()
        first = cache(self.fresh('192.0.2.0/24'), ('AUTH_a', 'c'))[0]
        self.assertIs(first, cache(self.fresh('192.0.2.0/24'),
                                   ('AUTH_a', 'c'))[0])
        changed = cache(self.fresh('198.51.100.0/24'), ('AUTH_a', 'c'))[0]
        self.assertIn(ip('198.51.100.7'), changed)
        self.assertNotIn(ip('192.0.2.7'), changed)
        # Another holder with the first values shares the first set.
        self.assertIs(first, cache(self.fresh('192.0.2.0/24'),
                                   ('AUTH_b',))[0])

    def test_dropped_sets_forget_their_holders(self):
        cache = rules.CompiledRules(budget=4, holders=2)
        cache(('192.0.2.1, 192.0.2.2',), ('a',))            # weighs 3
        cache(('198.51.100.1, 198.51.100.2',), ('b',))      # 6 > 4
        self.assertEqual(1, len(cache))
        self.assertEqual({('b',)}, set(cache._holders))
        networks = cache(self.fresh('192.0.2.1, 192.0.2.2'), ('a',))[0]
        self.assertIn(ip('192.0.2.2'), networks)
        cache(('203.0.113.1',), ('c',))
        self.assertLessEqual(len(cache._holders), 2)
        for values, holders in [(e[1], e[2])
                                for e in cache._sets.values()]:
            for holder in holders:
                self.assertIs(values, cache._holders[holder])

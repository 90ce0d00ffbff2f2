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


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class TestKeptRules(testtools.TestCase):
    """``rules_cache_time``'s store: per holder, for a while, bounded."""

    def setUp(self):
        super(TestKeptRules, self).setUp()
        self.clock = Clock()
        self.kept = rules.KeptRules(10, budget=10, clock=self.clock)
        self.networks = rules.compile_uncached(('192.0.2.0/24',))[0]

    def test_kept_for_the_time_given(self):
        holder = ('AUTH_a', 'c')
        self.assertIs(rules.MISSING, self.kept.get(holder))
        self.kept.keep(holder, self.networks, self.clock())
        self.kept.keep(('AUTH_a',), None, self.clock())  # no rule: kept
        self.clock.now += 9.9
        self.assertIs(self.networks, self.kept.get(holder))
        self.assertIsNone(self.kept.get(('AUTH_a',)))
        self.clock.now += 0.1
        self.assertIs(rules.MISSING, self.kept.get(holder))
        self.assertEqual(1, len(self.kept))

    def test_a_write_here_forgets_and_refuses_older_reads(self):
        holder = ('AUTH_a',)
        read_at = self.clock()
        self.kept.keep(holder, self.networks, read_at)
        self.clock.now += 1
        self.kept.forget(holder)
        self.assertIs(rules.MISSING, self.kept.get(holder))
        # Read before the write ended (a request running meanwhile).
        self.kept.keep(holder, self.networks, read_at + 0.5)
        self.assertIs(rules.MISSING, self.kept.get(holder))
        # Control: read after it, kept.
        self.clock.now += 0.1
        self.kept.keep(holder, None, self.clock())
        self.assertIsNone(self.kept.get(holder))
        # Other holders are not touched by the write.
        self.kept.keep(('AUTH_b',), self.networks, read_at)
        self.assertIs(self.networks, self.kept.get(('AUTH_b',)))

    def test_bounded_by_networks(self):
        big = rules.compile_uncached(('10.0.0.1 10.0.0.2 10.0.0.3 '
                                      '10.0.0.4',))[0]  # weighs 5
        for name in ('a', 'b', 'c'):
            self.kept.keep((name,), big, self.clock())
        self.assertLessEqual(self.kept.held, self.kept.budget)
        self.assertEqual(2, len(self.kept))
        self.assertIs(rules.MISSING, self.kept.get(('a',)))  # oldest out
        self.assertIs(big, self.kept.get(('c',)))

    def test_writes_remembered_only_as_long_as_they_matter(self):
        for number in range(50):
            self.kept.forget(('AUTH_%d' % number,))
            self.clock.now += 1
        self.assertLessEqual(len(self.kept._written), 11)


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
                self.assertIs(values, cache._holders[holder][0])


class TestCompiledRulesOfInfo(testtools.TestCase):
    """An info whose metadata is unchanged gets its set back, unscanned."""

    def info(self, sysmeta=None, meta=None):
        # As read from memcache: new dicts and strings every time.
        def fresh(d):
            return {k.encode().decode(): v.encode().decode()
                    for k, v in (d or {}).items()}
        return {'status': 200, 'sysmeta': fresh(sysmeta), 'meta': fresh(meta)}

    def test_unchanged_metadata_same_set_changed_new_set(self):
        cache = rules.CompiledRules()
        rule = {rules.SYSMETA_PREFIX + 'dev': '192.0.2.0/24'}
        first, bad = cache.of_info('container/a/c', self.info(rule))
        self.assertEqual((), bad)
        self.assertIs(first, cache.of_info('container/a/c',
                                           self.info(rule))[0])
        changed = cache.of_info('container/a/c', self.info(
            {rules.SYSMETA_PREFIX + 'dev': '198.51.100.0/24'}))[0]
        self.assertIn(ip('198.51.100.7'), changed)
        self.assertNotIn(ip('192.0.2.7'), changed)
        # Other metadata changing reads the rules anew, to the same set.
        self.assertIs(changed, cache.of_info('container/a/c', self.info(
            {rules.SYSMETA_PREFIX + 'dev': '198.51.100.0/24',
             'versions-location': 'v'}, {'color': 'blue'}))[0])
        # The guide-era copy in meta counts as well.
        old = cache.of_info('container/a/c', self.info(
            meta={rules.RULE_PREFIX + 'x': '203.0.113.0/24'}))[0]
        self.assertIn(ip('203.0.113.1'), old)

    def test_no_rules_then_rules(self):
        cache = rules.CompiledRules()
        self.assertEqual((None, ()), cache.of_info('account/a', self.info()))
        self.assertEqual((None, ()), cache.of_info('account/a', self.info(
            meta={'color': 'blue'})))
        networks = cache.of_info('account/a', self.info(
            {rules.SYSMETA_PREFIX + 'x': '192.0.2.1'}))[0]
        self.assertIn(ip('192.0.2.1'), networks)
        self.assertEqual((None, ()), cache.of_info('account/a', self.info()))

    def test_what_was_read_is_copied(self):
        cache = rules.CompiledRules()
        info = self.info({rules.SYSMETA_PREFIX + 'x': '192.0.2.1'})
        cache.of_info('account/a', info)
        # The request's own info changed in place afterwards...
        info['sysmeta'][rules.SYSMETA_PREFIX + 'x'] = '198.51.100.1'
        # ...is not what the next request's (equal) info is compared with.
        networks = cache.of_info('account/a', self.info(
            {rules.SYSMETA_PREFIX + 'x': '198.51.100.1'}))[0]
        self.assertIn(ip('198.51.100.1'), networks)

    def test_dropped_sets_forget_what_was_read(self):
        cache = rules.CompiledRules(budget=4, holders=2)
        cache.of_info('a', self.info({rules.SYSMETA_PREFIX + 'x':
                                      '192.0.2.1, 192.0.2.2'}))  # weighs 3
        cache.of_info('b', self.info({rules.SYSMETA_PREFIX + 'x':
                                      '198.51.100.1, 198.51.100.2'}))
        self.assertEqual(1, len(cache))
        self.assertEqual({'b'}, set(cache._holders))
        cache.of_info('c', self.info())
        cache.of_info('d', self.info())
        self.assertLessEqual(len(cache._holders), 2)
        self.assertEqual([set()], [e[2] for e in cache._sets.values()])
        again = cache.of_info('a', self.info({rules.SYSMETA_PREFIX + 'x':
                                              '192.0.2.1, 192.0.2.2'}))[0]
        self.assertIn(ip('192.0.2.2'), again)

    def test_a_set_hit_outlasts_one_unused_and_a_hit_moves_nothing(self):
        cache = rules.CompiledRules(budget=7)
        a = {rules.SYSMETA_PREFIX + 'x': '192.0.2.1, 192.0.2.2'}  # weighs 3
        b = {rules.SYSMETA_PREFIX + 'x': '198.51.100.1, 198.51.100.2'}
        first = cache.of_info('a', self.info(a))[0]
        cache.of_info('b', self.info(b))
        order = list(cache._sets)
        self.assertIs(first, cache.of_info('a', self.info(a))[0])  # a hit
        self.assertEqual(order, list(cache._sets))
        cache.of_info('c', self.info({rules.SYSMETA_PREFIX + 'x':
                                      '203.0.113.1, 203.0.113.2'}))  # 9 > 7
        self.assertEqual(2, len(cache))
        self.assertEqual({'a', 'c'}, set(cache._holders))
        self.assertIs(first, cache.of_info('a', self.info(a))[0])

    def test_a_new_set_outlasts_sets_all_in_use(self):
        cache = rules.CompiledRules(budget=7)
        a = {rules.SYSMETA_PREFIX + 'x': '192.0.2.1, 192.0.2.2'}
        b = {rules.SYSMETA_PREFIX + 'x': '198.51.100.1, 198.51.100.2'}
        for _ in range(2):  # both looked at since they were compiled
            cache.of_info('a', self.info(a))
            cache.of_info('b', self.info(b))
        new = cache.of_info('c', self.info({rules.SYSMETA_PREFIX + 'x':
                                            '203.0.113.1, 203.0.113.2'}))[0]
        self.assertIn(ip('203.0.113.2'), new)
        # The oldest went, after one turn round; the new one stayed.
        self.assertEqual({'b', 'c'}, set(cache._holders))
        for entry in cache._sets.values():
            for holder in entry[2]:
                self.assertIs(entry, cache._holders[holder][4])

    def test_metadata_kept_is_bounded(self):
        # Holders with much metadata, rules or none: what is copied for
        # them stays within info_budget, and the links stay consistent.
        cache = rules.CompiledRules(holders=1000, info_budget=500)
        meta = {'m%02d' % i: 'x' * 200 for i in range(90)}
        for number in range(50):
            sysmeta = {rules.SYSMETA_PREFIX + 'x': '192.0.2.%d' % number} \
                if number % 2 else {}
            cache.of_info('container/a/c%d' % number,
                          self.info(sysmeta, meta))
            self.assertLessEqual(cache.info_held, 500)
        self.assertLessEqual(len(cache._holders), 500 // 91)
        self.assertEqual(cache.info_held, sum(
            rules._info_weight(r) for r in cache._holders.values()))
        for values, holders in [(e[1], e[2]) for e in cache._sets.values()]:
            for holder in holders:
                self.assertIs(values, cache._holders[holder][0])
        # An evicted holder is read anew, to the right rules.
        networks = cache.of_info('container/a/c1', self.info(
            {rules.SYSMETA_PREFIX + 'x': '192.0.2.1'}, meta))[0]
        self.assertIn(ip('192.0.2.1'), networks)

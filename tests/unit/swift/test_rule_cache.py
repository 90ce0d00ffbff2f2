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

"""The one cache of compiled rules."""

import ipaddress

import testtools

from openstack_ext.swift import rule_cache
from openstack_ext.swift import rules

ip = ipaddress.ip_address


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def info_of(values, mode=rules.ENFORCE, meta=None):
    """A successful info storing rule *values* and *mode*."""
    sysmeta = {rules.SYSMETA_PREFIX + 'r%d' % number: value
               for number, value in enumerate(values)}
    sysmeta[rules.MODE_NAME] = mode
    return {'status': 200, 'sysmeta': sysmeta, 'meta': dict(meta or {})}


def reading(values, reads=None, mode=rules.ENFORCE):
    """A ``read_info`` whose info stores *values* (``None``: gone)."""
    def read_info():
        if reads is not None:
            reads.append(values)
        return None if values is None else info_of(values, mode)
    return read_info


NO_RULES = rule_cache.HolderRules(None, (), rules.ENFORCE)


class TestCompiled(testtools.TestCase):

    def test_compiled_once_by_values_bad_entries_named(self):
        cache = rule_cache.RuleCache()
        values = ('192.0.2.0/24, nonsense', '2001:db8::/32')
        compiled = cache.rules('container/a/c', reading(values))
        # Another holder with equal values (new strings): the same set.
        again = cache.rules('container/a/d', reading(tuple(
            ''.join(v) for v in values)))
        self.assertIs(compiled.networks, again.networks)
        self.assertEqual(('nonsense',), compiled.bad)
        self.assertIn(ip('192.0.2.7'), compiled.networks)
        self.assertNotIn(ip('198.51.100.1'), compiled.networks)

    def test_changed_values_are_a_new_set(self):
        cache = rule_cache.RuleCache()
        first = cache.rules('h', reading(('192.0.2.1',)))
        second = cache.rules('h', reading(('192.0.2.2',)))
        self.assertNotIn(ip('192.0.2.1'), second.networks)
        self.assertIn(ip('192.0.2.1'), first.networks)

    def test_no_rules_and_gone(self):
        cache = rule_cache.RuleCache()
        self.assertEqual(NO_RULES, cache.rules('h', reading(())))
        self.assertIsNone(cache.rules('h', reading(None)))
        self.assertEqual(0, len(cache))

    def test_nothing_valid_still_rules(self):
        compiled = rule_cache.RuleCache().rules('h', reading(('junk',)))
        self.assertIsNotNone(compiled.networks)
        self.assertNotIn(ip('192.0.2.1'), compiled.networks)

    def test_bounded_by_networks_least_recently_used_first(self):
        # No holder records: the sets alone.
        cache = rule_cache.RuleCache(budget=10, holders_budget=0)
        big = ('192.0.2.1, 192.0.2.2, 192.0.2.3',)     # weighs 4
        small = ('198.51.100.1, 198.51.100.2',)        # weighs 3
        first = cache.rules('a', reading(big)).networks
        second = cache.rules('b', reading(small)).networks
        self.assertIs(first, cache.rules('a', reading(big)).networks)
        cache.rules('c', reading(('203.0.113.1, 203.0.113.2, '
                                  '203.0.113.3',)))    # 11 > 10
        self.assertEqual(2, len(cache))
        self.assertLessEqual(cache.held, cache.budget)
        # The least recently used (small) went; big was used again.
        self.assertIs(first, cache.rules('a', reading(big)).networks)
        self.assertIsNot(second, cache.rules('b', reading(small)).networks)

    def test_a_set_over_the_budget_is_still_answered(self):
        cache = rule_cache.RuleCache(budget=2)
        cache.rules('a', reading(('192.0.2.1',)))
        compiled = cache.rules('b', reading(('10.0.0.0/8, 172.16.0.0/12, '
                                             '::1',)))
        self.assertEqual((3, ()), (len(compiled.networks), compiled.bad))
        self.assertEqual(1, len(cache))

    def test_values_read_every_time_without_rules_cache_time(self):
        cache = rule_cache.RuleCache()
        reads = []
        for _ in range(3):
            cache.rules('h', reading(('192.0.2.1',), reads))
        self.assertEqual(3, len(reads))


class TestKeptByHolder(testtools.TestCase):
    """``rules_cache_time``: per holder, for a while, bounded."""

    def setUp(self):
        super(TestKeptByHolder, self).setUp()
        self.clock = Clock()
        self.cache = rule_cache.RuleCache(10, budget=10, clock=self.clock)
        self.reads = []

    def read(self, holder, values=('192.0.2.0/24',)):
        return self.cache.rules(holder, reading(values, self.reads))

    def test_kept_for_the_time_given(self):
        compiled = self.read('c')
        self.read('a', ())  # no rule: kept too
        self.clock.now += 9.9
        self.assertIs(compiled, self.read('c', ('10.0.0.0/8',)))
        self.assertEqual(NO_RULES, self.read('a', ('10.0.0.0/8',)))
        self.assertEqual(2, len(self.reads))
        self.clock.now += 0.1
        self.assertIn(ip('10.1.1.1'), self.read('c', ('10.0.0.0/8',))
                      .networks)
        self.assertEqual(3, len(self.reads))

    def test_an_info_in_hand_is_read_and_kept(self):
        self.read('c')
        fresh = self.cache.rules('c', reading(('192.0.2.0/24',), self.reads),
                                 in_hand=info_of(('10.0.0.0/8',)))
        self.assertIn(ip('10.1.1.1'), fresh.networks)
        # What it said is what is kept now.
        self.assertIs(fresh, self.read('c', ('192.0.2.0/24',)))
        self.assertEqual(1, len(self.reads))

    def test_the_mode_is_the_holder_s(self):
        audited = self.cache.rules('a', reading(('192.0.2.0/24',),
                                                mode=rules.AUDIT))
        enforced = self.cache.rules('b', reading(('192.0.2.0/24',)))
        self.assertEqual((rules.AUDIT, rules.ENFORCE),
                         (audited.mode, enforced.mode))
        self.assertIs(audited.networks, enforced.networks)  # one set
        self.assertIs(audited, self.read('a'))  # kept with its mode

    def test_gone_is_not_kept(self):
        self.assertIsNone(self.read('g', None))
        self.assertIsNone(self.read('g', None))
        self.assertEqual(2, len(self.reads))

    def test_a_write_here_forgets_and_refuses_older_reads(self):
        self.read('a')
        self.clock.now += 1
        self.cache.forget('a')
        self.read('a', ('10.0.0.0/8',))
        self.assertEqual(2, len(self.reads))  # read anew after the write

        # A read that began before the write ended is not kept.
        def racing():
            self.clock.now += 0.5
            self.cache.forget('b')  # the write ends meanwhile
            return info_of(('192.0.2.9',))
        self.cache.rules('b', racing)
        self.read('b', ('10.0.0.0/8',))
        self.assertEqual(3, len(self.reads))  # not served from the race

    def test_bounded(self):
        big = ('10.0.0.1 10.0.0.2',)
        self.read('a', big)
        # Room for two records like it.
        self.cache.holders_budget = self.cache.holders_weight * 5 // 2
        for name in ('b', 'c'):
            self.read(name, big)
        self.assertLessEqual(self.cache.holders_weight,
                             self.cache.holders_budget)
        self.read('c', big)
        self.assertEqual(3, len(self.reads))  # c still kept
        self.read('a', big)
        self.assertEqual(4, len(self.reads))  # the oldest went

    def test_writes_remembered_only_as_long_as_they_matter(self):
        for number in range(50):
            self.cache.forget('AUTH_%d' % number)
            self.clock.now += 1
        self.assertLessEqual(len(self.cache._written), 11)


class TestHeldByWhatTheInfoSays(testtools.TestCase):
    """A holder's rules are read again only when its metadata changed."""

    def setUp(self):
        super(TestHeldByWhatTheInfoSays, self).setUp()
        self.cache = rule_cache.RuleCache()

    def held(self, info, holder='container/a/c', **kwargs):
        return self.cache.rules(holder, self.fail, in_hand=info, **kwargs)

    def test_equal_metadata_is_not_read_again(self):
        first = self.held(info_of(('192.0.2.0/24',), meta={'color': 'x'}))
        # Another info (new dicts, new strings), saying the same.
        again = self.held(info_of((''.join('192.0.2.0/24'),),
                                  meta={'color': 'x'}))
        self.assertIs(first, again)

    def test_any_change_of_metadata_is_read(self):
        first = self.held(info_of(('192.0.2.0/24',)))
        audited = self.held(info_of(('192.0.2.0/24',), mode=rules.AUDIT))
        self.assertEqual((rules.ENFORCE, rules.AUDIT),
                         (first.mode, audited.mode))
        guide_era = self.held(info_of(('192.0.2.0/24',),
                                      meta={'allow-old': '10.0.0.0/8'}))
        self.assertIn(ip('10.1.1.1'), guide_era.networks)
        unrelated = self.held(info_of(('192.0.2.0/24',),
                                      meta={'color': 'x'}))
        self.assertNotIn(ip('10.1.1.1'), unrelated.networks)
        self.assertIsNot(first, self.held(info_of(('198.51.100.0/24',))))

    def test_each_holder_is_its_own(self):
        info = info_of(('192.0.2.0/24',))
        info['sysmeta'][rules.OPERATOR_PREFIX + 'x'] = '10.0.0.0/8'
        container = self.held(info)
        account = self.held(info, holder='account/a', account=True)
        self.assertIsNone(container.operator)
        self.assertIn(ip('10.1.1.1'), account.operator.networks)

    def test_the_replicas_are_asked_every_time(self):
        answers = [('192.0.2.0/24',), (('192.0.2.0/24',), ('192.0.2.0/28',)),
                   ('192.0.2.0/24',)]
        asked = []

        def merge(values, _info):
            asked.append(values)
            return answers[len(asked) - 1]

        held = [self.held(info_of(('192.0.2.0/24',)), merge=merge)
                for _ in answers]
        self.assertEqual([('192.0.2.0/24',)] * 3, asked)
        self.assertIn(ip('192.0.2.100'), held[0].networks)
        # The replicas disagree: both sets apply, whatever was kept.
        self.assertNotIn(ip('192.0.2.100'), held[1].networks)
        self.assertIn(ip('192.0.2.1'), held[1].networks)
        self.assertIn(ip('192.0.2.100'), held[2].networks)

    def test_a_gone_holder_keeps_nothing(self):
        self.held(info_of(('192.0.2.0/24',)))
        self.assertIsNone(self.cache.rules('container/a/c', lambda: None))
        self.assertEqual((0, {}), (self.cache.holders_weight,
                                   self.cache._holders))
        self.assertIn(ip('192.0.2.1'),
                      self.held(info_of(('192.0.2.0/24',))).networks)

    def test_bounded_in_bytes(self):
        cache = rule_cache.RuleCache(holders_budget=20000)
        for number in range(50):
            cache.rules('container/a/c%d' % number, self.fail,
                        in_hand=info_of(('192.0.2.%d' % number,)))
            self.assertLessEqual(cache.holders_weight, cache.holders_budget)
        self.assertGreater(len(cache._holders), 5)
        # Metadata weighs what it holds: a large value leaves room for
        # fewer records.
        cache.rules('container/a/big', self.fail, in_hand=info_of(
            ('192.0.2.0/24',), meta={'notes': 'x' * 15000}))
        self.assertLessEqual(cache.holders_weight, cache.holders_budget)
        self.assertLessEqual(len(cache._holders), 3)
        # One record over the whole budget is not kept, still answered.
        self.assertIsNotNone(cache.rules(
            'container/a/huge', self.fail, in_hand=info_of(
                ('192.0.2.0/24',), meta={'notes': 'x' * 30000})))
        self.assertEqual((0, {}), (cache.holders_weight, cache._holders))

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

"""Merging the rules of a holder's primaries (the network part is real;
the primaries themselves are in tests/functional/swift/test_replicas.py).
"""

import ipaddress
import json
import time

import testtools

from openstack_ext.swift import conf
from openstack_ext.swift import decision
from openstack_ext.swift import replicas
from openstack_ext.swift import rule_cache

ip = ipaddress.ip_address
WIDE = ('192.0.2.0/24',)
NARROW = ('192.0.2.0/28',)
OPTIONS = decision.Options(always_allow=(), deny_without_rules=False,
                           mode=decision.ENFORCE)


def answer(status, values=(), headers=None):
    return replicas.Answer({'ip': '127.0.0.1', 'port': 1}, status, headers,
                           values)


class TestDistinctSets(testtools.TestCase):

    def test_every_set_with_rules_is_kept_once(self):
        sets = replicas.distinct_sets([answer(200, NARROW), answer(200, WIDE),
                                       answer(204, NARROW)])
        self.assertEqual(sorted([NARROW, WIDE]), sets)

    def test_a_replica_without_rules_adds_none(self):
        self.assertEqual([NARROW], replicas.distinct_sets(
            [answer(200, NARROW), answer(200), answer(404)]))

    def test_gone_counts_as_an_answer(self):
        self.assertEqual([], replicas.distinct_sets(
            [answer(404), answer(404), answer(None)]))

    def test_fewer_answers_than_a_quorum_raise(self):
        for answers in ([answer(200, WIDE), answer(None), answer(503)],
                        [answer(None)],
                        [answer(200, WIDE), answer(507), answer(None),
                         answer(200, WIDE), answer(None)]):
            self.assertRaises(replicas.NoQuorum, replicas.distinct_sets,
                              answers)


def replicas_hold(cache, holder, values):
    """``cache``'s rules of a holder whose replicas merge to *values*."""
    return cache.rules(
        holder, lambda: {'status': 200, 'sysmeta': {}, 'meta': {}},
        merge=lambda _stored, _info: values)


class TestMerged(testtools.TestCase):

    def test_agreeing_replicas_give_the_values_as_they_are(self):
        self.assertEqual(WIDE, replicas.merged(WIDE, (WIDE,)))
        self.assertEqual(WIDE, replicas.merged((), (WIDE,)))
        self.assertEqual(WIDE, replicas.merged(WIDE, ()))
        self.assertEqual((), replicas.merged((), ()))

    def test_disagreeing_replicas_all_apply(self):
        values = replicas.merged(WIDE, (NARROW,))
        self.assertEqual(tuple(sorted([WIDE, NARROW])), values)
        compiled = replicas_hold(rule_cache.RuleCache(), 'c', values)
        self.assertIn(ip('192.0.2.1'), compiled.networks)
        self.assertNotIn(ip('192.0.2.100'), compiled.networks)
        level = [('container', compiled.networks, decision.ENFORCE)]
        self.assertEqual('container', decision.decide(
            ip('192.0.2.100'), level, OPTIONS).refused_by)
        self.assertIsNone(decision.decide(
            ip('192.0.2.1'), level, OPTIONS).refused_by)
        self.assertEqual(2, len(compiled.networks))

    def test_the_same_disagreement_is_compiled_once(self):
        cache = rule_cache.RuleCache()
        values = replicas.merged(WIDE, (NARROW,))
        first = replicas_hold(cache, 'a', values)
        self.assertIs(first.networks,
                      replicas_hold(cache, 'b', tuple(values)).networks)


class JsonMemcache(object):
    """Keeps what it is given as memcached keeps Swift's values: JSON."""

    def __init__(self):
        self.kept, self.sets = {}, []

    def get(self, key):
        return json.loads(self.kept[key]) if key in self.kept else None

    def set(self, key, value, time=0):
        self.sets.append((key, time))
        self.kept[key] = json.dumps(value)

    def delete(self, key):
        self.kept.pop(key, None)


def info_with(values, **extra):
    info = {'status': 200, 'meta': {}, 'object_count': '3', 'sysmeta': {
        'ip-whitelist-allow-%d' % number: value
        for number, value in enumerate(values)}}
    info.update(extra)
    return info


def kept_for(sets, seconds=60):
    """What the filter keeps of a holder's primaries, for *seconds*."""
    return {'sets': [list(each) for each in sets],
            'until': time.time() + seconds}


class TestCarriedInSwiftsInfo(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.memcache = JsonMemcache()
        self.env = {'swift.cache': self.memcache}

    def refilled(self, holder, values, sets, seconds=60):
        """Swift's info of *holder* refilled, and the filter's entry."""
        found = info_with(values)
        self.memcache.set(holder, found)
        kept = kept_for(sets, seconds)
        self.memcache.set(replicas.cache_key(holder), kept, time=seconds)
        return found, self.memcache.get(replicas.cache_key(holder))

    def test_only_the_sets_that_differ_are_carried(self):
        found, kept = self.refilled('container/a/c', WIDE, (NARROW, WIDE))
        replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
        entry = self.memcache.get('container/a/c')
        self.assertEqual([list(NARROW)], entry[replicas.INFO_FIELD])
        self.assertEqual('3', entry['object_count'])  # Swift's, untouched
        key, seconds = self.memcache.sets[-1]
        self.assertEqual('container/a/c', key)
        self.assertIn(seconds, (59, 60))

    def test_agreeing_primaries_carry_an_empty_field(self):
        found, kept = self.refilled('account/a', WIDE, (WIDE,))
        replicas.carry(self.env, 'account/a', found, WIDE, kept)
        self.assertEqual(
            [], self.memcache.get('account/a')[replicas.INFO_FIELD])

    def test_carried_no_longer_than_the_filters_entry_lasts(self):
        found, kept = self.refilled('container/a/c', WIDE, (WIDE,), 10)
        replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
        self.assertIn(self.memcache.sets[-1], (('container/a/c', 9),
                                               ('container/a/c', 10)))
        # A filter's entry at its end is not carried at all.
        found, kept = self.refilled('container/a/d', WIDE, (WIDE,), 0.5)
        replicas.carry(self.env, 'container/a/d', found, WIDE, kept)
        self.assertNotIn(replicas.INFO_FIELD,
                         self.memcache.get('container/a/d'))

    def test_an_entry_refilled_since_is_left_alone(self):
        # A write dropped the entry and Swift refilled it with other rules
        # (or other info): sets compared with the old info do not go in.
        found, kept = self.refilled('container/a/c', WIDE, (WIDE,))
        for changed in (info_with(NARROW), info_with(WIDE, read_acl='x'),
                        dict(found, **{replicas.INFO_FIELD: []})):
            self.memcache.set('container/a/c', changed)
            replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
            self.assertEqual(changed, self.memcache.get('container/a/c'))
        # Control: with the same info, it goes in.
        self.memcache.set('container/a/c', found)
        replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
        self.assertEqual([], self.memcache.get(
            'container/a/c')[replicas.INFO_FIELD])

    def test_nothing_without_an_entry_or_a_cache(self):
        found, kept = info_with(WIDE), kept_for((WIDE,))
        replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
        self.assertEqual({}, self.memcache.kept)
        found, kept = self.refilled('container/a/c', WIDE, (WIDE,))
        replicas.carry({}, 'container/a/c', found, WIDE, kept)
        self.assertNotIn(replicas.INFO_FIELD,
                         self.memcache.get('container/a/c'))

    def test_a_write_that_ends_meanwhile_takes_the_info_with_it(self):
        # The write's forget comes between carry's read and its write of
        # Swift's entry: what carry wrote goes again.
        found, kept = self.refilled('container/a/c', WIDE, (WIDE,))
        memcache = self.memcache

        class Racing(JsonMemcache):
            def set(self, key, value, time=0):
                if key == 'container/a/c':
                    replicas.forget(self.env, key)
                super().set(key, value, time)

        racing = Racing()
        racing.kept, racing.env = dict(memcache.kept), {'swift.cache': racing}
        replicas.carry(racing.env, 'container/a/c', found, WIDE, kept)
        self.assertIsNone(racing.get('container/a/c'))
        # Control: without the write, it stays.
        replicas.carry(self.env, 'container/a/c', found, WIDE, kept)
        self.assertIn(replicas.INFO_FIELD, memcache.get('container/a/c'))

    def test_the_end_of_a_write_drops_an_info_refilled_during_it(self):
        # Swift drops its info before the write; a read meanwhile refills
        # it from a primary the write has not reached, and carries the
        # sets kept before the write. Once the write ends, neither stays.
        reader = replicas.ReplicaReader(lambda: FakeProxy())
        holder = 'container/a/c'
        self.refilled(holder, WIDE, (WIDE,))
        self.memcache.delete(holder)  # Swift, before the write
        stale, _kept = self.refilled(holder, WIDE, (WIDE,))
        self.assertEqual((WIDE,), reader.rule_sets(
            self.env, holder, stale, WIDE, 'a', 'c'))
        self.assertEqual([], self.memcache.get(holder)[replicas.INFO_FIELD])
        replicas.forget(self.env, holder)  # the write has ended
        self.assertIsNone(self.memcache.get(holder))
        self.assertIsNone(self.memcache.get(replicas.cache_key(holder)))

    def test_a_carried_field_is_read_and_nothing_else(self):
        reader = replicas.ReplicaReader(lambda: None)  # no rings at all
        found = info_with(WIDE, **{replicas.INFO_FIELD: [list(NARROW)]})
        self.assertEqual((NARROW,), reader.rule_sets(
            self.env, 'container/a/c', found, WIDE, 'a', 'c'))
        found[replicas.INFO_FIELD] = []
        self.assertEqual((), reader.rule_sets(
            self.env, 'container/a/c', found, WIDE, 'a', 'c'))
        # Control: without the field, the primaries must be read.
        del found[replicas.INFO_FIELD]
        self.assertRaises(replicas.NoQuorum, reader.rule_sets, self.env,
                          'container/a/c', found, WIDE, 'a', 'c')

    def test_an_earlier_versions_entry_is_read_anew(self):
        reader = replicas.ReplicaReader(lambda: None)  # no rings at all
        found = info_with(WIDE)
        self.memcache.set(replicas.cache_key('container/a/c'),
                          [list(WIDE)])
        self.assertRaises(replicas.NoQuorum, reader.rule_sets, self.env,
                          'container/a/c', found, WIDE, 'a', 'c')
        # Control: this version's entry is used as it is.
        self.memcache.set(replicas.cache_key('container/a/c'),
                          kept_for((NARROW,)))
        self.assertEqual((NARROW,), reader.rule_sets(
            self.env, 'container/a/c', found, WIDE, 'a', 'c'))

    def test_not_carried_where_swift_writes_the_info_again(self):
        reader = replicas.ReplicaReader(lambda: FakeProxy())
        found, _kept = self.refilled('container/a/c', WIDE, (NARROW, WIDE))
        self.assertEqual((NARROW, WIDE), reader.rule_sets(
            self.env, 'container/a/c', found, WIDE, 'a', 'c',
            carried_on=False))
        self.assertEqual(found, self.memcache.get('container/a/c'))

    def test_a_refill_from_the_filters_key_is_carried(self):
        reader = replicas.ReplicaReader(lambda: FakeProxy())
        found, _kept = self.refilled('container/a/c', WIDE, (NARROW, WIDE))
        self.assertEqual((NARROW, WIDE), reader.rule_sets(
            self.env, 'container/a/c', found, WIDE, 'a', 'c'))
        carried = self.memcache.get('container/a/c')[replicas.INFO_FIELD]
        self.assertEqual([list(NARROW)], carried)


class TestStoredOn(testtools.TestCase):

    def test_counts_the_primaries_holding_each_written_value(self):
        key = 'X-Container-Sysmeta-Ip-Whitelist-Allow-Dev'
        answers = [answer(204, headers={key: '192.0.2.1'}),
                   answer(204, headers={key.lower(): '192.0.2.1'}),
                   answer(204, headers={key: '192.0.2.0/24'}),
                   answer(None)]
        self.assertEqual((2, 4), replicas.stored_on(
            answers, {'dev': '192.0.2.1'}))

    def test_a_removal_is_stored_where_the_rule_is_gone(self):
        key = 'X-Account-Sysmeta-Ip-Whitelist-Allow-Lab'
        answers = [answer(204), answer(204, headers={key: '192.0.2.1'}),
                   answer(204, headers={'X-Account-Meta-Color': 'red'})]
        self.assertEqual((2, 3), replicas.stored_on(answers, {'lab': ''}))


class FakeProxy(object):
    account_ring = container_ring = object()
    conn_timeout = node_timeout = 1
    recheck_account_existence = recheck_container_existence = 60


class Wrapper(object):
    def __init__(self, app, attribute='app'):
        setattr(self, attribute, app)


class TestFindProxyApp(testtools.TestCase):

    def test_follows_the_chain(self):
        proxy = FakeProxy()
        chain = Wrapper(Wrapper(Wrapper(proxy), '_app'), 'application')
        self.assertIs(proxy, replicas.find_proxy_app(chain))

    def test_none_when_out_of_sight(self):
        self.assertIsNone(replicas.find_proxy_app(Wrapper(None)))
        self.assertIsNone(replicas.find_proxy_app(None))

    def test_unavailable_without_it(self):
        reader = replicas.ReplicaReader(lambda: None)
        self.assertRaises(replicas.NoQuorum, reader.rule_sets, {}, 'h',
                          {'status': 200}, WIDE, 'a')

    def test_which_holders_are_read(self):
        self.assertFalse(replicas.ReplicaReader(None).applies(()))
        self.assertTrue(replicas.ReplicaReader(None).applies(WIDE))
        self.assertTrue(replicas.ReplicaReader(None, True).applies(()))


class TestOption(testtools.TestCase):

    def test_values(self):
        for text, mode in (('true', 'rules'), ('yes', 'rules'),
                           ('ALL', 'all'), ('false', 'off'), ('0', 'off')):
            self.assertEqual(mode, conf.replica_reads(
                {'replica_reads': text}))
        self.assertEqual('rules', conf.replica_reads({}))

    def test_bad_value_names_option_and_value(self):
        error = self.assertRaises(ValueError, conf.replica_reads,
                                  {'replica_reads': 'some'})
        self.assertIn("replica_reads value: 'some'", str(error))

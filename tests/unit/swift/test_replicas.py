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
        merge=lambda _stored: values)


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
        self.assertRaises(replicas.NoQuorum, reader.rule_sets, {}, 'h', 'a')

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

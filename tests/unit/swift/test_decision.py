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

"""The ip_whitelist decision, a pure function."""

import ipaddress

import testtools

from openstack_ext import addresses
from openstack_ext.swift import decision

IN_BOTH, IN_ACCOUNT, IN_CONTAINER = '192.0.2.1', '192.0.2.2', '192.0.2.3'
OUTSIDE, ALWAYS = '198.51.100.1', '203.0.113.1'
ACCOUNT_RULE = '192.0.2.0/30'       # .0 - .3
CONTAINER_RULE = '192.0.2.1, 192.0.2.3, 192.0.2.9'
ip = ipaddress.ip_address


def networks(text):
    return addresses.NetworkSet(addresses.parse_network(n)
                                for n in addresses.split_list(text))


E, A = decision.ENFORCE, decision.AUDIT


class TestRefusal(testtools.TestCase):
    """:func:`decision.decide`, branch by branch, every level enforced."""

    options = decision.Options(networks(ALWAYS), False, E)
    strict = decision.Options(networks(ALWAYS), True, E)
    account = networks(ACCOUNT_RULE)
    container = networks(CONTAINER_RULE)

    def refusal(self, client, account=None, container=None, options=None,
                in_container=True):
        levels = [(decision.ACCOUNT, account, E)]
        if in_container:
            levels.append((decision.CONTAINER, container, E))
        verdict = decision.decide(client and ip(client), levels,
                                  options or self.options, in_container)
        self.assertEqual((), verdict.audited)
        return verdict.refused_by

    def test_always_allow_passes_every_level(self):
        self.assertIsNone(self.refusal(ALWAYS, self.account, self.container))
        self.assertIsNone(self.refusal(ALWAYS, options=self.strict))

    def test_no_rules_pass(self):
        self.assertIsNone(self.refusal(OUTSIDE))
        self.assertIsNone(self.refusal(None))

    def test_no_rules_with_deny_without_rules(self):
        self.assertEqual(decision.NO_RULES,
                         self.refusal(OUTSIDE, options=self.strict))
        # An account request is not closed by it.
        self.assertIsNone(self.refusal(OUTSIDE, options=self.strict,
                                       in_container=False))

    def test_account_rules_only(self):
        self.assertIsNone(self.refusal(IN_ACCOUNT, self.account))
        self.assertEqual(decision.ACCOUNT,
                         self.refusal(OUTSIDE, self.account))

    def test_container_rules_only(self):
        self.assertIsNone(self.refusal(IN_CONTAINER, None, self.container))
        self.assertEqual(decision.CONTAINER,
                         self.refusal(IN_ACCOUNT, None, self.container))

    def test_both_levels_must_list_the_client(self):
        self.assertIsNone(self.refusal(IN_BOTH, self.account,
                                       self.container))
        # Listed by the container only (192.0.2.9), or the account only.
        self.assertEqual(decision.ACCOUNT, self.refusal(
            '192.0.2.9', self.account, self.container))
        self.assertEqual(decision.CONTAINER, self.refusal(
            IN_ACCOUNT, self.account, self.container))

    def test_unknown_client_refused_where_there_are_rules(self):
        self.assertEqual(decision.ACCOUNT,
                         self.refusal(None, self.account))
        self.assertEqual(decision.CONTAINER,
                         self.refusal(None, None, self.container))

    def test_rules_that_list_nothing_valid_admit_nobody(self):
        self.assertEqual(decision.CONTAINER, self.refusal(
            IN_BOTH, None, addresses.NetworkSet()))

    def test_levels_inside_a_refusing_level_are_never_read(self):
        read = []

        def levels():
            read.append(decision.ACCOUNT)
            yield decision.ACCOUNT, self.account, E
            read.append(decision.CONTAINER)
            raise AssertionError('the container level was read')

        self.assertEqual(decision.ACCOUNT, decision.decide(
            ip(OUTSIDE), levels(), self.options).refused_by)
        self.assertEqual([decision.ACCOUNT], read)
        # Positive control: an admitted client reads on.
        self.assertRaises(AssertionError, decision.decide,
                          ip(IN_ACCOUNT), levels(), self.options)

    def test_always_allow_reads_no_level(self):
        def levels():
            raise AssertionError('a level was read')
            yield  # a generator

        self.assertEqual(decision.PASSES, decision.decide(
            ip(ALWAYS), levels(), self.options))

    def test_a_further_container_level_narrows_too(self):
        levels = [(decision.ACCOUNT, self.account, E),
                  (decision.CONTAINER, self.container, E),
                  ('container archive', networks('192.0.2.1'), E)]
        self.assertEqual(decision.PASSES, decision.decide(
            ip(IN_BOTH), levels, self.options))
        self.assertEqual('container archive', decision.decide(
            ip(IN_CONTAINER), levels, self.options).refused_by)


class TestAudit(testtools.TestCase):
    """Each level enforces or audits its own rules; the proxy all."""

    options = TestRefusal.options
    audit_all = decision.Options(networks(ALWAYS), True, A)
    account = networks(ACCOUNT_RULE)
    container = networks(CONTAINER_RULE)

    def decide(self, client, account_mode, container_mode, options=None):
        return decision.decide(
            client and ip(client),
            [(decision.ACCOUNT, self.account, account_mode),
             (decision.CONTAINER, self.container, container_mode)],
            options or self.options)

    def test_an_audited_level_lets_through_and_says_so(self):
        self.assertEqual((None, (decision.CONTAINER,)),
                         self.decide(IN_ACCOUNT, E, A))
        # 192.0.2.9: listed by the container only.
        self.assertEqual((None, (decision.ACCOUNT,)),
                         self.decide('192.0.2.9', A, E))
        # Control: the same clients, enforced.
        self.assertEqual(decision.CONTAINER,
                         self.decide(IN_ACCOUNT, E, E).refused_by)
        self.assertEqual(decision.ACCOUNT,
                         self.decide('192.0.2.9', E, E).refused_by)

    def test_an_enforced_level_still_refuses_below_an_audited_one(self):
        self.assertEqual((decision.CONTAINER, (decision.ACCOUNT,)),
                         self.decide(OUTSIDE, A, E))
        # Audited account, audited container: through, both named.
        self.assertEqual((None, (decision.ACCOUNT, decision.CONTAINER)),
                         self.decide(OUTSIDE, A, A))

    def test_admitted_clients_audit_nothing(self):
        self.assertEqual(decision.PASSES, self.decide(IN_BOTH, A, A))
        self.assertEqual(decision.PASSES, self.decide(ALWAYS, A, A))

    def test_the_proxy_s_audit_mode_audits_every_level(self):
        self.assertEqual((None, (decision.ACCOUNT, decision.CONTAINER)),
                         self.decide(OUTSIDE, E, E, self.audit_all))
        self.assertEqual((None, (decision.NO_RULES,)), decision.decide(
            ip(OUTSIDE), [(decision.ACCOUNT, None, E)], self.audit_all))
        # Control: deny_without_rules enforced by an enforcing proxy.
        strict = decision.Options(networks(ALWAYS), True, E)
        self.assertEqual(decision.NO_RULES, decision.decide(
            ip(OUTSIDE), [(decision.ACCOUNT, None, E)], strict).refused_by)


class TestOperatorLevel(testtools.TestCase):
    """The operator's level: outermost, bounding, opening nothing."""

    operator = networks('192.0.2.0/31')  # IN_BOTH (.1), not IN_ACCOUNT
    options = decision.Options(networks(ALWAYS), False, E)
    strict = decision.Options(networks(ALWAYS), True, E)

    def decide(self, client, operator_mode=E, options=None,
               account=None, container=None):
        levels = [(decision.OPERATOR, self.operator, operator_mode),
                  (decision.ACCOUNT, account, E),
                  (decision.CONTAINER, container, E)]
        return decision.decide(ip(client), iter(levels),
                               options or self.options)

    def test_refuses_first_and_reads_nothing_inside(self):
        def levels():
            yield decision.OPERATOR, self.operator, E
            raise AssertionError('the account was read')
        self.assertEqual(decision.OPERATOR, decision.decide(
            ip(OUTSIDE), levels(), self.options).refused_by)
        self.assertEqual(decision.OPERATOR,
                         self.decide(IN_ACCOUNT).refused_by)
        # Controls: inside it, and always_allow outside it.
        self.assertEqual(decision.PASSES, self.decide(IN_BOTH))
        self.assertEqual(decision.PASSES, self.decide(ALWAYS))

    def test_the_owner_s_rules_narrow_within_it(self):
        self.assertEqual(decision.ACCOUNT, self.decide(
            IN_BOTH, account=networks(IN_CONTAINER)).refused_by)
        self.assertEqual(decision.OPERATOR, self.decide(
            IN_CONTAINER, account=networks(IN_CONTAINER)).refused_by)

    def test_audited_like_the_other_levels(self):
        self.assertEqual((None, (decision.OPERATOR,)),
                         self.decide(OUTSIDE, A))
        audit_all = decision.Options(networks(ALWAYS), False, A)
        self.assertEqual((None, (decision.OPERATOR,)),
                         self.decide(OUTSIDE, E, audit_all))

    def test_it_is_no_owner_s_rule_for_deny_without_rules(self):
        self.assertEqual(decision.NO_RULES,
                         self.decide(IN_BOTH, options=self.strict).refused_by)
        self.assertEqual(decision.PASSES, self.decide(
            IN_BOTH, options=self.strict, container=networks(IN_BOTH)))

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

"""The ip_whitelist decision: may this client reach this account or container?

The one place that knows ``always_allow``, the levels of rules and their
modes. A pure function of its arguments: the middleware calls it for
every request and subrequest it judges (and for the perimeter a rule
write would leave), ``openstack-ext check-rule`` for the clients it is
given, and the tests against their own model. Reading the rules is
:mod:`openstack_ext.swift.rule_reader`'s job.

A client passes when it is in ``always_allow``, or when every level that
has rules lists it: the operator's level bounds the account
(:mod:`~openstack_ext.swift.operator_level`), the account's rules bound
the whole account within it, a container's rules narrow within them (and
a container that a write also reaches, such as a versions archive, is one
more level). A level without rules imposes nothing. When no level of the
owner's has a rule (the operator's does not count: it bounds, it opens
nothing), a container or object request is refused only with
``deny_without_rules``.

Each level enforces or audits its own rules (its holder's mode); the
proxy's ``mode = audit`` audits them all. A level in audit that would
refuse the client lets it through: the verdict names it, for the log.
"""

import collections

# What refused a request: the operator's rules, the account's, a
# container's, or none at all (deny_without_rules). A container level may
# carry the container's name after a space ("container archive"), for the
# log.
OPERATOR = 'operator'
ACCOUNT = 'account'
CONTAINER = 'container'
NO_RULES = 'none'
ENFORCE, AUDIT = 'enforce', 'audit'  # as rules.MODES

#: ``always_allow``: a NetworkSet; ``deny_without_rules``: a bool;
#: ``mode``: the proxy's, ENFORCE or AUDIT.
Options = collections.namedtuple('Options',
                                 'always_allow deny_without_rules mode')


class Verdict(collections.namedtuple('Verdict', 'refused_by audited')):
    """What was decided.

    ``refused_by``: the label of the level (or :data:`NO_RULES`) whose
    enforced rules refuse the client, ``None`` when it passes.
    ``audited``: the labels of the levels in audit that would have
    refused it.
    """

    __slots__ = ()


PASSES = Verdict(None, ())


def always_allowed(client, options):
    """Whether *client* (an address, or ``None``: unknown) always passes."""
    return client is not None and client in options.always_allow


def decide(client, levels, options, container=True):
    """The :class:`Verdict` on *client*.

    :param client: the client's address, normalised; ``None`` when it is
        unknown (it then passes only where no level has rules).
    :param levels: ``(label, networks, mode)`` of each level, outermost
        first: the operator's, the account's, then the container's
        (then any other container the request reaches). *networks* is a
        ``NetworkSet``, or ``None`` when that level has no rule; *mode*
        is the holder's, ENFORCE or AUDIT. Iterated lazily and only as
        far as needed: once a level refuses, the levels inside it are
        never read, so what they hold (or whether they exist) cannot
        change the answer.
    :param options: :class:`Options`.
    :param container: ``False`` for a request on the account itself, which
        ``deny_without_rules`` does not close.
    """
    if always_allowed(client, options):
        return PASSES
    audit_all = options.mode == AUDIT
    ruled, audited = False, []
    for label, networks, mode in levels:
        if networks is None:
            continue
        ruled = ruled or label != OPERATOR
        if client is None or client not in networks:
            if not audit_all and mode != AUDIT:
                return Verdict(label, tuple(audited))
            audited.append(label)
    if not ruled and container and options.deny_without_rules:
        if not audit_all:
            return Verdict(NO_RULES, ())
        audited.append(NO_RULES)
    return Verdict(None, tuple(audited)) if audited else PASSES

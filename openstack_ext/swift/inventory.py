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

"""What the rules of one account and its containers say, for an audit.

Pure functions over an account's and a container's info (as Swift's
``headers_to_*_info`` shapes them) and the proxy's options: the levels
each holder stores (:class:`Level`), what an auditor should look at
(:class:`Finding`), and whether a given address reaches a holder, asked
of :func:`~openstack_ext.swift.decision.decide` itself so that the answer
is the proxy's. ``openstack-ext audit-rules`` reads the cluster and
prints them.
"""

import collections
import ipaddress

from swift.common.middleware import acl

from openstack_ext.swift import decision
from openstack_ext.swift import operator_level
from openstack_ext.swift import rules
from openstack_ext.swift import trail

#: One level of a holder: ``rules`` ``{name: value}`` (``allow-`` names),
#: ``networks`` a NetworkSet or ``None`` (no rule), ``bad`` the entries
#: that do not parse, ``mode``, and ``source``: ``'account'`` (stored)
#: or ``'proxy'`` (the operator level's default from operator_rules).
Level = collections.namedtuple('Level', 'label rules networks bad mode '
                                        'source')
#: Something to look at: ``kind`` one of :data:`KINDS`.
Finding = collections.namedtuple('Finding', 'kind account container detail')
KINDS = ('unprotected-public', 'unprotected-tempurl', 'ineffective',
         'unparsable', 'unreadable')
TEMPURL_KEYS = ('temp-url-key', 'temp-url-key-2')


def _level(label, named, mode, source='account'):
    values = tuple(named.values())
    networks, bad = rules.parse_values(values) if values else (None, ())
    return Level(label, dict(named), networks, bad, mode, source)


def account_levels(operator, account, info):
    """The operator's and the account's :class:`Level` of an account.

    :param operator: the proxy's ``operator_level.OperatorLevel``.
    :param account: the account's name (str).
    """
    stored = rules.operator_rules(info)
    source = 'account'
    if not stored:
        default = operator.default_for(account)
        if default is not None:
            stored = {operator_level.DEFAULT_NAME: default.text}
            source = 'proxy'
    mode = operator.mode_of(rules.operator_stored(info))
    named = trail.named(info)
    return [_level(decision.OPERATOR, {rules.RULE_PREFIX + k: v
                                       for k, v in stored.items()},
                   mode, source),
            _level(decision.ACCOUNT, {k: v for k, v in named.items()
                                      if k != trail.MODE},
                   named[trail.MODE])]


def container_level(info):
    """The container's :class:`Level`."""
    named = trail.named(info)
    mode = named.pop(trail.MODE)
    return _level(decision.CONTAINER, named, mode)


def decision_levels(levels):
    """``(label, networks, mode)`` of *levels*, for decision.decide."""
    return [(level.label, level.networks, level.mode) for level in levels]


def _enforced(level, options):
    return level.networks is not None and options.mode != decision.AUDIT \
        and level.mode != decision.AUDIT


def open_to_anywhere(levels, options):
    """Whether nothing narrows who reaches a container with *levels*.

    No level enforces a rule, and ``deny_without_rules`` does not close
    it (the proxy's audit mode enforces nothing).
    """
    if any(_enforced(level, options) for level in levels):
        return False
    owner_ruled = any(level.networks is not None for level in levels
                      if level.label != decision.OPERATOR)
    return owner_ruled or not options.deny_without_rules or \
        options.mode == decision.AUDIT


def public_read(info):
    """Whether a container info's read ACL lets anybody read (``.r:*``)."""
    referrers, _groups = acl.parse_acl(info.get('read_acl') or '')
    return '*' in referrers


def tempurl_keys(info):
    """Whether an account or container info holds a tempurl key."""
    return any(info.get('meta', {}).get(key) for key in TEMPURL_KEYS)


def _outside(network, level):
    """``'all'``, ``'part'`` or ``None``: what of *network* is outside."""
    same = [n for n in level.networks.networks()
            if n.version == network.version]
    merged = list(ipaddress.collapse_addresses(same))
    if any(network.subnet_of(n) for n in merged):
        return None
    return 'part' if any(network.overlaps(n) for n in merged) else 'all'


def ineffective(levels):
    """``[(level, name, entry, outer label, all/part)]``: entries outside.

    An entry of a level's rule that a level outside it (the operator's
    for the account, the operator's and the account's for a container)
    leaves out, in whole or in part, admits nobody there.
    """
    found = []
    for index, level in enumerate(levels):
        for name, value in sorted(level.rules.items()):
            networks = rules.parse_values((value,))[0].networks()
            for outer in levels[:index]:
                if outer.networks is None:
                    continue
                for network in networks:
                    outside = _outside(network, outer)
                    if outside:
                        found.append((level.label, name, str(network),
                                      outer.label, outside))
    return found


def findings(account, container, levels, info, account_info, options):
    """The :class:`Finding` list of one holder.

    :param container: ``None`` for the account itself; *levels* and
        *info* are then the account's.
    """
    found = []
    for level in levels:
        if level.bad and level.source == 'account' and (
                container is None or level.label == decision.CONTAINER):
            found.append(Finding('unparsable', account, container, (
                '%s rules list entries that do not parse (stored before '
                'validation existed; ignored): %s' % (
                    level.label, ', '.join(level.bad)))))
    for label, name, entry, outer, outside in ineffective(levels):
        if (label == decision.CONTAINER) != (container is not None):
            continue  # reported with its own holder
        found.append(Finding('ineffective', account, container, (
            '%s %s %s is %s outside the %s rules: %s' % (
                label, name, entry, 'partly' if outside == 'part' else
                'wholly', outer, 'admits nobody there' if outside == 'all'
                else 'the rest admits nobody'))))
    if container is not None and open_to_anywhere(levels, options):
        if public_read(info):
            found.append(Finding('unprotected-public', account, container,
                                 'public read (.r:*) and no rule enforced '
                                 'at any level: anybody, from anywhere'))
        if tempurl_keys(info) or tempurl_keys(account_info):
            found.append(Finding('unprotected-tempurl', account, container,
                                 'a tempurl key (%s) and no rule enforced '
                                 'at any level: any signed URL, from '
                                 'anywhere' % ('container' if
                                               tempurl_keys(info) else
                                               'account')))
    return found


def reach(client, levels, options, container):
    """``None`` if *client* cannot reach the holder, else through what.

    The proxy's own decision on *levels*; *through* names each level
    whose rules admit the client, by the names of the rules that list
    it, or says why nothing was needed.
    """
    verdict = decision.decide(client, decision_levels(levels), options,
                              container=container)
    if verdict.refused_by is not None:
        return None
    if decision.always_allowed(client, options):
        return ['always_allow']
    through = []
    for level in levels:
        if level.networks is None:
            continue
        names = [name for name, value in sorted(level.rules.items())
                 if client in rules.parse_values((value,))[0]]
        if names:
            through.append('%s %s' % (level.label, ', '.join(names)))
        else:
            through.append('%s (audit: would refuse)' % level.label)
    return through or ['no rules']

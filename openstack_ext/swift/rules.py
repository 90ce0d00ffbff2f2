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

"""How ip_whitelist rules are stored in account and container metadata.

One comma- or space-separated list of networks per ``allow-<name>`` key:
system metadata ``ip-whitelist-allow-<name>`` (what the middleware writes),
or plain ``allow-<name>`` metadata left by the Operations Guide's 2013
middleware, which still counts. A holder's mode, ``enforce`` (the
default) or ``audit``, is system metadata ``ip-whitelist-mode``.

An account may also hold the operator's level, above its own rules:
system metadata ``ip-whitelist-operator-allow-<name>`` and
``ip-whitelist-operator-mode``, written only by ``openstack-ext rules
--operator`` (no client request can write system metadata, and the
owner's headers are never translated into these keys). The functions
here read an account or container info as Swift's
``get_*_info`` shapes it (``sysmeta`` and ``meta`` dicts, prefixes
stripped) and parse the values.
"""

import collections
import itertools

from openstack_ext import addresses

RULE_PREFIX = 'allow-'
SYSMETA_PREFIX = 'ip-whitelist-' + RULE_PREFIX
MODE_NAME = 'ip-whitelist-mode'  # sysmeta; the owner writes it as meta
ENFORCE, AUDIT = 'enforce', 'audit'
MODES = (ENFORCE, AUDIT)
OPERATOR_PREFIX = 'ip-whitelist-operator-' + RULE_PREFIX  # sysmeta
OPERATOR_MODE_NAME = 'ip-whitelist-operator-mode'  # sysmeta

#: What a holder stores: its rule values (:func:`rule_values`) and mode;
#: for an account, ``operator``: the operator's level it stores
#: (:func:`operator_stored`), else ``None``.
Stored = collections.namedtuple('Stored', 'values mode operator')
Stored.__new__.__defaults__ = (None,)


def stored(info, account=False):
    """The :data:`Stored` rules and mode of an account/container info.

    :param account: *info* is an account's, which may hold the operator's
        level (a container's never does: it is not read).
    """
    return Stored(rule_values(info), stored_mode(info),
                  operator_stored(info) if account else None)


def operator_stored(info):
    """The operator's level an account info stores, as a :data:`Stored`.

    ``None`` when it stores neither an operator rule nor an operator
    mode; a mode alone (``values`` empty) sets the mode of the proxy's
    default for the account's prefix. The mode is ``None`` when not
    stored (the proxy's ``operator_mode`` applies).
    """
    sysmeta = info.get('sysmeta', {})
    values = tuple(_values(sysmeta, OPERATOR_PREFIX))
    mode = sysmeta.get(OPERATOR_MODE_NAME) or None
    if not values and mode is None:
        return None
    if mode is not None:
        mode = AUDIT if mode == AUDIT else ENFORCE  # fail closed
    return Stored(values, mode)


def operator_rules(info):
    """``{name: value}`` of the operator's rules an account info stores."""
    return {key[len(OPERATOR_PREFIX):]: value
            for key, value in info.get('sysmeta', {}).items()
            if value and key.startswith(OPERATOR_PREFIX)}


def stored_mode(info):
    """The holder's mode; anything but ``audit`` enforces (fail closed)."""
    mode = info.get('sysmeta', {}).get(MODE_NAME)
    return AUDIT if mode == AUDIT else ENFORCE


def stored_rules(info):
    """``{(kind, name): value}`` of the rules in an account/container info.

    *kind* is ``'sysmeta'`` or ``'meta'`` (the guide-era copy); empty values
    are left out.
    """
    found = {}
    for kind, prefix in (('sysmeta', SYSMETA_PREFIX), ('meta', RULE_PREFIX)):
        for key, value in info.get(kind, {}).items():
            if value and key.startswith(prefix):
                found[kind, key[len(prefix):]] = value
    return found


def rule_values(info):
    """The non-empty ``allow-*`` values of an info, as a tuple.

    The values of :func:`stored_rules` without their names, in the order
    the info holds them: what
    :class:`~openstack_ext.swift.rule_cache.RuleCache` is keyed by.
    """
    return tuple(itertools.chain(
        _values(info.get('sysmeta', {}), SYSMETA_PREFIX),
        _values(info.get('meta', {}), RULE_PREFIX)))


def _values(metadata, prefix):
    """The non-empty values of *metadata* whose key starts with *prefix*.

    Iterated by the interpreter's C code: read for every judged request.
    """
    return filter(None, itertools.compress(
        metadata.values(),
        map(str.startswith, metadata, itertools.repeat(prefix))))


def count_networks(values):
    """How many entries (networks, valid or not) *values* list."""
    return sum(len(addresses.split_list(value)) for value in values)


def parse_values(values):
    """``(NetworkSet, bad entries)`` of rule *values*.

    Entries that do not parse (stored before validation existed) are
    returned apart; the rest still applies.
    """
    networks, bad = [], []
    for value in values:
        for entry in addresses.split_list(value):
            try:
                networks.append(addresses.parse_network(entry))
            except ValueError:
                bad.append(entry)
    return addresses.NetworkSet(networks), tuple(bad)


class AllOf(object):
    """Networks of several rule sets: an address is in it when in each.

    What a level's rules are while its replicas disagree (one of them
    missed a write): every set must list the client.
    """

    def __init__(self, network_sets):
        self.network_sets = tuple(network_sets)

    def __len__(self):
        return sum(len(networks) for networks in self.network_sets)

    def __contains__(self, address):
        return all(address in networks for networks in self.network_sets)

    def __str__(self):
        return ' AND '.join('(%s)' % networks
                            for networks in self.network_sets)

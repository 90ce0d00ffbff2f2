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

"""ip_whitelist rules: how they are stored, counted and compiled.

Rules live in an account's or container's metadata, one comma- or
space-separated list of networks per ``allow-<name>`` key: system metadata
``ip-whitelist-allow-<name>``, or plain ``allow-<name>`` metadata left by
the Operations Guide's 2013 middleware. Compiled rule sets are cached by
their raw values, within a budget of networks so that neither many small
nor a few huge rule sets can grow a proxy without bound.
"""

import collections
import time

from openstack_ext import addresses

RULE_PREFIX = 'allow-'
SYSMETA_PREFIX = 'ip-whitelist-' + RULE_PREFIX
# Networks held by the compiled-rules cache, all rule sets together: about
# 300 bytes each, some 30 MB per proxy process; room for 100 rule sets at
# the default max_rules (an account's rules are one set for all of its
# containers).
CACHE_BUDGET = 100000
# Accounts and containers whose rule set is remembered (a name each).
HOLDERS = 10000
# Metadata items (sysmeta and meta, Swift bounds each at 128 + 256 bytes)
# copied for CompiledRules.of_info, all holders together: at most some
# 20 MB per proxy process, whatever its tenants store.
INFO_BUDGET = 50000


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
    """The non-empty ``allow-*`` values of an account or container info.

    The same values as :func:`stored_rules`, without their names: read on
    every request, so kept to one pass over each dict.
    """
    values = [v for k, v in info.get('sysmeta', {}).items()
              if v and k.startswith(SYSMETA_PREFIX)]
    return values + [v for k, v in info.get('meta', {}).items()
                     if v and k.startswith(RULE_PREFIX)]


def count_networks(values):
    """How many entries (networks, valid or not) *values* list."""
    return sum(len(addresses.split_list(value)) for value in values)


def compile_uncached(values):
    """``(NetworkSet, bad entries)`` for a tuple of values, not kept.

    For values that are only validated (rule writes), which must not push
    the rules in use out of :data:`compile_rules`' budget.
    """
    networks, bad = [], []
    for value in values:
        for entry in addresses.split_list(value):
            try:
                networks.append(addresses.parse_network(entry))
            except ValueError:
                bad.append(entry)
    return addresses.NetworkSet(networks), tuple(bad)


class Perimeter(tuple):
    """``(account, container)``: the compiled rules of both levels.

    Each is a :class:`~openstack_ext.addresses.NetworkSet`, or ``None``
    when that level has no rule; compiled apart because an account's rules
    serve all of its containers. Built from a pair, as a plain tuple (it is
    made for every judged request); printed (lazily, by the logger) level
    by level.
    """

    __slots__ = ()
    LEVELS = ('account', 'container')

    account = property(lambda self: self[0])
    container = property(lambda self: self[1])

    def __str__(self):
        return '; '.join('%s: %s' % (level, networks)
                         for level, networks in zip(self.LEVELS, self)
                         if networks is not None) or 'no rules'


NO_PERIMETER = Perimeter((None, None))


class CompiledRules(object):
    """Compiled rule sets by raw values; the long unused dropped first.

    Bounded by the networks held, not by the number of sets: one rule set
    of a thousand networks weighs as much as a thousand of one. Told the
    holder of the values (any key naming the account or container: the
    middleware uses Swift's info-cache key, whose string hash Python keeps),
    it remembers which set that holder had: values read for it next time are
    then compared with that set's (a memory compare) instead of hashed
    (a thousand rules are some 20 KB, read afresh with every request).
    Given the holder's info (:meth:`of_info`), it also remembers the
    metadata they were read from, and an equal info gets the same set
    without being scanned. At most *holders* holders are remembered, and
    the metadata copied for them is bounded apart (*info_budget* items).

    Sets leave by second chance (CLOCK): a hit only marks its set used,
    and the oldest set unused since it was last passed over goes first.
    Moving a set to the end on each hit, as an LRU list does, hashes its
    values tuple (a thousand rules: some 60 strings, cold in the cache
    by the next request) on every request.
    """

    def __init__(self, budget=CACHE_BUDGET, holders=HOLDERS,
                 info_budget=INFO_BUDGET):
        self.budget = budget
        self.held = 0
        self.max_holders = holders
        self.info_budget = info_budget
        self.info_held = 0  # metadata items copied into _holders
        # values: [(NetworkSet, bad entries), values, {holder}, used]
        self._sets = collections.OrderedDict()
        # holder: (values or None, sysmeta, meta, (NetworkSet or None,
        # bad entries), its _sets entry or None) as last read for it
        self._holders = collections.OrderedDict()

    def __call__(self, values, holder=None):
        """Return ``(NetworkSet, bad entries)`` for a tuple of values."""
        if holder is not None:
            known = self._holders.get(holder)
            if known is not None and known[0] == values:
                known[4][_USED] = True
                return known[3]
        return self._compiled(values, holder, _NOT_FROM_INFO, _NOT_FROM_INFO)

    def of_info(self, holder, info):
        """``(NetworkSet or None, bad entries)`` of an account/container info.

        ``None`` when it holds no rule. The info of a holder whose metadata
        equals what was last read for it (two dict compares, made in C)
        gets that set back; the rules are a function of that metadata
        alone (:func:`rule_values`), so nothing newer is missed.
        """
        sysmeta, meta = info.get('sysmeta', _NONE), info.get('meta', _NONE)
        known = self._holders.get(holder)
        if known is not None and known[1] == sysmeta and known[2] == meta:
            if known[4] is not None:
                known[4][_USED] = True
            return known[3]
        values = tuple(rule_values(info))
        # Copies: what was read must not change with the request's info.
        sysmeta, meta = dict(sysmeta), dict(meta)
        if not values:
            self._remember(holder, sysmeta, meta, None)
            return NO_RULES
        return self._compiled(values, holder, sysmeta, meta)

    def _compiled(self, values, holder, sysmeta, meta):
        entry = self._sets.get(values)
        if entry is None:
            entry = self._sets[values] = [compile_uncached(values), values,
                                          set(), False]
            self.held += len(entry[0][0]) + 1
            while self.held > self.budget and len(self._sets) > 1:
                self._drop_oldest_set(keep=entry)
        else:
            entry[_USED] = True
        if holder is not None:
            entry[2].add(holder)
            self._remember(holder, sysmeta, meta, entry)
        return entry[0]

    def _remember(self, holder, sysmeta, meta, entry):
        """Note that *holder* has the set of *entry* (``None``: no rules).

        Oldest first out, within *holders* holders and the metadata budget:
        a holder read again is remembered anew only when its rules change
        (so that a hit costs no reordering).
        """
        old = self._holders.pop(holder, None)
        if old is not None:
            self.info_held -= _info_weight(old)
            if old[4] is not None and old[4] is not entry:
                old[4][2].discard(holder)
        if entry is None:
            record = (None, sysmeta, meta, NO_RULES, None)
        else:
            record = (entry[1], sysmeta, meta, entry[0], entry)
        self._holders[holder] = record
        self.info_held += _info_weight(record)
        while self._holders and (len(self._holders) > self.max_holders or
                                 self.info_held > self.info_budget):
            dropped, record = self._holders.popitem(last=False)
            self.info_held -= _info_weight(record)
            if record[4] is not None:
                record[4][2].discard(dropped)

    def _drop_oldest_set(self, keep):
        """Drop the oldest set not used since last passed over, but *keep*.

        At most one turn round: each set passed over loses its mark.
        """
        values, entry = self._sets.popitem(last=False)
        while entry[_USED] or entry is keep:
            entry[_USED] = False
            self._sets[values] = entry
            values, entry = self._sets.popitem(last=False)
        (networks, _bad), _key, holders, _used = entry
        self.held -= len(networks) + 1
        for holder in holders:
            # Only sets in _sets are remembered.
            self.info_held -= _info_weight(self._holders.pop(holder))

    def __len__(self):
        return len(self._sets)


_NOT_FROM_INFO = object()  # equal to no metadata: of_info reads anew
_USED = 3  # in a _sets entry: looked at since the clock last passed


def _info_weight(record):
    """Metadata items a _holders record keeps (0 when not from an info)."""
    sysmeta, meta = record[1], record[2]
    if sysmeta is _NOT_FROM_INFO:
        return 0
    return 1 + len(sysmeta) + len(meta)


_NONE = {}  # an info without sysmeta or meta has none
NO_RULES = (None, ())


# One per proxy process. Eventlet switches greenthreads only on I/O, so
# nothing interleaves within a call.
compile_rules = CompiledRules()


MISSING = object()  # KeptRules.get: nothing kept


class KeptRules(object):
    """The compiled rules of each account and container, for a while.

    For ``rules_cache_time``: rules found here are used without reading the
    account's or container's info at all. Keyed by holder, ``(account,)``
    or ``(account, container)``; an entry is a ``NetworkSet`` or ``None``
    (no rule), kept *seconds* after it was read; bounded like
    :class:`CompiledRules` by the networks held. A write on a holder
    through this process forgets what was read of it before the write
    ended.
    """

    def __init__(self, seconds, budget=CACHE_BUDGET, clock=time.monotonic):
        self.seconds = seconds
        self.budget = budget
        self.now = clock
        self.held = 0
        self._kept = collections.OrderedDict()  # holder: (expires, rules)
        self._written = collections.OrderedDict()  # holder: end of write

    def get(self, holder):
        """The kept rules of *holder*, or :data:`MISSING`."""
        entry = self._kept.get(holder)
        if entry is None:
            return MISSING
        if entry[0] <= self.now():
            self._drop(holder)
            return MISSING
        return entry[1]

    def keep(self, holder, networks, read_at):
        """Keep *networks*, the rules of *holder* as read at *read_at*."""
        if read_at <= self._written.get(holder, read_at - 1):
            return  # read while a write through here was under way
        self._drop(holder)
        self._kept[holder] = (read_at + self.seconds, networks)
        self.held += _weight(networks)
        while self.held > self.budget and self._kept:
            _holder, (_expires, dropped) = self._kept.popitem(last=False)
            self.held -= _weight(dropped)

    def forget(self, holder):
        """A write on *holder* through this process has just ended."""
        self._drop(holder)
        now = self.now()
        self._written[holder] = now
        self._written.move_to_end(holder)
        # What was read before now - seconds has expired anyway.
        while next(iter(self._written.values())) < now - self.seconds:
            self._written.popitem(last=False)

    def _drop(self, holder):
        entry = self._kept.pop(holder, None)
        if entry is not None:
            self.held -= _weight(entry[1])

    def __len__(self):
        return len(self._kept)


def _weight(networks):
    return 1 + (len(networks) if networks is not None else 0)

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

"""Compiled ip_whitelist rules, kept in each proxy process.

Parsing a rule set of hundreds of networks takes milliseconds, and the
same sets are read with every request on their account or container:
each distinct set of values is parsed once and kept, the least recently
used dropped first, within a budget of networks (neither many small sets
nor a few large ones can grow a proxy without bound). A set is found by
its values, so a changed rule is a different set: nothing here can serve
old rules.

Each holder's rules are kept with the metadata they were read from (a
copy of its info's ``sysmeta`` and ``meta``), within a budget of bytes:
while the info a request holds has the same metadata, its rules are
those kept, and nothing is read from it again. That too is found by what
the info says now, never by time; with ``replica_reads`` the sets of the
primaries are still compared with them on every request.

With ``rules_cache_time``, the compiled rules of each account and
container are also used for that many seconds without their info (unless
the request already holds it, as it does for object reads judged at the
proxy's question): that, and only that, delays a change made through
another proxy process. A write through this process forgets what it kept
of its holder.

Eventlet switches greenthreads only on I/O, so nothing interleaves within
a call.
"""

import collections
import time

from openstack_ext.swift import rules

# Networks held, all sets together: about 300 bytes each, some 30 MB per
# proxy process; room for 100 rule sets at the default max_rules.
CACHE_BUDGET = 100000
# The holders' records, in bytes (about): the metadata copied, the
# networks they hold (which may have left the sets' budget), the record.
HOLDERS_BUDGET = 32 * 2 ** 20
NETWORK_BYTES = 300
RECORD_BYTES = 1000

#: A rule set, compiled: ``networks`` is a ``NetworkSet``, or ``None``
#: when there is no rule; ``bad`` the stored entries that do not parse.
Compiled = collections.namedtuple('Compiled', 'networks bad')
NO_RULES = Compiled(None, ())
#: A holder's rules: its compiled set's ``networks`` and ``bad``, and its
#: ``mode`` (rules.ENFORCE or rules.AUDIT); for an account, ``operator``:
#: the operator's level it stores, as a HolderRules (``networks`` ``None``
#: when it stores only a mode; ``mode`` ``None`` when not stored), else
#: ``None``.
HolderRules = collections.namedtuple('HolderRules',
                                     'networks bad mode operator')
HolderRules.__new__.__defaults__ = (None,)

#: What is kept of a holder: the ``sysmeta`` and ``meta`` of the info its
#: rules were read from (copies), what they store (:data:`rules.Stored`),
#: the ``values`` compiled (the stored ones, or those of every replica),
#: its :data:`HolderRules`, until when they serve without an info
#: (``rules_cache_time``; 0: never), and what the record weighs in bytes.
_Holder = collections.namedtuple(
    '_Holder', 'sysmeta meta stored values rules expires weight')


_NOTHING = {}  # an info's absent metadata; never changed


def _weight(compiled):
    """What a compiled set (or a holder's rules) weighs in the budget."""
    networks = compiled.networks
    operator = getattr(compiled, 'operator', None)
    return 1 + (len(networks) if networks is not None else 0) + (
        _weight(operator) if operator is not None else 0)


def _holder_weight(holder, sysmeta, meta, held):
    """About how many bytes a holder's record takes."""
    return RECORD_BYTES + len(holder) + NETWORK_BYTES * _weight(held) + sum(
        len('%s%s' % item) for metadata in (sysmeta, meta)
        for item in metadata.items())


class RuleCache(object):
    """Compiled rules by their values, and what each holder's info says."""

    def __init__(self, keep_seconds=0, budget=CACHE_BUDGET,
                 holders_budget=HOLDERS_BUDGET, clock=time.monotonic):
        self.keep_seconds = keep_seconds
        self.budget = budget
        self.holders_budget = holders_budget
        self.clock = clock
        self.held = 0  # networks in _sets
        self._sets = collections.OrderedDict()  # values: Compiled
        self.holders_weight = 0  # bytes in _holders, about
        # holder: _Holder, oldest first; a record read again is not moved
        # (that would cost every request): one dropped is read and kept
        # again.
        self._holders = {}
        self._written = collections.OrderedDict()  # holder: end of write

    def rules(self, holder, read_info, account=False, merge=None,
              in_hand=None):
        """The compiled rules of *holder*, or ``None`` when it is gone.

        The one way in.

        :param holder: a string naming the account or container (Swift's
            info-cache key).
        :param read_info: called when the holder's info is needed and the
            request does not hold it: returns its info (a successful one),
            or ``None`` when the holder does not exist; may raise.
        :param account: the holder is an account, which may store the
            operator's level.
        :param merge: called with the stored values and the info, to compare
            them with the replicas' (``replica_reads``): returns the values
            to compile
            (a tuple of value tuples that must all admit a client when
            replicas disagree); may raise.
        :param in_hand: the holder's info when the request holds it
            (successful): what it says is used, not what was kept for a
            while.
        :returns: its :data:`HolderRules`.
        """
        kept = self._holders.get(holder)
        read_at = self.clock() if self.keep_seconds else 0
        found = in_hand
        if found is None:
            if kept is not None and kept.expires > read_at:
                return kept.rules
            found = read_info()
            if found is None:
                self._drop(holder)
                return None
        sysmeta = found.get('sysmeta', _NOTHING)
        meta = found.get('meta', _NOTHING)
        if kept is not None and kept.sysmeta == sysmeta and \
                kept.meta == meta:
            stored = kept.stored
        else:
            stored, kept = rules.stored(found, account=account), None
        values = stored.values
        if merge is not None:
            values = merge(values, found)
        if kept is not None and values == kept.values:
            held = kept.rules
        else:
            held = self._held(stored, values)
        if kept is None or held is not kept.rules or read_at:
            sysmeta, meta = dict(sysmeta), dict(meta)
            self._keep(holder, _Holder(
                sysmeta, meta, stored, values, held,
                self._expires(holder, read_at),
                _holder_weight(holder, sysmeta, meta, held)))
        return held

    def _held(self, stored, values):
        compiled = self._compiled(values) if values else NO_RULES
        operator = stored.operator
        return HolderRules(compiled.networks, compiled.bad, stored.mode,
                           operator and self._held(operator, operator.values))

    def _expires(self, holder, read_at):
        """Until when rules read at *read_at* serve without an info."""
        if not read_at or read_at <= self._written.get(holder, read_at - 1):
            return 0  # not asked, or read while a write here was under way
        return read_at + self.keep_seconds

    def forget(self, holder):
        """A write on *holder* through this process has just ended."""
        self._drop(holder)
        if not self.keep_seconds:
            return
        now = self.clock()
        self._written[holder] = now
        self._written.move_to_end(holder)
        # What was read before now - keep_seconds has expired anyway.
        while next(iter(self._written.values())) < now - self.keep_seconds:
            self._written.popitem(last=False)

    def _compiled(self, values):
        compiled = self._sets.get(values)
        if compiled is not None:
            self._sets.move_to_end(values)
            return compiled
        if isinstance(values[0], tuple):  # replicas disagree: each applies
            parts = [self._compiled(each) for each in values]
            compiled = Compiled(rules.AllOf(p.networks for p in parts),
                                sum((p.bad for p in parts), ()))
        else:
            networks, bad = rules.parse_values(values)
            # Values that list no valid network still rule: they admit
            # nobody.
            compiled = Compiled(networks, bad)
        self._sets[values] = compiled
        self.held += _weight(compiled)
        while self.held > self.budget and len(self._sets) > 1:
            _values, dropped = self._sets.popitem(last=False)
            self.held -= _weight(dropped)
        return compiled

    def _keep(self, holder, kept):
        self._drop(holder)
        self._holders[holder] = kept
        self.holders_weight += kept.weight
        while self.holders_weight > self.holders_budget and self._holders:
            self._drop(next(iter(self._holders)))  # the oldest

    def _drop(self, holder):
        kept = self._holders.pop(holder, None)
        if kept is not None:
            self.holders_weight -= kept.weight

    def __len__(self):
        return len(self._sets)

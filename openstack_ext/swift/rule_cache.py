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

Parsing a rule set costs about 11 ms at 1,000 networks, and the same sets
are read with every request on their account or container: each distinct
set of values is parsed once and kept, the least recently used dropped
first, within a budget of networks (neither many small sets nor a few
large ones can grow a proxy without bound). A set is found by its values,
so a changed rule is a different set: nothing here can serve old rules.

With ``rules_cache_time``, the compiled rules of each account and
container are also kept for that many seconds, and their info is not
looked up meanwhile (unless the request already holds it, as it does for
object reads judged at the proxy's question): that, and only that, delays
a change made through another proxy process. A write through this process
forgets what it kept of its holder.

Eventlet switches greenthreads only on I/O, so nothing interleaves within
a call.
"""

import collections
import time

from openstack_ext.swift import rules

# Networks held, all sets together: about 300 bytes each, some 30 MB per
# proxy process; room for 100 rule sets at the default max_rules.
CACHE_BUDGET = 100000

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

# rules_cache_time: a holder's rules, kept until *expires*.
_Kept = collections.namedtuple('_Kept', 'expires rules')


def _weight(compiled):
    """What a compiled set (or a holder's rules) weighs in the budget."""
    networks = compiled.networks
    operator = getattr(compiled, 'operator', None)
    return 1 + (len(networks) if networks is not None else 0) + (
        _weight(operator) if operator is not None else 0)


class RuleCache(object):
    """Compiled rules by their values, and by holder for a while."""

    def __init__(self, keep_seconds=0, budget=CACHE_BUDGET,
                 clock=time.monotonic):
        self.keep_seconds = keep_seconds
        self.budget = budget
        self.clock = clock
        self.held = 0  # networks in _sets
        self._sets = collections.OrderedDict()  # values: Compiled
        self.kept_weight = 0  # networks in _kept
        self._kept = collections.OrderedDict()  # holder: _Kept
        self._written = collections.OrderedDict()  # holder: end of write

    def rules(self, holder, read_values, in_hand=False):
        """The compiled rules of *holder*, or ``None`` when it is gone.

        The one way in.

        :param holder: a string naming the account or container (Swift's
            info-cache key).
        :param read_values: called when the rules must be read: returns
            what the holder stores (:data:`rules.Stored`; its values may
            be a tuple of value tuples that must all admit a client:
            replicas that disagree), or ``None`` when the holder does not
            exist; may raise.
        :param in_hand: the holder's info is in the request already:
            what it says is used (and kept), not what was kept.
        :returns: its :data:`HolderRules`.
        """
        if self.keep_seconds:
            read_at = self.clock()
            kept = self._kept.get(holder)
            if kept is not None and not in_hand and kept.expires > read_at:
                return kept.rules
        stored = read_values()
        if stored is None:
            return None
        held = self._held(stored)
        if self.keep_seconds:
            self._keep(holder, held, read_at)
        return held

    def _held(self, stored):
        compiled = self._compiled(stored.values) if stored.values \
            else NO_RULES
        operator = getattr(stored, 'operator', None)
        return HolderRules(compiled.networks, compiled.bad, stored.mode,
                           operator and self._held(operator))

    def forget(self, holder):
        """A write on *holder* through this process has just ended."""
        if not self.keep_seconds:
            return
        self._drop_kept(holder)
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

    def _keep(self, holder, held, read_at):
        if read_at <= self._written.get(holder, read_at - 1):
            return  # read while a write through here was under way
        self._drop_kept(holder)
        self._kept[holder] = _Kept(read_at + self.keep_seconds, held)
        self.kept_weight += _weight(held)
        while self.kept_weight > self.budget and self._kept:
            _holder, dropped = self._kept.popitem(last=False)
            self.kept_weight -= _weight(dropped.rules)

    def _drop_kept(self, holder):
        kept = self._kept.pop(holder, None)
        if kept is not None:
            self.kept_weight -= _weight(kept.rules)

    def __len__(self):
        return len(self._sets)

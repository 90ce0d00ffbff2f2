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

"""The operator's level: the perimeter above every account's own rules.

Its networks are, for each account, the operator's rules stored on the
account (system metadata written only by ``openstack-ext rules
--operator``) when it stores any: they *replace* the proxy's default for
the account's reseller prefix (``operator_rules``), so that the operator
can narrow one account further, or grant it an exception, without
touching the others. Otherwise the default of the longest prefix of
``operator_rules`` that starts the account's name; no default and no
stored rule: no operator level. Its mode is the one stored on the account
(``rules set --operator --mode``), else ``operator_mode``.

The level is what :func:`~openstack_ext.swift.decision.decide` judges
first (:data:`~openstack_ext.swift.decision.OPERATOR`). It applies to an
account's name whether the account exists or not, so that a client
outside the perimeter cannot create one either.
"""

import collections

from openstack_ext.swift import decision
from openstack_ext.swift import rules

#: A prefix's default: its ``text`` as configured and its ``networks``
#: (a ``NetworkSet``).
Default = collections.namedtuple('Default', 'text networks')
#: The name under which an owner sees the proxy's default.
DEFAULT_NAME = 'proxy-default'


class OperatorLevel(object):
    """The proxy's ``operator_rules`` and ``operator_mode``, and the level.

    :param defaults: ``{reseller prefix: Default}``.
    :param mode: ``operator_mode``, rules.ENFORCE or rules.AUDIT.
    """

    def __init__(self, defaults=None, mode=rules.ENFORCE):
        self.defaults = dict(defaults or {})
        # Longest first: AUTH_ops_ is more specific than AUTH_.
        self._prefixes = sorted(self.defaults, key=len, reverse=True)
        self.mode = mode

    def default_for(self, account):
        """The :data:`Default` that applies to *account* (str), or None."""
        for prefix in self._prefixes:
            if account.startswith(prefix):
                return self.defaults[prefix]
        return None

    def level(self, account, stored=None):
        """``(OPERATOR, networks, mode)`` of *account*, for the decision.

        :param account: the account's name (str).
        :param stored: what the account stores of the operator's level:
            a ``rule_cache.HolderRules`` or anything with ``networks``
            (``None``: no stored rule) and ``mode`` (``None``: not
            stored); ``None`` when it stores nothing (or is gone).
        """
        networks = stored.networks if stored is not None else None
        if networks is None:
            default = self.default_for(account)
            networks = default.networks if default is not None else None
        return decision.OPERATOR, networks, self.mode_of(stored)

    def mode_of(self, stored):
        """The level's mode: what *stored* (as for :meth:`level`) says."""
        return stored.mode if stored is not None and stored.mode \
            else self.mode

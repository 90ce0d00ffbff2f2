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

The one place that knows ``always_allow`` and the levels of rules. A pure
function of its arguments: the middleware calls it for every request and
subrequest it judges, ``openstack-ext check-rule`` for the clients it is
given, and the tests against their own model. Reading the rules is
:mod:`openstack_ext.swift.rule_reader`'s job.

A client passes when it is in ``always_allow``, or when every level that
has rules lists it: the account's rules bound the whole account, a
container's rules narrow within them (and a container that a write also
reaches, such as a versions archive, is one more level). A level without
rules imposes nothing. When no level has a rule, a container or object
request is refused only with ``deny_without_rules``.
"""

import collections

# What refused a request: the account's rules, a container's, or none at
# all (deny_without_rules). A container level may carry the container's
# name after a space ("container archive"), for the log.
ACCOUNT = 'account'
CONTAINER = 'container'
NO_RULES = 'none'

#: ``always_allow``: a NetworkSet; ``deny_without_rules``: a bool.
Options = collections.namedtuple('Options', 'always_allow deny_without_rules')


def always_allowed(client, options):
    """Whether *client* (an address, or ``None``: unknown) always passes."""
    return client is not None and client in options.always_allow


def refusal(client, levels, options, container=True):
    """What refuses *client*, or ``None`` when it passes.

    :param client: the client's address, normalised; ``None`` when it is
        unknown (it then passes only where no level has rules).
    :param levels: ``(label, networks)`` pairs, outermost first: the
        account's, then the container's (then any other container the
        request reaches). *networks* is a ``NetworkSet``, or ``None`` when
        that level has no rule. Iterated lazily and only as far as needed:
        once a level refuses, the levels inside it are never read, so what
        they hold (or whether they exist) cannot change the answer.
    :param options: :class:`Options`.
    :param container: ``False`` for a request on the account itself, which
        ``deny_without_rules`` does not close.
    :returns: the label of the first level whose rules do not list the
        client, :data:`NO_RULES`, or ``None``.
    """
    if always_allowed(client, options):
        return None
    ruled = False
    for label, networks in levels:
        if networks is None:
            continue
        ruled = True
        if client is None or client not in networks:
            return label
    if not ruled and container and options.deny_without_rules:
        return NO_RULES
    return None

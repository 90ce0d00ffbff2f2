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

"""The owner's headers: how rules and modes are written and shown.

Owners write rules as ``X-Container-Meta-Allow-<name>`` or
``X-Account-Meta-Allow-<name>`` (an empty value, or
``X-Remove-...-Meta-Allow-<name>``, removes one), and a holder's mode as
``X-Container-Meta-Ip-Whitelist-Mode`` / ``X-Account-Meta-Ip-Whitelist-Mode``
(``audit`` or ``enforce``). This module validates such a write and moves
it to system metadata (which clients cannot write by any other route),
counts it against ``max_rules``, and shows what is stored back to the
owner under the ``Meta`` names. Who may write is
:mod:`openstack_ext.swift.owner`'s question.

The operator's level of an account
(:mod:`~openstack_ext.swift.operator_level`) is shown to its owner too,
as ``X-Account-Meta-Ip-Whitelist-Operator-Allow-<name>`` (the proxy's
default as ``...-Allow-Proxy-Default``) and
``X-Account-Meta-Ip-Whitelist-Operator-Mode``, but never written from a
request: a write of any ``...-Meta-Ip-Whitelist-Operator-*`` header is
refused (``400``), and nothing is translated into its system metadata.
"""

from swift.common import constraints
from swift.common.request_helpers import get_sys_meta_prefix
from swift.common.request_helpers import get_user_meta_prefix

from openstack_ext import addresses
from openstack_ext.swift import operator_level
from openstack_ext.swift import rules

RULE_PREFIX = rules.RULE_PREFIX
SYSMETA_PREFIX = rules.SYSMETA_PREFIX
# Rule names one account or container may have. Rules are system metadata,
# which Swift does not count against max_meta_count, and each is a header
# of every backend answer about its holder; the proxy reads at most
# 1.6 x MAX_HEADER_COUNT headers there (swift.common.bufferedhttp), and
# MAX_HEADER_COUNT of them are the user's metadata and Swift's own. Past
# that, the holder answers 503 to everybody. Half of MAX_HEADER_COUNT
# (63 by default) leaves room for Swift's other system metadata.
MAX_RULE_NAMES = constraints.MAX_HEADER_COUNT // 2
OPERATOR_META = 'ip-whitelist-operator-'  # after X-<kind>-Meta-


def mode_headers(kind):
    """``(meta, sysmeta, remove)`` headers of the mode of a *kind*."""
    meta = get_user_meta_prefix(kind) + rules.MODE_NAME
    return (meta, get_sys_meta_prefix(kind) + rules.MODE_NAME,
            'x-remove-' + meta[2:])


def operator_headers(kind):
    """The prefixes of an owner's headers naming the operator's level."""
    operator = get_user_meta_prefix(kind) + OPERATOR_META
    return operator, 'x-remove-' + operator[2:]


def prefixes(kind):
    """``(meta prefix, sysmeta prefix)`` of the rules of *kind*."""
    return (get_user_meta_prefix(kind) + RULE_PREFIX,
            get_sys_meta_prefix(kind) + SYSMETA_PREFIX)


def holder_kind(target):
    """``'account'`` or ``'container'`` when *target* names one, else None.

    :param target: a :data:`rule_reader.Target`, or ``None`` (a path that
        is not the API's: ``/info``, auth).
    """
    if target is None or target.obj:
        return None
    return 'container' if target.container else 'account'


def writable_kind(req, target):
    """The :func:`holder_kind` of a ``PUT`` or ``POST``, which may write."""
    if req.method not in ('PUT', 'POST'):
        return None
    return holder_kind(target)


def changes_rules(req, target):
    """Whether *req*, once translated, writes or removes a rule or mode."""
    kind = writable_kind(req, target)
    if kind is None:
        return False
    sysmeta, mode = prefixes(kind)[1], mode_headers(kind)[1]
    return any(key.lower().startswith(sysmeta) or key.lower() == mode
               for key in req.headers)


def written_mode(req, kind):
    """The mode the (translated) request writes, or ``None``."""
    value = req.headers.get(mode_headers(kind)[1])
    return None if value is None else (value or rules.ENFORCE)


def rule_error(meta, name, key, value):
    """What is wrong with one rule write, or ``None``."""
    if not name or len(meta + name) > constraints.MAX_META_NAME_LENGTH:
        return 'invalid rule name %r' % key
    if len(value) > constraints.MAX_META_VALUE_LENGTH:
        return '%s is longer than %d characters' % (
            key, constraints.MAX_META_VALUE_LENGTH)
    if value and not addresses.split_list(value):
        return '%s lists no address' % key  # only separators
    bad = rules.parse_values((value,))[1]
    if bad:
        return 'invalid %s%s rule: %s' % (RULE_PREFIX, name, ', '.join(bad))
    return None


def translate_rule_writes(req, target):
    """Move ``allow-*`` metadata writes of *req* to sysmeta.

    :returns: the error of the first malformed rule, with nothing of *req*
        changed, or ``None``.
    """
    kind = writable_kind(req, target)
    if kind is None:
        return None
    meta, sysmeta = prefixes(kind)
    remove = 'x-remove-' + meta[2:]
    mode_meta, mode_sysmeta, mode_remove = mode_headers(kind)
    operator = operator_headers(kind)
    writes, modes = {}, []
    for key, value in req.headers.items():
        lower = key.lower()
        if lower.startswith(operator):
            return ('%s: the operator\'s rules are written by the operator '
                    'only' % key)
        if lower in (mode_meta, mode_remove):
            value = '' if lower == mode_remove else value.strip().lower()
            if value and value not in rules.MODES:
                return 'invalid %s value: %r (audit or enforce)' % (
                    key, value)
            modes.append((key, value))
        elif lower.startswith(meta):
            writes[lower[len(meta):]] = (key, value.strip())
        elif lower.startswith(remove):
            writes[lower[len(remove):]] = (key, '')
    error = next(filter(None, (rule_error(meta, name, key, value)
                               for name, (key, value) in writes.items())),
                 None)
    if error:
        return error
    for name, (key, value) in writes.items():
        del req.headers[key]
        req.headers[sysmeta + name] = value
        # An empty value deletes the guide-era plain metadata copy.
        req.headers[meta + name] = ''
    for key, value in modes:
        del req.headers[key]
        req.headers[mode_sysmeta] = value  # empty: back to enforce
    return None


def written_rules(req, kind):
    """``{name: value}`` of the (translated) rule writes to a *kind*."""
    sysmeta = prefixes(kind)[1]
    return {key.lower()[len(sysmeta):]: value
            for key, value in req.headers.items()
            if key.lower().startswith(sysmeta)}


def count_error(kind, stored, writes, max_rules):
    """Why a rule write would exceed *max_rules*, or ``None``.

    :param stored: ``{(kind, name): value}`` as :func:`rules.stored_rules`.
    :param writes: ``{name: value}`` as :func:`written_rules`; an empty
        value removes the rule.

    A write that does not add to rules already over the limit passes, so
    that an owner can come back under it; removals always pass. The rule
    names are bounded too, by :data:`MAX_RULE_NAMES`.
    """
    if not any(writes.values()):
        return None
    names_before = {name for _kind, name in stored}
    names_after = {name for name in names_before if name not in writes} | {
        name for name, value in writes.items() if value}
    if len(names_after) > max(MAX_RULE_NAMES, len(names_before)):
        return ('the %s would have %d %s* rules; at most %d are allowed'
                % (kind, len(names_after), RULE_PREFIX, MAX_RULE_NAMES))
    before = rules.count_networks(stored.values())
    after = rules.count_networks(
        [v for (_kind, name), v in stored.items() if name not in writes]
        + list(writes.values()))
    if after <= max_rules or after <= before:
        return None
    return ('the %s would list %d networks in its %s* rules; at most %d are '
            'allowed' % (kind, after, RULE_PREFIX, max_rules))


def shown_rules(headers, operator=None, account=None):
    """Stored rules and mode of *headers* under their ``Meta`` names.

    :param operator: the proxy's ``operator_level.OperatorLevel`` for an
        account's answer (its operator level is shown too), else ``None``.
    :param account: that account's name (str).
    """
    shown, operator_rules, operator_mode = [], [], None
    for key, value in headers:
        kind, sep, name = key.lower().partition('-sysmeta-ip-whitelist-')
        if not sep or kind not in ('x-container', 'x-account'):
            continue
        if name == 'mode' or name.startswith(RULE_PREFIX):
            shown.append(('%s-meta-ip-whitelist-%s' % (kind, name)
                          if name == 'mode' else
                          '%s-meta-%s' % (kind, name), value))
        elif kind == 'x-account' and value and \
                name.startswith('operator-' + RULE_PREFIX):
            operator_rules.append((name, value))
        elif kind == 'x-account' and name == 'operator-mode':
            operator_mode = value
    if operator is None:
        return shown
    if not operator_rules:
        default = operator.default_for(account)
        if default is None:
            return shown
        operator_rules = [('operator-%s%s' % (
            RULE_PREFIX, operator_level.DEFAULT_NAME), default.text)]
    if operator_mode:
        operator_mode = rules.AUDIT if operator_mode == rules.AUDIT \
            else rules.ENFORCE
    shown.extend(('x-account-meta-ip-whitelist-' + name, value)
                 for name, value in operator_rules)
    shown.append(('x-account-meta-ip-whitelist-operator-mode',
                  operator_mode or operator.mode))
    return shown

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

"""The owner's interface to ip_whitelist rules: ``allow-*`` metadata.

Owners write rules as ``X-Container-Meta-Allow-<name>`` or
``X-Account-Meta-Allow-<name>`` (an empty value, or
``X-Remove-...-Meta-Allow-<name>``, removes one). This module validates
such a write, moves it to system metadata (which clients cannot write by
any other route), counts it against ``max_rules`` and shows stored rules
back to the owner under their ``Meta`` names.

It answers with messages; ``openstack_ext.swift.ip_whitelist`` decides
who may reach what, who may write, and turns the messages into responses.
"""

from swift.common import constraints
from swift.common.request_helpers import get_sys_meta_prefix
from swift.common.request_helpers import get_user_meta_prefix

from openstack_ext import addresses
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


def prefixes(kind):
    """``(meta prefix, sysmeta prefix)`` of the rules of *kind*."""
    return (get_user_meta_prefix(kind) + RULE_PREFIX,
            get_sys_meta_prefix(kind) + SYSMETA_PREFIX)


def holder_kind(req):
    """``'account'`` or ``'container'`` when *req* names one, else None.

    Only the API's ``/v<version>/<account>[/<container>]`` paths hold
    rules; an object, ``/info`` or auth path holds none.
    """
    try:
        version, account, container, obj = req.split_path(2, 4, True)
    except ValueError:
        return None
    if obj or not account or not constraints.valid_api_version(version):
        return None
    return 'container' if container else 'account'


def may_hold_rules(path):
    """Whether *path* may name an account or container (not an object).

    A string test, for every GET and HEAD: :func:`holder_kind` is exact.
    """
    return not any(path.split('/', 4)[4:])  # /v1/a/c/OBJECT


def writable_kind(req):
    """The :func:`holder_kind` of a ``PUT`` or ``POST``, which may write."""
    if req.method not in ('PUT', 'POST'):
        return None
    return holder_kind(req)


def changes_rules(req):
    """Whether *req*, once translated, writes or removes a rule."""
    kind = writable_kind(req)
    if kind is None:
        return False
    sysmeta = prefixes(kind)[1]
    return any(key.lower().startswith(sysmeta) for key in req.headers)


def rule_error(meta, name, key, value):
    """What is wrong with one rule write, or ``None``."""
    if not name or len(meta + name) > constraints.MAX_META_NAME_LENGTH:
        return 'invalid rule name %r' % key
    if len(value) > constraints.MAX_META_VALUE_LENGTH:
        return '%s is longer than %d characters' % (
            key, constraints.MAX_META_VALUE_LENGTH)
    if value and not addresses.split_list(value):
        return '%s lists no address' % key  # only separators
    bad = rules.compile_uncached((value,))[1]
    if bad:
        return 'invalid %s%s rule: %s' % (RULE_PREFIX, name, ', '.join(bad))
    return None


def translate_rule_writes(req):
    """Move ``allow-*`` metadata writes of *req* to sysmeta.

    :returns: the error of the first malformed rule, with nothing of *req*
        changed, or ``None``.
    """
    kind = writable_kind(req)
    if kind is None:
        return None
    meta, sysmeta = prefixes(kind)
    remove = 'x-remove-' + meta[2:]
    writes = {}
    for key, value in req.headers.items():
        lower = key.lower()
        if lower.startswith(meta):
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
    return None


def written_rules(req):
    """``{name: value}`` of the (translated) rule writes in *req*."""
    sysmeta = prefixes(writable_kind(req))[1]
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


def shown_rules(headers):
    """Stored rules of response *headers* under their ``Meta`` names."""
    shown = []
    for key, value in headers:
        kind, sep, name = key.lower().partition('-sysmeta-' + SYSMETA_PREFIX)
        if sep and kind in ('x-container', 'x-account'):
            shown.append(('%s-meta-%s%s' % (kind, RULE_PREFIX, name), value))
    return shown


def show_to_owner(env, start_response):
    """A ``start_response`` that adds :func:`shown_rules` for the owner.

    Whether the requester is the owner is known only once auth has run,
    that is when the response starts.
    """
    def start_with_rules(status, headers, exc_info=None):
        if env.get('swift_owner'):
            headers = list(headers) + shown_rules(headers)
        return start_response(status, headers, exc_info)
    return start_with_rules

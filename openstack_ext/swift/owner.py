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

"""The owner's rights over ip_whitelist rules.

Owners write rules as ``X-Container-Meta-Allow-<name>`` or
``X-Account-Meta-Allow-<name>`` (an empty value, or
``X-Remove-...-Meta-Allow-<name>``, removes one). This module validates
such a write and moves it to system metadata (which clients cannot write by
any other route), counts it against ``max_rules``, shows stored rules back
to the owner under their ``Meta`` names, and (:class:`OwnerGate`) refuses
what only the owner may do once auth has said who the requester is.
"""

from swift.common import constraints
from swift.common.http import is_success
from swift.common.request_helpers import get_sys_meta_prefix
from swift.common.request_helpers import get_user_meta_prefix
from swift.common import swob
from swift.common.wsgi import make_pre_authed_request

from openstack_ext import addresses
from openstack_ext.swift import decision
from openstack_ext.swift import rule_reader
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
    """Whether *req*, once translated, writes or removes a rule."""
    kind = writable_kind(req, target)
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


def shown_rules(headers):
    """Stored rules of response *headers* under their ``Meta`` names."""
    shown = []
    for key, value in headers:
        kind, sep, name = key.lower().partition('-sysmeta-' + SYSMETA_PREFIX)
        if sep and kind in ('x-container', 'x-account'):
            shown.append(('%s-meta-%s%s' % (kind, RULE_PREFIX, name), value))
    return shown


# What may change rules or the holders of rules.
OWNER_METHODS = ('PUT', 'POST', 'DELETE')
# What versioned_writes (after the filter) turns X-Versions-Location and
# X-History-Location into, by the time swift.authorize is asked.
VERSIONS_SYSMETA = get_sys_meta_prefix('container') + 'versions-location'


def _answer(status_class, req, body):
    return status_class(request=req, content_type='text/plain', body=body)


class OwnerGate(object):
    """Refuses what only the owner may do, once auth knows the requester.

    Writing or removing a rule, deleting an account or container that
    holds rules (which removes them), and making another container the
    archive of a container with rules (``X-Versions-Location``,
    ``X-History-Location``: every overwrite copies the old data there)
    are the owner's alone; an owner's rule write must also stay within
    ``max_rules``. Deleting an account that still holds containers, whose
    rules the request does not name, is left to ``always_allow``.
    """

    def __init__(self, app, options, max_rules, logger):
        self.app = app
        self.options = options
        self.max_rules = max_rules
        self.logger = logger

    def malformed(self, req, target):
        """A ``400`` naming a malformed rule write, else ``None``.

        Translates the request's rule writes to system metadata.
        """
        error = translate_rule_writes(req, target)
        if error is None:
            return None
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return _answer(swob.HTTPBadRequest, req, error)

    def denial(self, req, target, client):
        """The refusal of an owner's-only request, or ``None``.

        Asked once auth has said who the requester is (``swift_owner``).
        """
        if req.method not in OWNER_METHODS:
            return None  # reads (most requests) neither write nor delete
        kind = holder_kind(target)
        if req.method == 'DELETE' and kind == 'account' and \
                not decision.always_allowed(client, self.options) and \
                self._holds_containers(req):
            self.logger.info('ip_whitelist: %s refused on %s: the account '
                             'still holds containers', client, req.path)
            return _answer(swob.HTTPForbidden, req, 'An account that holds '
                           'containers can be deleted only from an '
                           'always_allow address')
        changes = changes_rules(req, target)
        if changes:
            refused = 'Only the owner can change allow-* rules'
        elif req.method == 'DELETE' and self._holds_rules(req, target, kind):
            refused = 'Only the owner can delete what holds allow-* rules'
        elif req.method in ('PUT', 'POST') and kind == 'container' and any(
                req.headers.get(h) for h in
                rule_reader.VERSIONS_HEADERS + (VERSIONS_SYSMETA,)) and \
                self._holds_rules(req, target, kind):
            refused = ('Only the owner can send the versions of what holds '
                       'allow-* rules elsewhere')
        else:
            return None
        if not req.environ.get('swift_owner'):
            self.logger.info('ip_whitelist: non-owner %s refused on %s: %s',
                             req.remote_user, req.path, refused)
            return _answer(swob.HTTPForbidden, req, refused)
        return self._count_denial(req, target, kind) if changes else None

    def _info(self, req, target, kind):
        return rule_reader.info(req.environ, self.app, target.version,
                                target.account,
                                target.container if kind == 'container'
                                else None)

    def _holds_rules(self, req, target, kind):
        """Whether the account or container *req* names holds rules."""
        if kind is None:
            return False
        info = self._info(req, target, kind)
        if is_success(info['status']):
            return bool(rules.rule_values(info))
        if info['status'] in rule_reader.GONE:
            return False
        # Unreadable: it may hold rules. Refused as any non-owner's would
        # be; the owner's request goes on, and Swift answers it.
        return True

    def _holds_containers(self, req):
        """Whether the account of ``req`` has containers, asked afresh.

        Its containers' rules would go with it (the reaper deletes them
        and their data), and checking each is out of reach: a fresh
        ``HEAD`` (never the cached count, which a new container may not be
        in yet) tells whether there are any. Unreadable counts as yes.
        """
        resp = make_pre_authed_request(
            req.environ, 'HEAD', req.path_info,
            swift_source=rule_reader.SWIFT_SOURCE).get_response(self.app)
        if resp.status_int in rule_reader.GONE:
            return False
        if not is_success(resp.status_int):
            return True
        try:
            return int(resp.headers.get('X-Account-Container-Count')) > 0
        except (TypeError, ValueError):
            return True

    def _count_denial(self, req, target, kind):
        """A ``400`` if the owner's rule write would exceed ``max_rules``.

        Counted over what is stored plus the (translated) request, once the
        requester is known to be the owner: nobody else learns how many
        rules there are.
        """
        writes = written_rules(req, kind)
        if not any(writes.values()):
            return None
        info = self._info(req, target, kind)
        if is_success(info['status']):
            stored = rules.stored_rules(info)
        elif info['status'] in rule_reader.GONE or self._info(
                req, target, 'account')['status'] in rule_reader.GONE:
            stored = {}  # being created, or Swift answers 404
        else:
            self.logger.error('ip_whitelist: cannot count the rules of %s '
                              '(%s status %s): refusing the write',
                              req.path, kind, info['status'])
            return _answer(swob.HTTPServiceUnavailable, req,
                           'IP whitelist rules are unavailable')
        error = count_error(kind, stored, writes, self.max_rules)
        if error is None:
            return None
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return _answer(swob.HTTPBadRequest, req, error)

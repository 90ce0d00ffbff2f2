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

:class:`OwnerGate` refuses what only the owner may do, once auth has said
who the requester is: writing or removing rules and modes (within
``max_rules``, and not locking the writer's own address out without
confirmation), deleting what holds rules, sending its versions
elsewhere. The operator's level is nobody's to change through the proxy:
its headers are refused as malformed, and an account that stores it is
deleted only from an ``always_allow`` address. And it tells the change
trail (:mod:`~openstack_ext.swift.trail`) what each accepted or refused
act changes. The headers
themselves are :mod:`openstack_ext.swift.rule_headers`'.
"""

from swift.common.http import is_success
from swift.common.request_helpers import get_sys_meta_prefix
from swift.common import swob
from swift.common.wsgi import make_pre_authed_request

from openstack_ext.swift import decision
from openstack_ext.swift import operator_level
from openstack_ext.swift import rule_cache
from openstack_ext.swift import rule_headers as headers
from openstack_ext.swift import rule_reader
from openstack_ext.swift import rules
from openstack_ext.swift import trail

# What may change rules or the holders of rules.
OWNER_METHODS = ('PUT', 'POST', 'DELETE')
# What versioned_writes (after the filter) turns X-Versions-Location and
# X-History-Location into, by the time swift.authorize is asked.
VERSIONS_SYSMETA = get_sys_meta_prefix('container') + 'versions-location'


# What lets an owner's write lock its own address out.
CONFIRM_LOCKOUT = 'X-Ip-Whitelist-Confirm-Lockout'


def _answer(status_class, req, body):
    return status_class(request=req, content_type='text/plain', body=body)


def _level(label, named):
    """A level of :func:`decision.decide` from a holder's named values."""
    values = tuple(v for k, v in named.items() if k != trail.MODE)
    networks = rules.parse_values(values)[0] if values else None
    return label, networks, named.get(trail.MODE, rules.ENFORCE)


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

    def __init__(self, app, options, max_rules, logger, operator=None):
        self.app = app
        self.options = options
        self.max_rules = max_rules
        self.logger = logger
        self.operator = operator or operator_level.OperatorLevel()

    def malformed(self, req, target, client):
        """A ``400`` naming a malformed rule write, else ``None``.

        Translates the request's rule writes to system metadata.
        """
        error = headers.translate_rule_writes(req, target)
        if error is None:
            return None
        self.refused(req, target, client, error)
        return _answer(swob.HTTPBadRequest, req, error)

    def refused(self, req, target, client, why):
        """Log a refused request that would have written rules or a mode.

        For a request refused before its holder's rules are read (by the
        perimeter, as malformed, or by auth): what it writes.
        """
        kind = headers.writable_kind(req, target)
        if kind is None:
            return
        writes = {rules.RULE_PREFIX + name: value for name, value in
                  headers.written_rules(req, kind).items()}
        mode = headers.written_mode(req, kind)
        if not writes and mode is None:  # not translated: as it came
            meta = headers.prefixes(kind)[0]
            mode_meta, _sysmeta, mode_remove = headers.mode_headers(kind)
            operator = headers.operator_headers(kind)
            for key, value in req.headers.items():
                if key.lower().startswith(meta):
                    writes[key.lower()[len(meta) - len(rules.RULE_PREFIX):]] \
                        = value
                elif key.lower() in (mode_meta, mode_remove):
                    mode = value
                elif key.lower().startswith(operator):
                    writes[key] = value  # refused: the operator's
        if mode is not None:
            writes[trail.MODE] = mode
        if writes:
            trail.log_refused(self.logger, trail.Change(
                target.account, target.container, None, writes,
                trail.requester(req.environ), client), why)

    def denial(self, req, target, client):
        """``(refusal or None, trail.Change or None)`` of an owner's act.

        Asked once auth has said who the requester is (``swift_owner``).
        The change is what the request does to the rules, when it lets it
        through: the change trail logs it once the answer starts.
        """
        if req.method not in OWNER_METHODS:
            return None, None  # reads neither write nor delete
        kind = headers.holder_kind(target)
        if req.method == 'DELETE' and kind == 'account' and \
                not decision.always_allowed(client, self.options):
            why = None
            if self._holds_containers(req):
                why = 'holds containers'
            elif self._holds_operator_level(req, target):
                why = "holds the operator's rules"
            if why:
                self.logger.info('ip_whitelist: %s refused on %s: the '
                                 'account %s', client, req.path, why)
                return _answer(swob.HTTPForbidden, req, 'An account that '
                               '%s can be deleted only from an '
                               'always_allow address' % why), None
        changes = headers.changes_rules(req, target)
        change = None
        if changes:
            change = self._change(req, target, kind, client)
            refused = 'Only the owner can change allow-* rules'
        elif req.method == 'DELETE' and self._holds_rules(req, target, kind):
            change = self._change(req, target, kind, client, deleted=True)
            refused = 'Only the owner can delete what holds allow-* rules'
        elif req.method in ('PUT', 'POST') and kind == 'container' and any(
                req.headers.get(h) for h in
                rule_reader.VERSIONS_HEADERS + (VERSIONS_SYSMETA,)) and \
                self._holds_rules(req, target, kind):
            refused = ('Only the owner can send the versions of what holds '
                       'allow-* rules elsewhere')
        else:
            return None, None
        denial = None
        if not req.environ.get('swift_owner'):
            self.logger.info('ip_whitelist: non-owner %s refused on %s: %s',
                             req.remote_user, req.path, refused)
            denial = _answer(swob.HTTPForbidden, req, refused)
        elif changes:
            denial = self._count_denial(req, target, kind) or \
                self._lockout_denial(req, target, kind, client, change)
        if denial is not None:
            if change is not None:
                trail.log_refused(self.logger, change, denial.body.decode())
            return denial, None
        return None, change

    def _change(self, req, target, kind, client, deleted=False):
        """The :data:`trail.Change` that *req* makes to the rules."""
        info = self._info(req, target, kind)
        old = trail.named(info) if is_success(info['status']) else {}
        new = None
        if not deleted:
            new = dict(old)
            for name, value in headers.written_rules(req, kind).items():
                if value:
                    new[rules.RULE_PREFIX + name] = value
                else:
                    new.pop(rules.RULE_PREFIX + name, None)
            mode = headers.written_mode(req, kind)
            if mode is not None:
                new[trail.MODE] = mode
        return trail.Change(target.account, target.container if kind ==
                            'container' else None, old, new,
                            trail.requester(req.environ), client)

    def _lockout_denial(self, req, target, kind, client, change):
        """A ``409`` if *change* leaves the writer outside the perimeter.

        The perimeter that results, account and container together, is
        judged by the decision itself (``always_allow`` passes, audited
        levels let through). ``X-Ip-Whitelist-Confirm-Lockout: yes``
        makes the change anyway.
        """
        if req.headers.get(CONFIRM_LOCKOUT, '').strip().lower() == 'yes':
            return None
        account = self._info(req, target, 'account')
        stored = None
        if is_success(account['status']):
            stored = rules.operator_stored(account)
        levels = [self.operator.level(
            swob.wsgi_to_str(target.account), stored and rule_cache.
            HolderRules(rules.parse_values(stored.values)[0] if
                        stored.values else None, (), stored.mode))]
        if kind == 'container' and is_success(account['status']):
            levels.append(_level(decision.ACCOUNT, trail.named(account)))
        levels.append((_level(kind, change.new)))
        refused_by = decision.decide(client, levels, self.options,
                                     container=kind == 'container').refused_by
        if refused_by is None:
            return None
        self.logger.info('ip_whitelist: refused %s: it would lock out %s',
                         req.path, client)
        return _answer(swob.HTTPConflict, req, (
            'This change would leave your own address %s outside the %s '
            'rules: send %s: yes to make it anyway' % (
                trail.client_text(client), refused_by, CONFIRM_LOCKOUT)))

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

    def _holds_operator_level(self, req, target):
        """Whether the account stores operator's rules (unreadable: yes)."""
        info = self._info(req, target, 'account')
        if is_success(info['status']):
            return bool(rules.operator_rules(info))
        return info['status'] not in rule_reader.GONE

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
        writes = headers.written_rules(req, kind)
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
        error = headers.count_error(kind, stored, writes, self.max_rules)
        if error is None:
            return None
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return _answer(swob.HTTPBadRequest, req, error)

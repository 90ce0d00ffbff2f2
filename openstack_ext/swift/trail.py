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

"""Who changed which ip_whitelist rules, from where: the change trail.

Every rule write or removal, every mode change, and every ``DELETE`` of an
account or container that holds rules is logged at info level by the
proxy that handled it, once its answer starts, with that answer's status::

    ip_whitelist: rule change by test:tester from 192.0.2.7 on
    Account=AUTH_test Container=photos (204): allow-dev: '192.0.2.0/24'
    -> '192.0.2.0/25'; mode: 'enforce' -> 'audit'

and counted as the ``ip_whitelist.rule_changes`` metric. A refused
attempt is logged (``refused rule change ...: <why>``) and counted as
``ip_whitelist.rule_changes_refused``. The requester is auth's: tempauth's
``REMOTE_USER``, or Keystone's user and project ids. ``openstack-ext
rules`` logs the same lines, naming itself as the requester.
"""

import collections

from openstack_ext.swift import rules

MODE = 'mode'  # the mode's key among a holder's named values

#: A change of one holder's rules: ``old`` and ``new`` map ``allow-*``
#: names (and :data:`MODE`) to values; ``new`` is ``None`` for a delete,
#: ``old`` is ``None`` when it was not read (a refused attempt).
Change = collections.namedtuple(
    'Change', 'account container old new requester client')


def named(info):
    """``{'allow-NAME': value, ..., 'mode': mode}`` of a holder's info."""
    values = {}
    # ('meta', name) sorts before ('sysmeta', name): sysmeta wins.
    for (_kind, name), value in sorted(rules.stored_rules(info).items()):
        values[rules.RULE_PREFIX + name] = value
    values[MODE] = rules.stored_mode(info)
    return values


def requester(env):
    """Who auth says made the request, for the log."""
    if env.get('HTTP_X_USER_ID'):
        return 'user %s (project %s)' % (env['HTTP_X_USER_ID'],
                                         env.get('HTTP_X_PROJECT_ID', '-'))
    remote_user = env.get('REMOTE_USER')
    if isinstance(remote_user, str) and remote_user:
        # tempauth: the groups, "account:user" among them.
        groups = remote_user.split(',')
        return next((g for g in groups if ':' in g), groups[0])
    return 'an anonymous client'


def describe(change):
    """What *change* changes, one ``name: old -> new`` a value."""
    if change.old is None:
        return 'writes %s' % '; '.join(
            '%s: %r' % item for item in sorted(change.new.items()))
    if change.new is None:
        return 'deleted, with %s' % (', '.join(
            '%s: %r' % item for item in sorted(change.old.items())
            if item[0] != MODE) or 'no rules')
    parts = []
    for name in sorted(set(change.old) | set(change.new)):
        old, new = change.old.get(name), change.new.get(name)
        if old != new:
            parts.append('%s: %s -> %s' % (
                name, '(none)' if old is None else repr(old),
                '(removed)' if new is None else repr(new)))
    return '; '.join(parts) or 'no change'


def client_text(client):
    """How the trail and the owner's answers name a client address."""
    if client is None:
        return '(unknown: a trusted proxy named no client)'
    return str(client)


def _holder(change):
    return 'Account=%s Container=%s' % (change.account, change.container)


def log_done(logger, change, status):
    """Log a change whose answer started with *status*."""
    logger.info('ip_whitelist: rule change by %s from %s on %s (%s): %s',
                change.requester, client_text(change.client),
                _holder(change), status.split(' ', 1)[0], describe(change))
    logger.increment('rule_changes')


def log_refused(logger, change, why):
    """Log a change that was refused, and why."""
    logger.info('ip_whitelist: refused rule change by %s from %s on %s: '
                '%s (it would have made: %s)', change.requester,
                client_text(change.client), _holder(change), why,
                describe(change))
    logger.increment('rule_changes_refused')

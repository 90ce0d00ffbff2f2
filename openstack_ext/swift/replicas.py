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

"""Reading a holder's rules from every primary replica.

Swift keeps each account and container database on several primaries; a
write succeeds on a quorum of them, and a primary that missed it keeps
the old metadata until the replicator reaches it. The proxy's info comes
from whichever primary answers first, so its rules may be old ones. Here
every primary is asked (:meth:`ReplicaReader.answers`, Swift's
``direct_client`` and the proxy's own rings) and the distinct rule sets
they hold are all kept (:meth:`ReplicaReader.rule_sets`): the decision
admits a client only if each of them lists it. Fewer answers than a
quorum raise :class:`~openstack_ext.swift.rule_reader.RulesUnavailable`.

What the primaries hold rides in Swift's own cached info of the holder
(:data:`INFO_FIELD`, the sets that differ from the info's own rules,
usually none): the proxy reads that entry for the request anyway, so a
holder's replicas cost no read of their own while it lasts. Swift drops
and refills the entry (after any write to the holder through any proxy,
when it expires, after a listing), without the field; the next request
below the holder (on a container or object in it) carries the field
again (:func:`carry`) from the filter's own memcache key
(:func:`cache_key`), else from the primaries, for no longer than that
key lasts. The key lasts the proxy's recheck time, and :func:`forget`
drops it, and Swift's entry, once a write to its holder through a proxy
with the filter (or ``openstack-ext rules``) has ended.

:func:`find_proxy_app` (the proxy's rings and timeouts, checked at start)
and :func:`carry` (the shape of Swift's cached info: a dict of the info
under ``get_cache_key``, which it keeps only when it finds it so) are the
places that lean on the proxy's internals.
"""

import time

from swift.common import concurrency
from swift.common import direct_client
from swift.common.exceptions import ClientException
from swift.common import swob
from swift.common import utils
from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import rules

CACHE_PREFIX = 'ip_whitelist/replicas/'
#: The field of a holder's info (Swift's, in memcache) that carries the
#: rule sets of its primaries that differ from the info's own.
INFO_FIELD = 'ip_whitelist_replicas'
REPLICAS_HEADER = 'X-Ip-Whitelist-Replicas'
WARNING_HEADER = 'X-Ip-Whitelist-Warning'
# Where middleware keep their next app (as in pipeline.NEXT_APP_ATTRIBUTES).
NEXT_APP_ATTRIBUTES = ('app', '_app', 'application', '_application')
MAX_DEPTH = 100
GONE = (404, 410)


class NoQuorum(Exception):
    """Fewer primaries answered than a quorum of them."""


def find_proxy_app(app):
    """The proxy server app at the end of the chain from *app*, or None.

    Leans on Swift 2.38's proxy ``Application``: ``account_ring``,
    ``container_ring``, ``conn_timeout``, ``node_timeout``,
    ``recheck_account_existence`` and ``recheck_container_existence``.
    """
    for _step in range(MAX_DEPTH):
        if app is None:
            return None
        if is_proxy_app(app):
            return app
        app = next((getattr(app, attribute) for attribute in
                    NEXT_APP_ATTRIBUTES if getattr(app, attribute, None)),
                   None)
    return None


def is_proxy_app(app):
    return all(hasattr(app, name) for name in (
        'account_ring', 'container_ring', 'conn_timeout', 'node_timeout',
        'recheck_account_existence', 'recheck_container_existence'))


def check_swift():
    """Check at start what :class:`ReplicaReader` uses of Swift."""
    for name in ('direct_head_container', 'direct_get_account'):
        if not callable(getattr(direct_client, name, None)):
            raise ValueError('ip_whitelist: this Swift has no '
                             'direct_client.%s; this version of '
                             'openstack-ext does not support it' % name)


def cache_key(holder):
    """The filter's memcache key for a holder (``rule_reader.holder_key``).

    Never one of Swift's own keys.
    """
    return CACHE_PREFIX + holder


def forget(env, holder):
    """Drop the merged rules of *holder* from the proxies' memcache.

    Once a write to the holder has ended: the filter's entry, then
    Swift's info, which carries them too. Swift drops its info before the
    write, and a request during the write may have refilled it from a
    primary the write had not reached yet, with the sets kept before it.
    """
    cache = env.get('swift.cache')
    if cache is not None:
        cache.delete(cache_key(holder))
        cache.delete(holder)


def answer_values(kind, status, headers):
    """The rule values of one primary's answer, as :func:`rules.rule_values`.

    :param kind: ``'account'`` or ``'container'``.
    """
    to_info = proxy_base.headers_to_container_info if kind == 'container' \
        else proxy_base.headers_to_account_info
    return rules.rule_values(to_info(headers, status))


class Answer(object):
    """What one primary said: ``status`` (``None``: no answer), values."""

    __slots__ = ('node', 'status', 'headers', 'values')

    def __init__(self, node, status, headers=None, values=()):
        self.node = node
        self.status = status
        self.headers = headers or {}
        self.values = values

    @property
    def answered(self):
        """Whether the primary said what it holds (or that it has none)."""
        return self.status is not None and (
            200 <= self.status <= 299 or self.status in GONE)


def read_primary(kind, node, part, account, container, conn_timeout,
                 node_timeout):
    """The :class:`Answer` of one primary. Never raises."""
    try:
        if kind == 'container':
            headers = direct_client.direct_head_container(
                node, part, account, container, conn_timeout=conn_timeout,
                response_timeout=node_timeout)
        else:
            headers = direct_client.direct_get_account(
                node, part, account, limit=0, conn_timeout=conn_timeout,
                response_timeout=node_timeout)[0]
    except ClientException as error:
        return Answer(node, error.http_status)
    except (Exception, concurrency.Timeout):  # down, slow, unreachable
        return Answer(node, None)
    return Answer(node, 200, headers, answer_values(kind, 200, headers))


def read_primaries(ring, kind, account, container=None, conn_timeout=0.5,
                   node_timeout=3):
    """The :class:`Answer` of each primary of a holder, asked in parallel.

    :param account: and *container*: native strings.
    """
    part, nodes = ring.get_nodes(account, container)
    pile = concurrency.GreenPile(len(nodes) or 1)
    for node in nodes:
        pile.spawn(read_primary, kind, node, part, account, container,
                   conn_timeout, node_timeout)
    return list(pile)


def distinct_sets(answers):
    """The distinct non-empty rule value sets of *answers*, sorted.

    :raises NoQuorum: when fewer than a quorum answered.
    """
    answered = [a for a in answers if a.answered]
    if len(answered) < utils.quorum_size(len(answers)):
        raise NoQuorum('%d of %d primaries answered' % (
            len(answered), len(answers)))
    return sorted({a.values for a in answered if a.values})


class ReplicaReader(object):
    """The rule sets a holder's primaries hold, kept in memcache.

    :param find_app: returns the proxy app (:func:`find_proxy_app`), or
        ``None``; asked until it finds it. Without it, rules that must be
        read from the replicas are unavailable.
    :param every_holder: read the replicas of holders whose info shows no
        rules too (``replica_reads = all``).
    """

    def __init__(self, find_app, every_holder=False):
        self._find_app = find_app
        self._app = None
        self.every_holder = every_holder

    def applies(self, values):
        """Whether a holder whose info has *values* is read here."""
        return bool(values) or self.every_holder

    @property
    def proxy_app(self):
        if self._app is None:
            self._app = self._find_app()
            if self._app is None:
                raise NoQuorum("the proxy server app (its rings) cannot be "
                               "found from the filter")
        return self._app

    def rule_sets(self, env, holder, found, values, account,
                  container=None, carried_on=True):
        """The rule value sets of a holder's primaries, beside *values*.

        What its info carries (:data:`INFO_FIELD`), else :meth:`read`, then
        carried in Swift's cached info from then on (:func:`carry`).

        :param holder: ``rule_reader.holder_key`` of the holder, Swift's
            info-cache key.
        :param found: the holder's info, as the request has it.
        :param values: the rule values of *found*.
        :param account: and *container*: WSGI strings.
        :param carried_on: carry them in Swift's info when it has none.
        :returns: a tuple of value tuples (those with rules only): all the
            sets, or only those that differ from *values*.
        :raises NoQuorum: fewer primaries answered than a quorum.
        """
        carried = found.get(INFO_FIELD)
        if isinstance(carried, list):
            return tuple(map(tuple, carried))
        kept = self.read(env, holder, swob.wsgi_to_str(account),
                         container and swob.wsgi_to_str(container))
        if carried_on:
            carry(env, holder, found, values, kept)
        return tuple(map(tuple, kept['sets']))

    def read(self, env, holder, account, container=None):
        """What the filter keeps of a holder's primaries.

        From the filter's memcache entry when there is one, else read from
        every primary and kept for the proxy's recheck time.

        Arguments as :meth:`rule_sets`, but *account* and *container* are
        native strings.

        :returns: ``{'sets': the distinct rule value sets (lists), 'until':
            until when (``time.time()``) they are kept}``, as kept.
        """
        cache = env.get('swift.cache')
        key = cache_key(holder)
        if cache is not None:
            found = cache.get(key)
            # Anything else (the lists of an earlier version) is read anew.
            if isinstance(found, dict) and \
                    isinstance(found.get('sets'), list) and \
                    isinstance(found.get('until'), (int, float)):
                return found
        app = self.proxy_app
        if container:
            ring, seconds = app.container_ring, \
                app.recheck_container_existence
        else:
            ring, seconds = app.account_ring, app.recheck_account_existence
        sets = distinct_sets(read_primaries(
            ring, 'container' if container else 'account', account,
            container, app.conn_timeout, app.node_timeout))
        kept = {'sets': [list(values) for values in sets],
                'until': time.time() + seconds}
        if cache is not None and seconds > 0:
            cache.set(key, kept, time=seconds)
        return kept

    def write_report(self, req, target, written, logger):
        """Headers telling on how many primaries a rule write is stored.

        :param target: the write's ``rule_reader.Target``.
        :param written: ``{name: value}`` as ``owner.written_rules``.
        """
        account = swob.wsgi_to_str(target.account)
        container = target.container and swob.wsgi_to_str(target.container)
        try:
            stored, primaries = stored_on(self.answers(account, container),
                                          written)
        except NoQuorum as error:  # no rings: cannot tell
            logger.warning('ip_whitelist: cannot count the primaries holding '
                           'the rule write on %s: %s', req.path, error)
            return []
        headers = [(REPLICAS_HEADER, '%d/%d' % (stored, primaries))]
        logger.info('ip_whitelist: rule write on %s stored on %d of %d '
                    'primaries', req.path, stored, primaries)
        if stored < primaries:
            warning = ('the new rules are stored on %d of %d primaries; the '
                       'others get them when the replicator reaches them '
                       '(openstack-ext rules verify)' % (stored, primaries))
            logger.warning('ip_whitelist: %s: %s', req.path, warning)
            headers.append((WARNING_HEADER, warning))
        return headers

    def answers(self, account, container=None):
        """Each primary's :class:`Answer`, read now (never cached)."""
        app = self.proxy_app
        ring = app.container_ring if container else app.account_ring
        return read_primaries(ring, 'container' if container else 'account',
                              account, container, app.conn_timeout,
                              app.node_timeout)


def carry(env, holder, found, values, kept):
    """Carry the kept sets in Swift's cached info of *holder*.

    The sets that differ from the info's rule *values* go into the entry
    memcache holds (:data:`INFO_FIELD`), only when it is still *found*,
    the info they were compared with (not one refilled since, nor one
    already carried), and no longer than the filter's entry lasts. Then,
    if the filter's entry is no longer *kept* (a write ended meanwhile,
    :func:`forget`), the info goes: memcache has no compare-and-set.

    Writing the entry again starts its time anew: Swift's info of a holder
    carried this way may be up to twice its recheck time old.

    :param kept: what :meth:`ReplicaReader.read` returned.
    """
    cache = env.get('swift.cache')
    seconds = int(kept['until'] - time.time())
    if cache is None or seconds <= 0 or cache.get(holder) != found:
        return
    cache.set(holder, dict(found, **{INFO_FIELD: [
        each for each in kept['sets'] if tuple(each) != values]}),
        time=seconds)
    if cache.get(cache_key(holder)) != kept:
        cache.delete(holder)


def merged(values, sets):
    """Rule values for ``RuleCache``: *values* and each of *sets*.

    :param values: the holder's values as the proxy's info has them.
    :param sets: :meth:`ReplicaReader.rule_sets`.
    :returns: one value tuple when all that have rules agree (the usual
        case, compiled and cached as before), else a tuple of the
        distinct value tuples, whose networks are their intersection
        (:class:`rules.AllOf`).
    """
    if not sets:
        return values
    distinct = sorted({v for v in (values,) + tuple(sets) if v})
    if not distinct:
        return ()
    if len(distinct) == 1:
        return distinct[0]
    return tuple(distinct)


def stored_on(answers, written):
    """``(primaries holding the *written* rules, primaries)``.

    :param written: ``{name: value}`` as ``owner.written_rules`` (an
        empty value: removed).
    """
    prefixes = [p.lower() for p in
                ('X-Container-Sysmeta-' + rules.SYSMETA_PREFIX,
                 'X-Account-Sysmeta-' + rules.SYSMETA_PREFIX)]

    def holds(answer):
        if answer.status is None or not 200 <= answer.status <= 299:
            return False
        stored = {}
        for key, value in answer.headers.items():
            for prefix in prefixes:
                if key.lower().startswith(prefix):
                    stored[key.lower()[len(prefix):]] = value
        return all(stored.get(name, '') == value
                   for name, value in written.items())

    return sum(1 for a in answers if holds(a)), len(answers)

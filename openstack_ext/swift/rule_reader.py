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

"""Reading the ip_whitelist rules in force on a request's path.

The one way the middleware reads rules, for requests and subrequests,
reads and writes alike: the account's and container's info as Swift's
proxy keeps it (:func:`info`), their rule values
(:func:`openstack_ext.swift.rules.rule_values`), compiled through the one
:class:`~openstack_ext.swift.rule_cache.RuleCache`. The levels are read
lazily, outermost first, so that a level the decision never reaches (the
account's rules refused the client already) is never read: whether a
container exists cannot show through an account's refusal.
"""

import collections

from swift.common import constraints
from swift.common.middleware.s3api.utils import MULTIUPLOAD_SUFFIX
from swift.common import swob
from swift.common import utils
from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import decision
from openstack_ext.swift import operator_level
from openstack_ext.swift import replicas as replicas_mod
from openstack_ext.swift import rule_cache
from openstack_ext.swift import rules

SWIFT_SOURCE = 'IPW'  # marks the info requests of this filter in the logs
GONE = (404, 410)  # no such account or container (any more)
WRITE_METHODS = ('PUT', 'POST', 'DELETE', 'COPY')
VERSIONS_HEADERS = ('X-Versions-Location', 'X-History-Location')

# A container that does not exist (yet): no rules.
NOT_THERE = rule_cache.HolderRules(None, (), rules.ENFORCE)

#: What a request names, as WSGI strings: ``container`` and ``obj`` are
#: ``None`` when absent.
Target = collections.namedtuple('Target', 'version account container obj')


class RulesUnavailable(Exception):
    """The rules of a container or account could not be read."""


class NoRulesHolder(Exception):
    """An object request names an account or container that is gone."""


def target(path):
    """The :data:`Target` of an API *path*; ``None`` for ``/info``, auth..."""
    try:
        version, account, container, obj = utils.split_path(path, 1, 4, True)
    except ValueError:
        return None
    if not account or not constraints.valid_api_version(version):
        return None
    return Target(version, account, container or None, obj or None)


def check_swift():
    """Check at start what :func:`info` assumes of Swift's info cache."""
    if proxy_base.get_cache_key('a') != 'account/a' or \
            proxy_base.get_cache_key('a', 'c') != 'container/a/c':
        raise ValueError('ip_whitelist: this Swift keys its info cache '
                         'unlike Swift 2.38 (get_cache_key); this version '
                         'of openstack-ext does not support it')


def in_request(env, holder):
    """The info of an account or container if the request holds it.

    The one place that reads Swift's private per-request info cache
    (``swift.infocache``, keyed by ``get_cache_key``, checked at start by
    :func:`check_swift`): the proxy has usually read the info already,
    and ``get_*_info`` would deep-copy it on every call, the largest cost
    of a decision. Only to read.

    :param holder: its :func:`holder_key`.
    """
    return env.get('swift.infocache', {}).get(holder)


def info(env, app, version, account, container=None):
    """The info of an account (or of a container in it), only to read.

    :func:`in_request`, or else ``get_*_info``'s (memcache, then the
    backends), which fills the request's info cache: the one the proxy
    reads after the filter, and the one returned, as Swift keeps it.
    """
    holder = holder_key(account, container)
    found = in_request(env, holder)
    if found is not None:
        return found
    env.setdefault('swift.infocache', {})  # shared with the copy below
    path = '/%s/%s' % (version, account)
    if container:
        path_env = dict(env, PATH_INFO='%s/%s' % (path, container))
        copy = proxy_base.get_container_info(path_env, app,
                                             swift_source=SWIFT_SOURCE)
    else:
        copy = proxy_base.get_account_info(dict(env, PATH_INFO=path), app,
                                           swift_source=SWIFT_SOURCE)
    return in_request(env, holder) or copy


class RuleReader(object):
    """The rules in force on a path, level by level."""

    def __init__(self, app, cache, logger, operator=None, replicas=None):
        """Reads with *app*'s infos, through *cache*.

        :param operator: the proxy's ``operator_rules`` and
            ``operator_mode`` (an ``OperatorLevel``).
        :param replicas: a :class:`~openstack_ext.swift.replicas.
            ReplicaReader` (``replica_reads``), or ``None``.
        """
        self.app = app
        self.cache = cache
        self.logger = logger
        self.operator = operator or operator_level.OperatorLevel()
        self.replicas = replicas

    def levels(self, req, target, for_object=False):
        """``(label, networks, mode)`` of each level, for the decision.

        The operator's (:mod:`~openstack_ext.swift.operator_level`: what
        the account stores of it, else the proxy's default for its
        prefix, whether the account exists or not), the account's, then
        (below the account) the container's, then those of the other
        containers the request reaches (:meth:`linked_containers`). Stops
        at an account that does not exist (Swift answers ``404``); a
        container that does not exist (yet) has no rules.

        :param for_object: the request reads or writes an object, which
            object servers serve whatever the account and container
            databases say: a gone account or container cannot vouch for
            it (:class:`NoRulesHolder`).
        :raises RulesUnavailable: when a level's rules cannot be read.
        """
        env, version, account = req.environ, target.version, target.account
        name = swob.wsgi_to_str(account)
        try:
            held = self._rules(env, version, account, None, for_object,
                               on_it=not target.container)
        except NoRulesHolder:
            # The default still bounds a name that is gone: its refusal
            # must not tell whether the account exists.
            yield self.operator.level(name)
            raise
        yield self.operator.level(name, held and held.operator)
        if held is None:
            return
        yield decision.ACCOUNT, held.networks, held.mode
        if not target.container:
            return
        held = self._rules(env, version, account, target.container,
                           for_object, on_it=not target.obj) or NOT_THERE
        yield decision.CONTAINER, held.networks, held.mode
        for name in self.linked_containers(req, target):
            held = self._rules(env, version, account, name, False) or \
                NOT_THERE
            yield ('%s %s' % (decision.CONTAINER, swob.wsgi_to_str(name)),
                   held.networks, held.mode)

    def linked_containers(self, req, target):
        """Other containers whose rules the request must also pass.

        * ``C+segments`` holds the parts of s3api multipart uploads to
          ``C``: the data of ``C``, so ``C``'s rules apply to it.
        * ``X-Versions-Location`` / ``X-History-Location`` make another
          container the archive of this one, and versioned_writes reads and
          writes it with pre-authorised requests that never ask
          ``swift.authorize``: a write here, or setting such a location,
          needs the client to be admitted there too.
        """
        container = target.container
        if container.endswith(MULTIUPLOAD_SUFFIX):
            yield container[:-len(MULTIUPLOAD_SUFFIX)]
        if req.method not in WRITE_METHODS:
            return
        if target.obj:
            found = info(req.environ, self.app, target.version,
                         target.account, container)
            location = found.get('sysmeta', {}).get(
                'versions-location') or found.get('versions')
            locations = [swob.str_to_wsgi(location)] if location else []
        else:
            locations = [req.headers[h] for h in VERSIONS_HEADERS
                         if req.headers.get(h)]
        for location in locations:
            name = swob.wsgi_unquote(location).split('/')[0]
            if name:
                yield name

    def _replica_values(self, env, holder, account, container, carried_on):
        """A ``merge`` for the cache: the values of every primary too.

        :param carried_on: carry them in Swift's cached info of the holder.
        """
        def merge(values, found):
            if not self.replicas.applies(values):
                return values
            try:
                sets = self.replicas.rule_sets(env, holder, found, values,
                                               account, container, carried_on)
            except replicas_mod.NoQuorum as error:
                raise RulesUnavailable('%s replicas: %s' % (
                    'container' if container else 'account', error))
            return replicas_mod.merged(values, sets)
        return merge

    def _rules(self, env, version, account, container, for_object,
               on_it=False):
        """The compiled rules of a holder; ``None`` when it is gone.

        :param on_it: the request is on the holder itself, and Swift
            writes its info again when it answers (a listing, a write):
            what the replicas hold is not carried in it.
        """
        holder = holder_key(account, container)
        in_hand = in_request(env, holder)
        if in_hand is None:
            def read_info():
                return _successful(info(env, self.app, version, account,
                                        container), container, for_object)
        elif _successful(in_hand, container, for_object) is None:
            return None
        else:
            read_info = None  # not called: the info is in hand
        held = self.cache.rules(
            holder, read_info, account=not container,
            merge=self.replicas and self._replica_values(
                env, holder, account, container, not on_it),
            in_hand=in_hand)
        if held is not None and held.bad:
            # Stored before validation existed; the rest still applies.
            self.logger.warning('ip_whitelist: ignoring invalid rule '
                                'entries %s of %s', held.bad, holder)
        return held


def _successful(found, container, for_object):
    """*found*, a holder's info; ``None`` when the holder is gone.

    :raises NoRulesHolder: it is gone and an object is asked for.
    :raises RulesUnavailable: its info is neither found nor gone.
    """
    status = found['status']
    if 200 <= status <= 299:
        return found
    if status in GONE:
        if for_object:
            raise NoRulesHolder('container' if container else 'account')
        return None
    raise RulesUnavailable('%s status %s' % (
        'container' if container else 'account', status))


def holder_key(account, container=None):
    """The string naming an account or container in :class:`RuleCache`.

    Swift's info-cache key (``get_cache_key``), written out for ASCII
    names, whose WSGI and native strings are the same (the format is
    checked at start by :func:`check_swift`).
    """
    if account.isascii() and (container is None or container.isascii()):
        if container:
            return 'container/%s/%s' % (account, container)
        return 'account/%s' % account
    return proxy_base.get_cache_key(swob.wsgi_to_str(account),
                                    container and swob.wsgi_to_str(container))

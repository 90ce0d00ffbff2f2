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

"""
============
IP Whitelist
============

Lets an account, or a container in it, be reached only from the addresses
its owner lists. This is the Operations Guide's ``ip_whitelist`` middleware,
made safe for a production proxy.

-----
Rules
-----

The owner lists addresses or networks in metadata whose name starts with
``allow-``, exactly as in the guide::

    swift post --meta allow-dev:198.51.100.12 mycontainer
    swift post --meta "allow-office:203.0.113.0/24 2001:db8:5::/48" mycont
    swift post --meta allow-vpn:192.0.2.0/28            # on the account
    swift post --meta allow-dev: mycontainer            # removes the rule

A value holds one or more IPv4/IPv6 addresses or CIDR networks, separated by
commas or spaces. A network must be written with its host bits clear
(``10.1.2.3/16`` is refused). A malformed value is answered ``400`` naming
it, and nothing of that request is stored.

Only the owner (``swift_owner``: a tempauth ``.admin``, a keystone operator
role, a reseller admin) may set or remove rules, delete an account or
container that holds rules, or make another container the archive of a
container that holds rules (``X-Versions-Location``,
``X-History-Location``: every overwrite copies the old data there);
anybody else, including a user given write access through an ACL, gets
``403``. The owner's side of the rules
(translation, validation, counting, display) is
``openstack_ext.swift.rule_api``. Rules are stored as
system metadata (``X-Container-Sysmeta-Ip-Whitelist-Allow-*``,
``X-Account-Sysmeta-Ip-Whitelist-Allow-*``), which clients cannot write by
any other route; the owner sees them back as ``X-Container-Meta-Allow-*``
(``X-Account-Meta-Allow-*``). Plain ``X-Container-Meta-Allow-*`` metadata
left by the guide's 2013 middleware still counts, so upgrading keeps old
containers protected; the owner's next write of that rule moves it.

--------
Decision
--------

The rules form a perimeter: the account's rules bound the whole account,
its own requests included (``HEAD``, ``GET``, ``POST``, ``PUT`` and
``DELETE`` on ``/v1/<account>``), and a container's rules narrow within
them. A request for an account, a container or an object passes when the
client address is

1. in ``always_allow``, or
2. listed by every level that has rules: the account's rules (if it has
   any) and, below the account, the container's rules (if it has any).

A level without rules imposes nothing; a container's rules cannot open
what its account's rules close (``openstack-ext check-rule
--account-rule`` shows which networks of a container rule that leaves
out). When neither the container nor its account has a rule, a container
or object request passes unless ``deny_without_rules`` is set (the
guide's strict mode); an account request then passes. Otherwise the
answer is ``403`` with ``deny_message``.

=============  ===============  ===============  ========================
Account rules  Container rules  Client in        Container or object
                                                 request
=============  ===============  ===============  ========================
none           none             (anybody)        passes (``403`` with
                                                 ``deny_without_rules``)
``A``          none             ``A``            passes
none           ``C``            ``C``            passes
``A``          ``C``            ``A`` and ``C``  passes
``A``          ``C``            ``C`` only       ``403``
``A``          ``C``            ``A`` only       ``403``
=============  ===============  ===============  ========================

Changing the rules goes through the perimeter too. A rule write or
removal, and the ``DELETE`` of an account or container that holds rules
(which removes them), must pass the rules in force and be made by the
owner: anybody else gets ``403``, however the auth middleware would
otherwise let them write or delete. The ``DELETE`` of an account that
still holds containers (a reseller admin's, with
``allow_account_management``) would hand their rules and data to the
account reaper, and the request names none of them: it is accepted only
from an ``always_allow`` address.

Requests that name no account (``/info``, auth, healthcheck) pass
untouched. When the rules cannot be read (account or container servers
failing), the answer is ``503``: never the data.

The rule holds on every path to the data: the check runs on the request
itself (an object read where the proxy first asks ``swift.authorize``, see
`How fast it takes`_) and, by wrapping ``swift.authorize``, on every
subrequest made for it (SLO and DLO segments, COPY and ``X-Copy-From``
sources, versioned writes, symlink targets), judged by the original
client's address.
tempurl, formpost, staticweb, public-read ACLs and s3api cannot skip it.
A write to a container whose old versions go to another container
(``X-Versions-Location``, ``X-History-Location``), and setting such a
location, also needs the client to be admitted by that container.

--------------
Client address
--------------

The client is ``REMOTE_ADDR``. ``X-Forwarded-For`` is believed only when
the direct peer is in ``trusted_proxies``, walking the header right to left
while the hops are trusted. A request that an ``always_allow`` address
forwards (it carries ``X-Forwarded-For``) without being in
``trusted_proxies`` gets what an unknown client gets, and the proxy logs a
warning once: a TLS terminator on the proxy host would otherwise make
every client look like the always-allowed ``127.0.0.1``. IPv4-mapped
IPv6 (``::ffff:192.0.2.1``, what a proxy bound to ``::`` sees) and
``%scope`` are normalised. An address that does not parse is denied.

-------------
Configuration
-------------

================== ========= ==============================================
Option             Default   Description
------------------ --------- ----------------------------------------------
deny_message       IP Denied Body of the ``403`` answer.
always_allow       auto      Addresses and networks always allowed.
                             ``auto`` is the proxy host's own interface
                             addresses plus 127.0.0.1 and ::1 (not the rest
                             of 127.0.0.0/8); combine: ``auto, 192.0.2.0/24``.
                             Empty: nobody is always allowed.
trusted_proxies    (none)    Load balancers / TLS terminators whose
                             ``X-Forwarded-For`` is believed.
deny_without_rules false     ``true``: a container with no rule (and whose
                             account has none) is closed to everybody but
                             ``always_allow``.
max_rules          1000      Networks the rules of one account, or of one
                             container, may list in all: an owner's write
                             that would go over is refused (``400``);
                             removals are always accepted. Rule names
                             are bounded apart: at most half of Swift's
                             ``MAX_HEADER_COUNT`` (63 by default) each.
rules_cache_time   0         Seconds each proxy process keeps the compiled
                             rules of an account or container it has read,
                             reading no info for them meanwhile, for
                             requests on accounts and containers, writes,
                             and object reads whose account info nothing
                             else has read (see `How fast it takes`_).
                             Delays changes made through other proxies
                             and workers by as much.
================== ========= ==============================================

A bad address or network in ``always_allow`` or ``trusted_proxies``, or a
``max_rules`` that is not a whole number of at least 1, or a
``rules_cache_time`` that is not a number of seconds (0 or more), stops
the proxy at start with the option and the value named.

The filter goes after the auth middleware (and after tempurl and s3api,
which sit before auth): auth sets ``swift.authorize``, which the filter
wraps. The middleware that make subrequests go after it, or they lose the
client's address and their requests to containers with rules are refused.
Both lists, and why, are in :mod:`openstack_ext.swift.pipeline`: this
filter's start-up check, ``openstack-ext check-proxy-pipeline`` (which
prints the corrected line) and the DevStack plugin all take them from
there. A placement that would let requests skip the filter stops the proxy
at start::

    [pipeline:main]
    pipeline = catch_errors gatekeeper healthcheck proxy-logging cache
               listing_formats tempurl ratelimit s3api authtoken
               keystoneauth ip_whitelist bulk formpost staticweb copy
               container-quotas account-quotas slo dlo versioned_writes
               symlink proxy-logging proxy-server

    [filter:ip_whitelist]
    use = egg:openstack_ext#ip_whitelist
    deny_message = You shall not pass!
    # always_allow = auto
    # trusted_proxies = 192.0.2.10
    # deny_without_rules = false
    # max_rules = 1000
    # rules_cache_time = 0

-----------------
How fast it takes
-----------------

Where it judges. An object ``GET`` or ``HEAD`` is judged when the proxy
first asks ``swift.authorize``. To choose the object controller (the
storage policy) the proxy has by then read the container's info into the
request's info cache, and with it the account's (read by ``ratelimit``,
or by the proxy when it read the container's afresh); the filter reads
both from there, with no look-up (nor copy of the info) of its own. A
read answered without that question (by the proxy before its
controller, or by a middleware to the right that reads with its own
authority) is judged as soon as the app returns, before any of its
answer leaves; a read refused there stays refused when the proxy asks
again. Writes, requests on accounts and containers, and object paths
that are not plain ASCII are judged before the next middleware runs: the
middleware to the right act on them before the proxy asks.

What it costs. Each distinct rule set is parsed once and kept, within a
fixed budget of networks per proxy process. An account or container
whose metadata equals what was read for it last time (a copy is kept,
within a budget of its own) gets its compiled rules back after two
dictionary comparisons, and an address is looked for in them by one
bisection over their merged address ranges, however many there are (a
large set remembers the answers for its last 16 addresses).
Without ``ratelimit`` the account's info is not in the request when the
container's came from memcache, and the account's rules then cost one
memcache read per object read (as they do for every request on an
account or container); ``rules_cache_time`` saves it. Counted
(``benchmarks/swift_calls.py``: Python bytecodes executed per object
``GET`` or ``HEAD``, pipelines loaded in-process against real servers;
the proxy alone executes some 75,000-85,000), the filter adds about 640
(0.8 %) at 200 rules and 700 at 1,000, and about 2,640 (3.4 %) without
``ratelimit``. In a running proxy, though, most of the cost is memory
traffic: the filter's code and data have left the CPU caches by the next
request, and an object read costs 9 to 14 times what it costs warm
(``benchmarks/swift_cold.py``). Throughput is measured by
``benchmarks/swift_throughput.py``; the latest figures, with their
controls, are in the project's README and ``doc/source/benchmarks.rst``.

Changes. A change made through one proxy is seen there at once; other
proxies may use the old rules until their cached info expires:
``recheck_container_existence`` / ``recheck_account_existence`` seconds
(60 by default) in ``[app:proxy-server]``. With ``rules_cache_time`` set,
each proxy process also keeps the compiled rules of every account and
container it reads, and reads no info for them meanwhile, for every
request but the object reads judged at the proxy's question with both
infos at hand (above); that leaves requests on accounts and containers,
writes, and reads whose account info it had to read itself. A change is
still applied at once by the process that handled it, but another
worker or proxy may apply it up to
``rules_cache_time`` seconds later, on top of Swift's own cache. Leave it
at ``0`` where a rule that is removed (an address no longer trusted) must
stop working everywhere at once.

Each denial is logged at info level (client, account, container) and
counted as the ``ip_whitelist.denied`` metric; unreadable rules count as
``ip_whitelist.unavailable``.
"""

import collections
import functools
import logging
import math

from swift.common import constraints
from swift.common.http import is_success
from swift.common.middleware.s3api.utils import MULTIUPLOAD_SUFFIX
from swift.common.registry import register_swift_info
from swift.common.request_helpers import get_sys_meta_prefix
from swift.common import swob
from swift.common import utils
from swift.common.wsgi import make_pre_authed_request
from swift.proxy.controllers import base as proxy_base

from openstack_ext import addresses
from openstack_ext.swift.local_addresses import local_addresses
from openstack_ext.swift import pipeline
from openstack_ext.swift import rule_api
from openstack_ext.swift import rules

RULE_PREFIX = rules.RULE_PREFIX
SYSMETA_PREFIX = rules.SYSMETA_PREFIX
SWIFT_SOURCE = 'IPW'
GONE = (404, 410)  # no such account or container (any more)
WRITE_METHODS = ('PUT', 'POST', 'DELETE', 'COPY')
# What may change rules or the holders of rules (see owner_denial).
OWNER_METHODS = ('PUT', 'POST', 'DELETE')
VERSIONS_HEADERS = ('X-Versions-Location', 'X-History-Location')
# What versioned_writes (after this filter) turns them into, by the time
# swift.authorize is asked.
VERSIONS_SYSMETA = get_sys_meta_prefix('container') + 'versions-location'
# Networks one account or container may list: bounds what a request for it
# costs (parsing 1,000 networks takes ~11 ms, once per rule set and proxy).
DEFAULT_MAX_RULES = 1000
# The path whose request was admitted, in that request's environment.
JUDGED_PATH = 'openstack_ext.ip_whitelist.judged_path'
# An object read judged at the proxy's swift.authorize call (see
# IPWhitelistMiddleware._object_read): its path, and the refusal it got
# there. One key while it is pending: every key of the environment costs
# a test each time a middleware or the proxy lists the request's headers.
PENDING_PATH = 'openstack_ext.ip_whitelist.pending_path'
REFUSAL = 'openstack_ext.ip_whitelist.refusal'
# What refused a request (see refusal()).
ACCOUNT_RULES, CONTAINER_RULES, NO_RULES = 'account', 'container', 'none'

Options = collections.namedtuple('Options', 'always_allow deny_without_rules')


def refusal(client, account_rules, container_rules, options, container=True):
    """The decision: what refuses *client*, or ``None`` when it passes.

    A pure function of its arguments, so that it can be asked wherever the
    rules are at hand.

    :param client: the client's address, ``None`` when it is unknown.
    :param account_rules: the account's compiled rules (a ``NetworkSet``),
        ``None`` when the account has no rule.
    :param container_rules: the same for the container.
    :param options: :class:`Options`.
    :param container: ``False`` for a request on the account itself, which
        ``deny_without_rules`` does not close.
    :returns: :data:`ACCOUNT_RULES` or :data:`CONTAINER_RULES` (the level
        whose rules do not list the client), :data:`NO_RULES` (neither
        level has a rule and ``deny_without_rules`` is set), or ``None``.
    """
    if client is not None and client in options.always_allow:
        return None
    return rules_refusal(client, account_rules, container_rules,
                         options.deny_without_rules, container)


def rules_refusal(client, account_rules, container_rules, deny_without_rules,
                  container=True):
    """:func:`refusal` for a client known not to be in ``always_allow``."""
    if account_rules is None and container_rules is None:
        return NO_RULES if container and deny_without_rules else None
    # Every level that has rules must list the client: the account's
    # rules bound all of it, a container's narrow within them.
    if account_rules is not None and (client is None
                                      or client not in account_rules):
        return ACCOUNT_RULES
    if container_rules is not None and (client is None
                                        or client not in container_rules):
        return CONTAINER_RULES
    return None


@functools.lru_cache(maxsize=4096)
def _info_keys(account, container):
    """Swift's info-cache keys of an account and of a container in it.

    Also what names the holder of the rules in :data:`rules.compile_rules`
    and :class:`rules.KeptRules`. Kept: the same strings each time, their
    hashes computed once.
    """
    return (proxy_base.get_cache_key(account),
            proxy_base.get_cache_key(account, container))


def _object_parts(path):
    """``(version, account, container, object)`` of an object read's path.

    For a path :meth:`IPWhitelistMiddleware._object_read` accepted.
    """
    return tuple(path.split('/', 4)[1:])


class RulesUnavailable(Exception):
    """The rules of a container or account could not be read."""


class NoRulesHolder(Exception):
    """An object request names an account or container that is gone."""


def _parse_address_list(option, text):
    """Parse an option's list of networks, naming the option when bad."""
    networks = []
    for entry in addresses.split_list(text):
        if entry == 'auto' and option == 'always_allow':
            networks.extend(addresses.parse_network(str(a))
                            for a in local_addresses())
            continue
        try:
            networks.append(addresses.parse_network(entry))
        except ValueError as error:
            raise ValueError('ip_whitelist: invalid %s value: %s'
                             % (option, error))
    return addresses.NetworkSet(networks)


def _parse_max_rules(conf):
    text = conf.get('max_rules', DEFAULT_MAX_RULES)
    try:
        return utils.config_positive_int_value(text)
    except ValueError:
        raise ValueError('ip_whitelist: invalid max_rules value: %r (a whole '
                         'number of at least 1)' % (text,))


def _parse_rules_cache_time(conf):
    text = conf.get('rules_cache_time', 0)
    try:
        seconds = utils.config_float_value(text, minimum=0)
    except ValueError:
        seconds = None
    if seconds is None or not math.isfinite(seconds):
        raise ValueError('ip_whitelist: invalid rules_cache_time value: %r '
                         '(seconds, 0 or more)' % (text,))
    return seconds


def _forbidden(req, body):
    return swob.HTTPForbidden(request=req, content_type='text/plain',
                              body=body)


def _unavailable(req, body='IP whitelist rules are unavailable'):
    return swob.HTTPServiceUnavailable(request=req, content_type='text/plain',
                                       body=body)


class IPCheckingAuthorize(object):
    """``swift.authorize`` that also applies the IP rules.

    Subrequests inherit ``swift.authorize``, and with it the original
    client's address, which their own environment no longer has.
    """

    __slots__ = ('whitelist', 'client', 'authorize')  # one per request

    def __init__(self, whitelist, client, authorize):
        self.whitelist = whitelist
        self.client = client
        self.authorize = authorize

    def __call__(self, req):
        env = req.environ
        path = env.get('PATH_INFO')
        denial = None
        if env.get(PENDING_PATH) == path:
            # The object read left to be judged here: once refused,
            # refused again each time the proxy asks (delay_denial), and
            # judged, logged and counted once.
            denial = env.get(REFUSAL)
            if denial is None:
                denial = self.whitelist.judge_read(req, self.client, path)
            if denial is not None:
                env[REFUSAL] = denial
                return denial
            del env[PENDING_PATH]
            env[JUDGED_PATH] = path
        elif env.get(JUDGED_PATH) != path:
            denial = self.whitelist.check(req, self.client)
        if denial is None and self.authorize is not None:
            denial = self.authorize(req)
        if denial is None and env.get('REQUEST_METHOD') in OWNER_METHODS:
            # Auth has said who the requester is (swift_owner).
            denial = self.whitelist.owner_denial(req, self.client)
        return denial


class IPWhitelistMiddleware(object):
    """Allow an account or container to be reached only from listed IPs."""

    def __init__(self, app, conf, logger=None):
        self.app = app
        self.logger = logger or utils.get_logger(
            conf, log_route='ip_whitelist', statsd_tail_prefix='ip_whitelist')
        self.deny_message = conf.get('deny_message', 'IP Denied')
        self.options = Options(
            always_allow=_parse_address_list(
                'always_allow', conf.get('always_allow', 'auto')),
            deny_without_rules=utils.config_true_value(
                conf.get('deny_without_rules', 'false')))
        self.always_allow = self.options.always_allow  # read on every call
        self.trusted_proxies = _parse_address_list(
            'trusted_proxies', conf.get('trusted_proxies', ''))
        # The same clients return: a direct peer's address is parsed and
        # looked up in always_allow once.
        self._peer = functools.lru_cache(maxsize=4096)(self._peer_uncached)
        self.max_rules = _parse_max_rules(conf)
        seconds = _parse_rules_cache_time(conf)
        self.kept_rules = rules.KeptRules(seconds) if seconds else None
        # Asked once: the debug lines cost a call each on every request.
        self.debug = self.logger.isEnabledFor(logging.DEBUG)
        self.misplaced = None
        self._pipeline_checked = False
        self._warned_forwarders = set()
        if app is not None:
            # What can be seen of the pipeline now: a bad placement stops
            # the proxy at start.
            errors, _warnings = pipeline.check_running_pipeline(app)
            if errors:
                raise ValueError('ip_whitelist: ' + '; '.join(errors))

    deny_without_rules = property(
        lambda self: self.options.deny_without_rules)

    def _check_loaded_pipeline(self):
        """Check the whole pipeline, which Swift lists once it is loaded.

        Catches what the start-up check cannot see past (a middleware that
        keeps its next app in an unusual attribute): requests that the rules
        would judge are then refused.
        """
        self._pipeline_checked = True
        apps = getattr(self, '_pipeline', None)
        if not apps:
            return  # not loaded by Swift's loadapp
        errors, warnings = pipeline.check_loaded_pipeline(apps, self)
        for warning in warnings:
            self.logger.warning('ip_whitelist: %s', warning)
        if errors:
            self.misplaced = '; '.join(errors)
            self.logger.error('ip_whitelist: %s: refusing every account, '
                              'container and object request', self.misplaced)

    def _own_authorize(self, env):
        """This filter's ``swift.authorize`` in ``env``, or ``None``."""
        authorize = env.get('swift.authorize')
        if isinstance(authorize, IPCheckingAuthorize) \
                and authorize.whitelist is self:
            return authorize
        return None

    def client_address(self, env):
        """The original client's address, or ``None`` if it is unknown."""
        return self._client(env, self._own_authorize(env))[0]

    def _client(self, env, authorize):
        """``(client address or None, whether always_allow lists it)``.

        :param authorize: :meth:`_own_authorize` of ``env``.
        """
        if authorize is not None:
            client = authorize.client  # a subrequest of a request we saw
        else:
            forwarded_for = env.get('HTTP_X_FORWARDED_FOR')
            peer = env.get('REMOTE_ADDR')
            if not forwarded_for:
                if isinstance(peer, str):
                    return self._peer(peer)
                return self._peer_uncached(peer)  # not a key: refused
            client = addresses.forwarded_client(
                peer, forwarded_for, self.trusted_proxies)
            if client is not None and \
                    client not in self.trusted_proxies and \
                    client in self.always_allow and \
                    client == addresses.parse_address(peer):
                # The peer itself, an address of ours, forwards for
                # somebody else (a TLS terminator on the proxy host that
                # trusted_proxies does not list): always allowing it would
                # open every container to its clients.
                self._warn_untrusted_forwarder(client)
                return None, False
        return client, client is not None and client in self.always_allow

    def _peer_uncached(self, remote_addr):
        client = addresses.forwarded_client(remote_addr, None,
                                            self.trusted_proxies)
        return client, client is not None and client in self.always_allow

    def _warn_untrusted_forwarder(self, peer):
        if peer not in self._warned_forwarders:
            self._warned_forwarders.add(peer)
            self.logger.warning(
                'ip_whitelist: %s, in always_allow, forwards requests '
                '(X-Forwarded-For) but is not in trusted_proxies: its '
                'requests get what an unknown client gets; list it in '
                'trusted_proxies if it is a proxy of yours', peer)

    # -- reading the rules ------------------------------------------------

    def rules(self, env, for_object=False):
        """The rules in force on the account or container of ``env``'s path.

        :param for_object: the request reads or writes an object, which
            object servers serve whatever the account and container
            databases say: a gone account or container cannot vouch for it.
        :returns: a :class:`rules.Perimeter`.
        :raises RulesUnavailable: when they cannot be read.
        :raises NoRulesHolder: an object request in a gone account or
            container.
        """
        names = self._names(env)
        account_rules = self._level_rules(env, names, True, for_object)
        if account_rules is rules.MISSING:
            return rules.NO_PERIMETER  # no account: Swift answers 404
        container_rules = None
        if names[1]:
            container_rules = self._level_rules(env, names, False,
                                                for_object)
            if container_rules is rules.MISSING:
                container_rules = None  # being created, or Swift's 404
        return rules.Perimeter((account_rules, container_rules))

    def _level_rules(self, env, names, account, for_object):
        """The compiled rules of the account or of the container of *names*.

        Kept for ``rules_cache_time`` when it is set.

        :returns: a ``NetworkSet``, ``None`` when that level has no rule, or
            :data:`rules.MISSING` when it does not exist.
        :raises: as :meth:`rules`.
        """
        holder = _info_keys(*names)[0 if account else 1]
        kept = self.kept_rules
        if kept is not None:
            networks = kept.get(holder)
            if networks is not rules.MISSING:
                return networks
            read_at = kept.now()
        values = self._info_rules(self._info(env, account, names),
                                  'account' if account else 'container',
                                  for_object)
        if values is None:
            return rules.MISSING
        networks = self._compiled(values, env, holder) if values else None
        if kept is not None:
            kept.keep(holder, networks, read_at)
        return networks

    def _compiled(self, values, env, holder=None):
        networks, bad = rules.compile_rules(tuple(values), holder)
        if bad:
            self._warn_invalid(bad, env)
        return networks

    def _warn_invalid(self, bad, env):
        # Stored before validation existed; the rest still applies.
        self.logger.warning('ip_whitelist: ignoring invalid rule entries %s '
                            'for %s', bad, env['PATH_INFO'])

    @staticmethod
    def _names(env):
        """``(account, container)`` of ``env``'s path, as native strings."""
        _version, account, container, _obj = utils.split_path(
            env['PATH_INFO'], 2, 4, True)
        return (swob.wsgi_to_str(account),
                container and swob.wsgi_to_str(container))

    def _info(self, env, account=False, names=None):
        """Account or container info of ``env``'s path, only to read.

        From Swift's per-request cache when it is there: ``get_*_info``
        would deep-copy it on every call, the largest cost of a decision.
        """
        key = _info_keys(*(names or self._names(env)))[0 if account else 1]
        info = env.get('swift.infocache', {}).get(key)
        if info is not None:
            return info
        if account:
            return proxy_base.get_account_info(
                env, self.app, swift_source=SWIFT_SOURCE)
        return proxy_base.get_container_info(
            env, self.app, swift_source=SWIFT_SOURCE)

    @staticmethod
    def _info_rules(info, kind, for_object):
        """Rule values of an info dict; ``None`` when it does not exist."""
        status = info['status']
        if is_success(status):
            return rules.rule_values(info)
        if status in GONE:
            if for_object:
                raise NoRulesHolder(kind)
            return None
        raise RulesUnavailable('%s status %s' % (kind, status))

    # -- judging a request --------------------------------------------------

    def _refusal(self, env, client, container, for_object=False):
        """:func:`refusal` for the account or container of ``env``'s path.

        For a client :meth:`check` found outside ``always_allow``.

        :raises: as :meth:`rules`.
        """
        perimeter = self.rules(env, for_object)
        if self.debug:
            self.logger.debug('Allow IPs: %s', perimeter)
        account_rules, container_rules = perimeter
        return rules_refusal(client, account_rules, container_rules,
                             self.options.deny_without_rules, container)

    def _linked_containers(self, req, version, account, container, obj):
        """Other containers whose rules this request must also pass.

        * ``C+segments`` holds the parts of s3api multipart uploads to
          ``C``: the data of ``C``, so ``C``'s rules apply to it.
        * ``X-Versions-Location`` / ``X-History-Location`` make another
          container the archive of this one, and versioned_writes reads and
          writes it with pre-authorised requests that never ask
          ``swift.authorize``: a write here, or setting such a location,
          needs the client to be admitted there too.
        """
        names = []
        if container.endswith(MULTIUPLOAD_SUFFIX):
            names.append(container[:-len(MULTIUPLOAD_SUFFIX)])
        if req.method in WRITE_METHODS:
            if obj:
                info = self._info(req.environ)
                location = info.get('sysmeta', {}).get(
                    'versions-location') or info.get('versions')
                locations = [swob.str_to_wsgi(location)] if location else []
            else:
                locations = [req.headers[h] for h in VERSIONS_HEADERS
                             if req.headers.get(h)]
            names.extend(swob.wsgi_unquote(location).split('/')[0]
                         for location in locations)
        envs = []
        for name in names:
            if name:
                env = dict(req.environ)
                env['PATH_INFO'] = '/%s/%s/%s' % (version, account, name)
                envs.append((name, env))
        return envs

    @staticmethod
    def _invalid_path(req):
        """The proxy's own answer to a path the backends would refuse.

        Checked before the rules: the info lookup reports a refused path
        as 503, which would read as rules being unavailable.
        """
        path = req.path_info
        if path.isascii() and '\x00' not in path:
            return None  # valid UTF-8, no reserved byte: the usual case
        try:
            valid = constraints.check_utf8(swob.wsgi_to_str(path),
                                           internal=req.allow_reserved_names)
        except UnicodeError:
            valid = False
        if not valid:
            return swob.HTTPPreconditionFailed(
                request=req, body='Invalid UTF8 or contains NULL')
        return None

    def check(self, req, client):
        """Return a denial for ``req`` from ``client``, or ``None``."""
        try:
            version, account, container, obj = req.split_path(1, 4, True)
        except ValueError:
            return None
        if not account or not constraints.valid_api_version(version):
            return None  # /info, auth, healthcheck...
        invalid = self._invalid_path(req)
        if invalid is not None:
            return invalid
        if self.misplaced:
            return _unavailable(
                req, 'ip_whitelist is misplaced in the proxy pipeline')
        if self.debug:
            self.logger.debug('Remote IP: %s', client)
        if client is not None and client in self.always_allow:
            return None  # as refusal() says, without reading the rules
        return self.judge(req, client, (version, account, container, obj))

    def judge(self, req, client, parts):
        """:meth:`check` past its preliminaries, done by the caller.

        :param parts: ``req``'s path split, ``(version, account, container,
            object)``: an API path, valid, for a client outside
            ``always_allow``, in a pipeline that is not misplaced.
        """
        version, account, container, obj = parts
        try:
            refused_by = self._refusal(req.environ, client, container,
                                       bool(obj))
            denied = container
            if refused_by is None and container:
                for name, env in self._linked_containers(
                        req, version, account, container, obj):
                    refused_by = self._refusal(env, client, name)
                    if refused_by is not None:
                        denied = name
                        break
        except NoRulesHolder as gone:
            self.logger.info('ip_whitelist: no %s for %s: refusing the '
                             'object request', gone, req.path)
            return swob.HTTPNotFound(request=req)
        except RulesUnavailable as error:
            self.logger.error('ip_whitelist: cannot read rules for '
                              'Account=%s Container=%s (%s): refusing',
                              account, container, error)
            self.logger.increment('unavailable')
            return _unavailable(req)
        if refused_by is None:
            return None
        return self._refused(req, client, account, denied, refused_by)

    def judge_read(self, req, client, path):
        """:meth:`judge` for an object read, from the info the proxy read.

        By its first ``swift.authorize`` question the proxy has put the
        account's and the container's info in the request's info cache (to
        choose the storage policy): the rules are read from there, and a
        holder whose metadata is unchanged gets its compiled set back
        (:meth:`rules.CompiledRules.of_info`). Anything else (an info not
        there, a gone or failing account or container, a ``+segments``
        container) is left to :meth:`judge`.

        :param path: an object path, ASCII (its names are then native
            strings already), that :meth:`_object_read` accepted.
        """
        env = req.environ
        _, _version, account, container, _obj = path.split('/', 4)
        infocache = env.get('swift.infocache')
        if not infocache or container.endswith(MULTIUPLOAD_SUFFIX) or \
                env.get('REQUEST_METHOD') not in ('GET', 'HEAD'):
            # A middleware to the right may ask about a write on the read's
            # path: that one needs judge()'s linked containers.
            return self.judge(req, client, _object_parts(path))
        account_key, container_key = _info_keys(account, container)
        account_info = infocache.get(account_key)
        container_info = infocache.get(container_key)
        # is_success() of both statuses, inlined: asked on every read.
        if account_info is None or container_info is None or \
                not 200 <= account_info['status'] <= 299 or \
                not 200 <= container_info['status'] <= 299:
            return self.judge(req, client, _object_parts(path))
        account_rules, bad = rules.compile_rules.of_info(
            account_key, account_info)
        container_rules, container_bad = rules.compile_rules.of_info(
            container_key, container_info)
        if bad or container_bad:
            self._warn_invalid(bad + container_bad, env)
        if self.debug:
            self.logger.debug('Allow IPs: %s', rules.Perimeter(
                (account_rules, container_rules)))
        refused_by = rules_refusal(client, account_rules, container_rules,
                                   self.options.deny_without_rules)
        if refused_by is None:
            return None
        return self._refused(req, client, account, container, refused_by)

    def _refused(self, req, client, account, container, refused_by):
        self.logger.info('ip_whitelist: IP %s denied access to Account=%s '
                         'Container=%s (%s rules)', client, account, container,
                         refused_by)
        self.logger.increment('denied')
        return _forbidden(req, self.deny_message)

    # -- the owner's rights ---------------------------------------------------

    def owner_denial(self, req, client):
        """Refuse what only the owner may do, once auth knows the requester.

        Writing or removing a rule, deleting an account or container that
        holds rules (which removes them), and making another container the
        archive of a container with rules (``X-Versions-Location``,
        ``X-History-Location``: every overwrite copies the old data there)
        are the owner's alone; an owner's rule write must also stay within
        ``max_rules``. Deleting an account that still holds containers,
        whose rules the request does not name, is left to ``always_allow``.
        """
        if req.method not in OWNER_METHODS:
            return None  # reads (most requests) neither write nor delete
        if req.method == 'DELETE' and \
                rule_api.holder_kind(req) == 'account' and \
                not (client is not None and client in self.always_allow) and \
                self._holds_containers(req):
            self.logger.info('ip_whitelist: %s refused on %s: the account '
                             'still holds containers', client, req.path)
            return _forbidden(req, 'An account that holds containers can '
                              'be deleted only from an always_allow address')
        changes = rule_api.changes_rules(req)
        if changes:
            refused = 'Only the owner can change allow-* rules'
        elif req.method == 'DELETE' and self._holds_rules(req):
            refused = 'Only the owner can delete what holds allow-* rules'
        elif req.method in ('PUT', 'POST') and any(
                req.headers.get(h) for h in VERSIONS_HEADERS +
                (VERSIONS_SYSMETA,)) and \
                self._holds_rules(req, only_container=True):
            refused = ('Only the owner can send the versions of what holds '
                       'allow-* rules elsewhere')
        else:
            return None
        if not req.environ.get('swift_owner'):
            self.logger.info('ip_whitelist: non-owner %s refused on %s: %s',
                             req.remote_user, req.path, refused)
            return _forbidden(req, refused)
        return self.rule_count_denial(req) if changes else None

    def _holds_rules(self, req, only_container=False):
        """Whether ``req`` names an account or container that holds rules."""
        kind = rule_api.holder_kind(req)
        if kind is None or only_container and kind != 'container':
            return False
        info = self._info(req.environ, kind == 'account')
        if is_success(info['status']):
            return bool(rules.rule_values(info))
        if info['status'] in GONE:
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
            swift_source=SWIFT_SOURCE).get_response(self.app)
        if resp.status_int in GONE:
            return False
        if not is_success(resp.status_int):
            return True
        try:
            return int(resp.headers.get('X-Account-Container-Count')) > 0
        except (TypeError, ValueError):
            return True

    def rule_count_denial(self, req):
        """A ``400`` if the owner's rule write would exceed ``max_rules``.

        Counted over what is stored plus the (translated) request, once the
        requester is known to be the owner: nobody else learns how many
        rules there are.
        """
        kind = rule_api.writable_kind(req)
        writes = rule_api.written_rules(req)
        if not any(writes.values()):
            return None
        names = self._names(req.environ)
        info = self._info(req.environ, kind == 'account', names)
        if is_success(info['status']):
            stored = rules.stored_rules(info)
        elif info['status'] in GONE or self._info(
                req.environ, True, names)['status'] in GONE:
            stored = {}  # being created, or Swift answers 404
        else:
            self.logger.error('ip_whitelist: cannot count the rules of %s '
                              '(%s status %s): refusing the write',
                              req.path, kind, info['status'])
            return _unavailable(req)
        error = rule_api.count_error(kind, stored, writes, self.max_rules)
        if error is None:
            return None
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return swob.HTTPBadRequest(request=req, body=error,
                                   content_type='text/plain')

    def _translate_rule_writes(self, req):
        """A ``400`` naming a malformed rule write, else ``None``."""
        error = rule_api.translate_rule_writes(req)
        if error is None:
            return None
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return swob.HTTPBadRequest(request=req, body=error,
                                   content_type='text/plain')

    # -- the request ----------------------------------------------------------

    def _object_read(self, env, client):
        """Whether ``env`` is an object read judged at the proxy's question.

        ``False`` for a request judged ahead (by :meth:`check`).

        Object GET and HEAD: to choose the object controller (the storage
        policy) the proxy reads the container's info into the request's
        info cache before it first asks, so the rules are read from there,
        not looked up (and deep-copied) once more ahead of the proxy. A read
        changes nothing, so one answered without that question is judged
        before its answer leaves (:meth:`_judged_answer`). Writes, requests
        on accounts and containers, and paths that are not plain ASCII
        (which :meth:`check` validates) are judged ahead of the proxy: the
        middleware to the right act on them before the proxy asks.
        """
        if env.get('REQUEST_METHOD') not in ('GET', 'HEAD') or \
                self.misplaced:
            return False
        path = env.get('PATH_INFO')
        if not path or not path.isascii() or '\x00' in path:
            return False
        # utils.split_path(path, 4, 4, True), inlined: asked on every
        # request. /<version>/<account>/<container>/<object>, none empty.
        segments = path.split('/', 4)
        if len(segments) != 5 or segments[0] or not (
                segments[1] and segments[2] and segments[3] and segments[4]
        ) or not constraints.valid_api_version(segments[1]):
            return False
        if self.debug:
            self.logger.debug('Remote IP: %s', client)
        return True

    def _judged_answer(self, env, client, start_response):
        """The app's answer to an object read, once the read is judged.

        Judged and admitted when the proxy asked (nearly always), the
        answer goes out untouched. Otherwise (refused then, or answered
        without the question: by the proxy before its controller, or by a
        middleware to the right) the read is judged as soon as the app
        returns, before one byte leaves; a status and headers the app
        gave meanwhile are held until then.
        """
        path, method = env['PATH_INFO'], env['REQUEST_METHOD']
        held = []

        def judged_start_response(status, headers, exc_info=None):
            if env.get(PENDING_PATH) == path:
                held[:] = [(status, headers, exc_info)]
                return None  # as Swift's WSGIContext: no write()
            return start_response(status, headers, exc_info)

        app_iter = self.app(env, judged_start_response)
        if env.get(PENDING_PATH) != path:
            if held:  # started, then asked: judged and admitted since
                start_response(*held[0])
            return app_iter
        # An answer started lazily (as proxy-logging to the right starts
        # it, when its first chunk is asked for) starts after this.
        del env[PENDING_PATH]
        denial = env.get(REFUSAL)
        if denial is None:
            denial = self.judge(swob.Request(dict(
                env, PATH_INFO=path, REQUEST_METHOD=method)), client,
                _object_parts(path))
        if denial is not None:
            utils.close_if_possible(app_iter)
            return denial(env, start_response)
        if held:
            start_response(*held[0])
        return app_iter

    def _forget_kept_rules(self, req, app_iter):
        """After a write on an account or container, read its rules anew."""
        kind = rule_api.holder_kind(req)
        if kind is not None:
            names = self._names(req.environ)
            holder = _info_keys(*names)[0 if kind == 'account' else 1]
            # The proxy has written to the backend and cleared Swift's info
            # cache: this process reads the change from now on.
            self.kept_rules.forget(holder)
        return app_iter

    def __call__(self, env, start_response):
        if not self._pipeline_checked:
            self._check_loaded_pipeline()
        authorize = self._own_authorize(env)
        client, always_allowed = self._client(env, authorize)
        # always_allow: check() passes it without reading the rules.
        read = not always_allowed and self._object_read(env, client)
        if read:
            env[PENDING_PATH] = env['PATH_INFO']
        else:
            req = swob.Request(env)
            denial = self.check(req, client) or \
                self._translate_rule_writes(req)
            if denial is not None:
                return denial(env, start_response)
            # Subrequests get environments of their own, without this mark.
            env[JUDGED_PATH] = env.get('PATH_INFO')
        if authorize is None:
            env['swift.authorize'] = IPCheckingAuthorize(
                self, client, env.get('swift.authorize'))
        if read:
            return self._judged_answer(env, client, start_response)
        if self.kept_rules is not None and req.method in WRITE_METHODS:
            return self._forget_kept_rules(req, self.app(env, start_response))
        if req.method in ('GET', 'HEAD') and \
                rule_api.may_hold_rules(env['PATH_INFO']):
            start_response = rule_api.show_to_owner(env, start_response)
        return self.app(env, start_response)


def filter_factory(global_conf, **local_conf):
    """paste.deploy filter factory for the ``ip_whitelist`` middleware."""
    conf = global_conf.copy()
    conf.update(local_conf)
    register_swift_info(
        'ip_whitelist',
        rule_prefix=RULE_PREFIX,
        account_rules=True,
        account_perimeter=True,
        deny_without_rules=utils.config_true_value(
            conf.get('deny_without_rules', 'false')),
        max_rules=_parse_max_rules(conf),
        rules_cache_time=_parse_rules_cache_time(conf))

    def ip_whitelist_filter(app):
        # Built when the proxy loads its pipeline: a bad option stops it.
        return IPWhitelistMiddleware(app, conf)
    return ip_whitelist_filter

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
``403``. Rules are stored as system metadata
(``X-Container-Sysmeta-Ip-Whitelist-Allow-*``,
``X-Account-Sysmeta-Ip-Whitelist-Allow-*``), which clients cannot write by
any other route; the owner sees them back as ``X-Container-Meta-Allow-*``
(``X-Account-Meta-Allow-*``). Plain ``X-Container-Meta-Allow-*`` metadata
left by the guide's 2013 middleware still counts, so upgrading keeps old
containers protected; the owner's next write of that rule moves it.

The owner may also set a holder's mode, ``enforce`` (the default) or
``audit`` (see `Modes`_), under the same checks as a rule::

    swift post --header "X-Container-Meta-Ip-Whitelist-Mode: audit" mycont
    swift post --header "X-Account-Meta-Ip-Whitelist-Mode: enforce"

An owner's write that would leave the writer's own address outside the
perimeter that results (the account's and the container's rules
together) is refused ``409`` naming the address, unless it carries
``X-Ip-Whitelist-Confirm-Lockout: yes``; an ``always_allow`` client is
never refused for it. An owner locked out all the same is let back in by
the operator, without a token: ``openstack-ext rules`` reads and repairs
rules and modes through Swift's internal client.

Above them, the operator's level bounds accounts with rules no owner can
write, widen or remove (``operator_rules``, ``rules set --operator``:
the "Auditing and governing rules" page); owners see it on the account.

--------
Decision
--------

The rules form a perimeter: the operator's level (if any) bounds the
account, the account's rules bound the whole account,
its own requests included (``HEAD``, ``GET``, ``POST``, ``PUT`` and
``DELETE`` on ``/v1/<account>``), and a container's rules narrow within
them. A request for an account, a container or an object passes when the
client address is

1. in ``always_allow``, or
2. listed by every level that has rules: the operator's, the account's
   rules (if it has any) and, below the account, the container's rules
   (if it has any).

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

Changing the rules goes through the perimeter too: a rule write or
removal, and the ``DELETE`` of a holder with rules, must pass the rules in
force (and come from the owner, see `Rules`_). The ``DELETE``
of an account that still holds containers (a reseller admin's, with
``allow_account_management``), which hands them to the account reaper,
is accepted only from an ``always_allow`` address.

Requests that name no account (``/info``, auth, healthcheck) pass
untouched. When the rules cannot be read (account or container servers
failing), the answer is ``503``: never the data.

The rule holds on every path to the data: the check runs on the request
itself (an object ``GET`` or ``HEAD`` where the proxy first asks
``swift.authorize``, or, answered without that question, before any of
its answer leaves) and, by wrapping ``swift.authorize``, on every
subrequest made for it (SLO and DLO segments, COPY and ``X-Copy-From``
sources, versioned writes, symlink targets), judged by the original
client's address. tempurl, formpost, staticweb, public-read ACLs and
s3api cannot skip it. A write to a container whose old versions go to
another container (``X-Versions-Location``, ``X-History-Location``), and
setting such a location, also needs the client to be admitted by that
container. An SLO manifest's asynchronous delete (``async=yes``) is done
as SLO's synchronous one, so that each segment's delete is judged.

--------------
Client address
--------------

The client is ``REMOTE_ADDR``. ``X-Forwarded-For`` is believed only when
the direct peer is in ``trusted_proxies``, walking the header right to left
while the hops are trusted. An unknown client (which passes only where no
level has rules) is what a trusted proxy is when every hop is trusted (it
sends no ``X-Forwarded-For``, say), and what an ``always_allow`` address
is when it forwards (it sends the header) without being in
``trusted_proxies``; the latter is logged once. Either would otherwise make
every client look like the proxy: the always-allowed ``127.0.0.1`` for a
TLS terminator on the proxy host. IPv4-mapped
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
mode               enforce   ``audit``: every level's rules are audited, not
                             enforced (see `Modes`_).
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
operator_rules     (none)    Operator's level per reseller prefix:
                             ``SERVICE_=10.0.0.0/8; AUTH_=...``.
operator_mode      enforce   Its mode, where the account stores none.
rules_cache_time   0         Seconds each proxy process keeps the rules it
                             read, looking up no info meanwhile (see
                             `Changes and replicas`_).
replica_reads      true      Where rules come from (see
                             `Changes and replicas`_).
                             ``true``: for an account or container whose
                             info shows rules, from every primary replica.
                             ``all``: for every account and container.
                             ``false``: the proxy's info as it comes.
================== ========= ==============================================

A bad value of any of these options (an address or network that does
not parse, a mode or number out of range) stops the proxy at start,
naming the option and the value.

The filter goes after auth (whose ``swift.authorize`` it wraps) and
before the middleware that make subrequests, which would otherwise lose
the client's address. Both lists, and why, are in
:mod:`openstack_ext.swift.pipeline`, which the start-up check,
``openstack-ext check-proxy-pipeline`` and the DevStack plugin share. A
placement that would let requests skip the filter stops the proxy::

    [pipeline:main]
    pipeline = catch_errors gatekeeper healthcheck proxy-logging cache
               listing_formats tempurl ratelimit s3api authtoken
               keystoneauth ip_whitelist bulk formpost staticweb copy
               container-quotas account-quotas slo dlo versioned_writes
               symlink proxy-logging proxy-server

    [filter:ip_whitelist]
    use = egg:openstack_ext#ip_whitelist
    deny_message = You shall not pass!
    # trusted_proxies = 192.0.2.10

-----
Modes
-----

Each level enforces or audits its own rules, as its holder's mode says;
``mode = audit`` audits every level of the proxy. A request that audited
rules would refuse goes through, logged once at warning level ("would be
denied") and counted as ``ip_whitelist.audited``; unreadable rules still
answer ``503``. How to roll a rule out with it is in the Rollout page.

---------------------
Changes and replicas
---------------------

A rule change through any proxy with this filter applies at once on every
proxy that shares its memcache. With ``replica_reads`` (the default) the
rules of a holder whose info shows rules are read from each of its
primaries, and a level admits a client only when every answering
primary's rules list it: an address removed is refused from the moment
the write is answered, even where a primary missed the write; fewer
answers than a quorum give ``503``. A rule write answers
``X-Ip-Whitelist-Replicas: stored/primaries`` (and
``X-Ip-Whitelist-Warning`` when not all). With ``replica_reads = false``,
other proxies may use old rules for ``recheck_container_existence`` /
``recheck_account_existence`` seconds; with ``rules_cache_time``, each
process up to that much longer. The Replicas page of the documentation
has the details and the emergency procedure.

--------
Refusals
--------

A refusal is the filter's own answer, built afresh for each request:
``403`` with ``deny_message``, the same whatever the request carries
(``Origin``, conditional and range headers, a query) and whichever path
judged it, the request itself or a subrequest made for it (a refused
``COPY`` source, a symlink's target): nothing of the container's own
settings (CORS, for one) is added to it. When the account's rules refuse
a client, every path under the account gets that refusal, whether the
container or object exists or not. What an outsider can still tell
apart is listed in the project's Limits page.

Each denial is logged at info level (client, account, container) and
counted as the ``ip_whitelist.denied`` metric; unreadable rules count as
``ip_whitelist.unavailable``. Every change of the rules, and every
refused attempt, is logged with who made it, from where, and the old and
the new values (:mod:`openstack_ext.swift.trail`).
"""

import logging

from swift.common.registry import register_swift_info
from swift.common import swob
from swift.common import utils

from openstack_ext.swift import client as client_address
from openstack_ext.swift import conf as whitelist_conf
from openstack_ext.swift import judge
from openstack_ext.swift import owner
from openstack_ext.swift import pipeline
from openstack_ext.swift import replicas
from openstack_ext.swift import rule_cache
from openstack_ext.swift import rule_headers
from openstack_ext.swift import rule_reader
from openstack_ext.swift import rules


class IPWhitelistMiddleware(object):
    """Allow an account or container to be reached only from listed IPs."""

    def __init__(self, app, conf, logger=None):
        self.app = app
        self.logger = logger or utils.get_logger(
            conf, log_route='ip_whitelist', statsd_tail_prefix='ip_whitelist')
        config = whitelist_conf.parse(conf)
        rule_reader.check_swift()
        replicas.check_swift()
        self.options = config.options
        self.client_address = client_address.ClientAddress(
            config.options, config.trusted_proxies, self.logger)
        self.cache = rule_cache.RuleCache(config.rules_cache_time)
        # The proxy app, for its rings: found now, or once Swift has
        # listed the loaded pipeline.
        self.replicas = replicas.ReplicaReader(
            lambda: replicas.find_proxy_app(app) or replicas.find_proxy_app(
                getattr(self, '_pipeline_final_app', None)),
            every_holder=config.replica_reads == 'all')
        self.judge = judge.Judge(
            rule_reader.RuleReader(
                app, self.cache, self.logger, config.operator,
                self.replicas if config.replica_reads != 'off' else None),
            config.options, config.deny_message, self.logger,
            # Asked once: a debug line costs a call on every request.
            debug=self.logger.isEnabledFor(logging.DEBUG))
        self.owner = owner.OwnerGate(app, config.options, config.max_rules,
                                     self.logger, config.operator)
        self._pipeline_checked = False
        if app is not None:
            # What can be seen of the pipeline now: a bad placement stops
            # the proxy at start.
            errors, _warnings = pipeline.check_running_pipeline(app)
            if errors:
                raise ValueError('ip_whitelist: ' + '; '.join(errors))

    def _check_loaded_pipeline(self):
        """Check the whole pipeline, once Swift has loaded and listed it."""
        self._pipeline_checked = True
        misplaced = pipeline.misplaced_once_loaded(self, self.logger)
        if misplaced:
            self.judge.misplaced = misplaced

    def _own_judgment(self, env):
        """The :class:`Judgment` of ours that ``env`` inherited, or None."""
        authorize = env.get('swift.authorize')
        if isinstance(authorize, judge.Judgment) and \
                authorize.judge is self.judge:
            return authorize
        return None

    def __call__(self, env, start_response):
        if not self._pipeline_checked:
            self._check_loaded_pipeline()
        req = swob.Request(env)
        target = rule_reader.target(env.get('PATH_INFO') or '')
        inherited = self._own_judgment(env)
        if inherited is not None:  # a subrequest of a request we saw
            client, authorize = inherited.client, inherited.authorize
        else:
            client = self.client_address(env)
            authorize = env.get('swift.authorize')
        if target is not None and target.obj:
            judge.without_async_delete(req)
        judgment = judge.Judgment(self.judge, self.owner, client, env,
                                  target, authorize)
        if judge.judged_at_question(req, target, self.judge):
            judgment.pending = True
        else:
            refusal = self.judge.judge(req, target, client)
            if refusal is not None:
                self.owner.refused(req, target, client, 'outside the rules')
                return refusal.response(req)(env, start_response)
            malformed = self.owner.malformed(req, target, client)
            if malformed is not None:
                return malformed(env, start_response)
        env['swift.authorize'] = judgment
        try:
            return judgment.answer(self.app, req, start_response,
                                   self._write_report(req, target))
        finally:  # even when the app raised: the write may have landed
            self._forget_written(req, target, judgment)

    def _forget_written(self, req, target, judgment):
        """After a write on an account or container, read its rules anew.

        The write may have reached the backends: this process reads the
        change from now on, and, through the shared memcache, every proxy.
        Not after a write auth refused (``Judgment.wrote_nothing``), which
        would make the next request read every primary, for nothing.
        """
        kind = rule_headers.holder_kind(target)
        if kind is not None and req.method in rule_reader.WRITE_METHODS \
                and not judgment.wrote_nothing():
            holder = rule_reader.holder_key(
                target.account,
                target.container if kind == 'container' else None)
            self.cache.forget(holder)
            replicas.forget(req.environ, holder)

    def _write_report(self, req, target):
        """The headers that say how far a rule write got, or ``None``."""
        if not rule_headers.changes_rules(req, target):
            return None
        kind = rule_headers.holder_kind(target)
        return lambda: self.replicas.write_report(
            req, target, rule_headers.written_rules(req, kind), self.logger)


def filter_factory(global_conf, **local_conf):
    """paste.deploy filter factory for the ``ip_whitelist`` middleware."""
    conf = global_conf.copy()
    conf.update(local_conf)
    register_swift_info(
        'ip_whitelist',
        rule_prefix=rules.RULE_PREFIX,
        account_rules=True,
        account_perimeter=True,
        deny_without_rules=utils.config_true_value(
            conf.get('deny_without_rules', 'false')),
        max_rules=whitelist_conf.max_rules(conf),
        rules_cache_time=whitelist_conf.rules_cache_time(conf),
        replica_reads=whitelist_conf.replica_reads(conf))

    def ip_whitelist_filter(app):
        # Built when the proxy loads its pipeline: a bad option stops it.
        return IPWhitelistMiddleware(app, conf)
    return ip_whitelist_filter

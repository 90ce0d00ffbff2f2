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

Lets a container, or a whole account, be reached only from the addresses
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
role, a reseller admin) may set or remove rules; anybody else, including a
user given write access through an ACL, gets ``403``. Rules are stored as
system metadata (``X-Container-Sysmeta-Ip-Whitelist-Allow-*``,
``X-Account-Sysmeta-Ip-Whitelist-Allow-*``), which clients cannot write by
any other route; the owner sees them back as ``X-Container-Meta-Allow-*``
(``X-Account-Meta-Allow-*``). Plain ``X-Container-Meta-Allow-*`` metadata
left by the guide's 2013 middleware still counts, so upgrading keeps old
containers protected; the owner's next write of that rule moves it.

--------
Decision
--------

A request for a container or an object passes when the client address is

1. in ``always_allow``, or
2. in any rule of the container or of its account (the account's rules
   cover all its containers; a container's rules add to them).

When neither the container nor the account has a rule, the request passes
unless ``deny_without_rules`` is set (the guide's strict mode). Otherwise
the answer is ``403`` with ``deny_message``.

Requests without a container (``/info``, auth, account listings,
healthcheck) pass untouched. When the rules cannot be read (account or
container servers failing), the answer is ``503``: never the data.

The rule holds on every path to the data: the check runs on the request
itself and, by wrapping ``swift.authorize``, on every subrequest made for
it (SLO and DLO segments, COPY and ``X-Copy-From`` sources, versioned
writes, symlink targets), judged by the original client's address.
tempurl, formpost, staticweb, public-read ACLs and s3api cannot skip it.
A write to a container whose old versions go to another container
(``X-Versions-Location``, ``X-History-Location``), and setting such a
location, also needs the client to be admitted by that container.

--------------
Client address
--------------

The client is ``REMOTE_ADDR``. ``X-Forwarded-For`` is believed only when
the direct peer is in ``trusted_proxies``, walking the header right to left
while the hops are trusted. IPv4-mapped IPv6 (``::ffff:192.0.2.1``, what a
proxy bound to ``::`` sees) and ``%scope`` are normalised. An address that
does not parse is denied.

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
                             removals are always accepted.
================== ========= ==============================================

A bad address or network in ``always_allow`` or ``trusted_proxies``, or a
``max_rules`` that is not a whole number of at least 1, stops the proxy at
start with the option and the value named.

The filter goes after the auth middleware (and after tempurl and s3api,
which sit before auth), and before bulk, formpost, staticweb, copy, slo,
dlo, versioned_writes and symlink: auth sets ``swift.authorize``, which
the filter wraps, and the later middleware make their subrequests with it
(placed before the filter, they would lose the client's address, and their
requests to containers with rules would be refused). A placement that
would let requests skip the filter stops the proxy at start::

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

-----------------
How fast it takes
-----------------

Rules are read with Swift's container and account info (per-request cache,
then memcache, then the backend); each distinct rule set is parsed once
and kept, within a fixed budget of networks per proxy process. The
proxy reads the container's info for every object request anyway, and
``ratelimit`` the account's; without ``ratelimit`` the account info is one
more memcache read. Measured with 200 rules: about 3 % of an object GET. A
change made through one proxy is seen there at once; other proxies may use
the old rules until their cached info expires:
``recheck_container_existence`` / ``recheck_account_existence`` seconds
(60 by default) in ``[app:proxy-server]``.

Each denial is logged at info level (client, account, container) and
counted as the ``ip_whitelist.denied`` metric; unreadable rules count as
``ip_whitelist.unavailable``.
"""

from swift.common import constraints
from swift.common.http import is_success
from swift.common.registry import register_swift_info
from swift.common import swob
from swift.common import utils
from swift.proxy.controllers import base as proxy_base

from openstack_ext import addresses
from openstack_ext.swift.local_addresses import local_addresses
from openstack_ext.swift import pipeline
from openstack_ext.swift import rules

RULE_PREFIX = rules.RULE_PREFIX
SYSMETA_PREFIX = rules.SYSMETA_PREFIX
SWIFT_SOURCE = 'IPW'
GONE = (404, 410)  # no such account or container (any more)
WRITE_METHODS = ('PUT', 'POST', 'DELETE', 'COPY')
VERSIONS_HEADERS = ('X-Versions-Location', 'X-History-Location')
S3_SEGMENTS_SUFFIX = '+segments'  # s3api's MULTIUPLOAD_SUFFIX
# Networks one account or container may list: bounds what a request for it
# costs (parsing 1,000 networks takes ~11 ms, once per rule set and proxy).
DEFAULT_MAX_RULES = 1000
# The path whose request __call__ admitted, in that request's environment.
JUDGED_PATH = 'openstack_ext.ip_whitelist.judged_path'


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


def _parse_positive_int(option, text):
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise ValueError('ip_whitelist: invalid %s value: %r (a whole number '
                         'of at least 1)' % (option, text))
    return value


class IPCheckingAuthorize(object):
    """``swift.authorize`` that also applies the IP rules.

    Subrequests inherit ``swift.authorize``, and with it the original
    client's address, which their own environment no longer has.
    """

    def __init__(self, whitelist, client, authorize):
        self.whitelist = whitelist
        self.client = client
        self.authorize = authorize

    def __call__(self, req):
        denial = None
        if req.environ.get(JUDGED_PATH) != req.environ.get('PATH_INFO'):
            denial = self.whitelist.check(req, self.client)
        if denial is None and self.authorize is not None:
            denial = self.authorize(req)
        if denial is None and self.whitelist.changes_rules(req):
            if not req.environ.get('swift_owner'):
                self.whitelist.logger.info(
                    'ip_whitelist: non-owner %s may not change rules on %s',
                    req.remote_user, req.path)
                return swob.HTTPForbidden(
                    request=req, content_type='text/plain',
                    body='Only the owner can change allow-* rules')
            denial = self.whitelist.rule_count_denial(req)
        return denial


class IPWhitelistMiddleware(object):
    """Allow a container or account to be reached only from listed IPs."""

    def __init__(self, app, conf, logger=None):
        self.app = app
        self.logger = logger or utils.get_logger(
            conf, log_route='ip_whitelist', statsd_tail_prefix='ip_whitelist')
        self.deny_message = conf.get('deny_message', 'IP Denied')
        self.always_allow = _parse_address_list(
            'always_allow', conf.get('always_allow', 'auto'))
        self.trusted_proxies = _parse_address_list(
            'trusted_proxies', conf.get('trusted_proxies', ''))
        self.deny_without_rules = utils.config_true_value(
            conf.get('deny_without_rules', 'false'))
        self.max_rules = _parse_positive_int(
            'max_rules', conf.get('max_rules', DEFAULT_MAX_RULES))
        self.misplaced = None
        self._pipeline_checked = False
        if app is not None:
            # What can be seen of the pipeline now: a bad placement stops
            # the proxy at start.
            errors, _warnings = pipeline.check_running_pipeline(app)
            if errors:
                raise ValueError('ip_whitelist: ' + '; '.join(errors))

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
            self.logger.error('ip_whitelist: %s: refusing every container '
                              'and object request', self.misplaced)

    def _own_authorize(self, env):
        """This filter's ``swift.authorize`` in ``env``, or ``None``."""
        authorize = env.get('swift.authorize')
        if isinstance(authorize, IPCheckingAuthorize) \
                and authorize.whitelist is self:
            return authorize
        return None

    def client_address(self, env):
        """The original client's address, or ``None`` if it is unknown."""
        authorize = self._own_authorize(env)
        if authorize is not None:
            return authorize.client  # a subrequest of a request we saw
        return addresses.forwarded_client(
            env.get('REMOTE_ADDR'), env.get('HTTP_X_FORWARDED_FOR'),
            self.trusted_proxies)

    def rules(self, env, for_object=False):
        """The rules covering the container in ``env``'s path.

        :param for_object: the request reads or writes an object, which
            object servers serve whatever the account and container
            databases say: a gone account or container cannot vouch for it.
        :returns: a :class:`rules.RuleSets` (the account's and the
            container's compiled rules), or ``None`` when no rule applies.
        :raises RulesUnavailable: when they cannot be read.
        :raises NoRulesHolder: an object request in a gone account or
            container.
        """
        names = self._names(env)
        account_values = self._info_rules(self._info(env, True, names),
                                          'account', for_object)
        if account_values is None:
            return None
        container_values = self._info_rules(self._info(env, False, names),
                                            'container', for_object)
        networks = rules.RuleSets(
            self._compiled(values, env['PATH_INFO'])
            for values in (account_values, container_values) if values)
        return networks or None

    def _compiled(self, values, path):
        networks, bad = rules.compile_rules(tuple(values))
        if bad:
            # Stored before validation existed; the rest still applies.
            self.logger.warning('ip_whitelist: ignoring invalid rule '
                                'entries %s for %s', bad, path)
        return networks

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
        account_name, container_name = names or self._names(env)
        key = proxy_base.get_cache_key(
            account_name, None if account else container_name)
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

    def _allowed(self, env, client, for_object=False):
        """Whether ``client`` may reach the container in ``env``'s path.

        :raises: as :meth:`rules`.
        """
        networks = self.rules(env, for_object)
        if networks is None:
            return not self.deny_without_rules
        self.logger.debug('Allow IPs: %s', networks)
        return client is not None and client in networks

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
        if container.endswith(S3_SEGMENTS_SUFFIX):
            names.append(container[:-len(S3_SEGMENTS_SUFFIX)])
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
        if not container or not constraints.valid_api_version(version):
            return None
        invalid = self._invalid_path(req)
        if invalid is not None:
            return invalid
        if self.misplaced:
            return swob.HTTPServiceUnavailable(
                request=req, content_type='text/plain',
                body='ip_whitelist is misplaced in the proxy pipeline')
        self.logger.debug('Remote IP: %s', client)
        if client is not None and client in self.always_allow:
            return None
        try:
            denied = None if self._allowed(req.environ, client, bool(obj)) \
                else container
            if denied is None:
                for name, env in self._linked_containers(
                        req, version, account, container, obj):
                    if not self._allowed(env, client):
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
            return swob.HTTPServiceUnavailable(
                request=req, content_type='text/plain',
                body='IP whitelist rules are unavailable')
        if denied is None:
            return None
        self.logger.info('ip_whitelist: IP %s denied access to Account=%s '
                         'Container=%s', client, account, denied)
        self.logger.increment('denied')
        return swob.HTTPForbidden(request=req, content_type='text/plain',
                                  body=self.deny_message)

    @staticmethod
    def _rule_headers(req):
        """``(meta prefix, sysmeta prefix)`` a rule write would use."""
        if req.method not in ('PUT', 'POST'):
            return None
        try:
            version, _account, container, obj = req.split_path(2, 4, True)
        except ValueError:
            return None
        if obj or not constraints.valid_api_version(version):
            return None
        kind = 'container' if container else 'account'
        return ('x-%s-meta-%s' % (kind, RULE_PREFIX),
                'x-%s-sysmeta-%s' % (kind, SYSMETA_PREFIX))

    def changes_rules(self, req):
        prefixes = self._rule_headers(req)
        return prefixes is not None and any(
            key.lower().startswith(prefixes[1]) for key in req.headers)

    def translate_rule_writes(self, req):
        """Move ``allow-*`` metadata writes to sysmeta, validating them.

        :returns: a ``400`` response when a rule is malformed, else None.
        """
        prefixes = self._rule_headers(req)
        if prefixes is None:
            return None
        meta, sysmeta = prefixes
        remove = 'x-remove-' + meta[2:]
        writes = {}
        for key, value in req.headers.items():
            lower = key.lower()
            if lower.startswith(meta):
                writes[lower[len(meta):]] = (key, value.strip())
            elif lower.startswith(remove):
                writes[lower[len(remove):]] = (key, '')
        error = next(filter(None, (
            self._rule_error(meta, name, key, value)
            for name, (key, value) in writes.items())), None)
        if error:
            self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
            return swob.HTTPBadRequest(request=req, body=error,
                                       content_type='text/plain')
        for name, (key, value) in writes.items():
            del req.headers[key]
            req.headers[sysmeta + name] = value
            # An empty value deletes the guide-era plain metadata copy.
            req.headers[meta + name] = ''
        return None

    @staticmethod
    def _rule_error(meta, name, key, value):
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
            return 'invalid %s%s rule: %s' % (RULE_PREFIX, name,
                                              ', '.join(bad))
        return None

    def rule_count_denial(self, req):
        """A ``400`` if the owner's rule write would exceed ``max_rules``.

        Counted over what is stored plus the (translated) request, once the
        requester is known to be the owner: nobody else learns how many
        rules there are. A write that does not add to rules already over
        the limit always passes, so that an owner can come back under it.
        """
        meta, sysmeta = self._rule_headers(req)
        writes = {key.lower()[len(sysmeta):]: value
                  for key, value in req.headers.items()
                  if key.lower().startswith(sysmeta)}
        if not any(writes.values()):
            return None
        kind = 'account' if meta.startswith('x-account-') else 'container'
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
            return swob.HTTPServiceUnavailable(
                request=req, content_type='text/plain',
                body='IP whitelist rules are unavailable')
        before = rules.count_networks(stored.values())
        after = rules.count_networks(
            [v for (_kind, name), v in stored.items() if name not in writes]
            + list(writes.values()))
        if after <= self.max_rules or after <= before:
            return None
        error = ('the %s would list %d networks in its %s* rules; at most %d '
                 'are allowed' % (kind, after, RULE_PREFIX, self.max_rules))
        self.logger.info('ip_whitelist: refused %s: %s', req.path, error)
        return swob.HTTPBadRequest(request=req, body=error,
                                   content_type='text/plain')

    @staticmethod
    def _holds_rules(path):
        """Whether ``path`` names an account or container, not an object."""
        return not any(path.split('/', 4)[4:])  # /v1/a/c/OBJECT

    def show_rules_to_owner(self, env, start_response):
        """Show stored rules as ``X-*-Meta-Allow-*`` to the owner only."""
        def start_with_rules(status, headers, exc_info=None):
            if env.get('swift_owner'):
                shown = []
                for key, value in headers:
                    kind, sep, name = key.lower().partition(
                        '-sysmeta-' + SYSMETA_PREFIX)
                    if sep and kind in ('x-container', 'x-account'):
                        shown.append(('%s-meta-%s%s' % (
                            kind, RULE_PREFIX, name), value))
                headers = list(headers) + shown
            return start_response(status, headers, exc_info)
        return start_with_rules

    def __call__(self, env, start_response):
        if not self._pipeline_checked:
            self._check_loaded_pipeline()
        req = swob.Request(env)
        client = self.client_address(env)
        denial = self.check(req, client) or self.translate_rule_writes(req)
        if denial is not None:
            return denial(env, start_response)
        # Subrequests get environments of their own, without this mark.
        env[JUDGED_PATH] = env.get('PATH_INFO')
        if self._own_authorize(env) is None:
            env['swift.authorize'] = IPCheckingAuthorize(
                self, client, env.get('swift.authorize'))
        if req.method in ('GET', 'HEAD') and \
                self._holds_rules(env['PATH_INFO']):
            start_response = self.show_rules_to_owner(env, start_response)
        return self.app(env, start_response)


def filter_factory(global_conf, **local_conf):
    """paste.deploy filter factory for the ``ip_whitelist`` middleware."""
    conf = global_conf.copy()
    conf.update(local_conf)
    register_swift_info(
        'ip_whitelist',
        rule_prefix=RULE_PREFIX,
        account_rules=True,
        deny_without_rules=utils.config_true_value(
            conf.get('deny_without_rules', 'false')),
        max_rules=_parse_positive_int(
            'max_rules', conf.get('max_rules', DEFAULT_MAX_RULES)))

    def ip_whitelist_filter(app):
        # Built when the proxy loads its pipeline: a bad option stops it.
        return IPWhitelistMiddleware(app, conf)
    return ip_whitelist_filter

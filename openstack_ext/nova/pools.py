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

"""The mapping core of IP-prefix pools; needs neither Nova nor a service.

* :func:`load_settings` reads and checks the ``[ip_pools]`` options: a bad
  value raises :class:`PoolConfigError` naming the option and the value, so
  the service that loads it refuses to start.
* :class:`PoolMap`: client address to pool, the most specific network
  winning, looked up in :class:`openstack_ext.addresses.NetworkMap` (no scan
  of the networks).
* :class:`HostnamePools`: hostname to pool by the longest pool name that
  prefixes it up to a separator, cached per hostname.
* :func:`sign_stamp` and :func:`verify_stamp`: the value of the ``ip_pool``
  scheduler hint, ``<pool>:<HMAC-SHA256 hex>``, bound to the server's
  project so that a stamp cannot be reused in another project. The first
  ``stamp_secret`` signs; every one listed verifies, so that a secret can be
  rotated with an overlap.
"""

import collections
import hashlib
import hmac
import re
import string

from oslo_config import cfg

from openstack_ext import addresses
from openstack_ext.nova import conf as pool_conf

HINT = 'ip_pool'
# The pool a stamp names when the client is in no pool and there is no
# default pool: the scheduler refuses the request.
NO_POOL = ''
# ``default_pool = *``: clients in no client network may use any host, as
# without pools. Not a pool name, so no stamp or hostname can mean it by
# accident.
ANY_POOL = '*'
MIN_SECRET_LENGTH = 16

_POOL_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z')
_ALNUM = frozenset(string.ascii_letters + string.digits)
# Versioned so that a future stamp format cannot be confused with this one.
_STAMP_CONTEXT = b'openstack-ext ip_pool stamp v1\0'

ClientPool = collections.namedtuple('ClientPool', 'address pool network')
ClientPool.__doc__ = """Where a client address maps to.

``address`` is ``None`` when the forwarded chain is refused; ``pool`` is
``None`` when the client is refused; ``network`` is the matching network,
``None`` for the default pool.
"""

PoolSettings = collections.namedtuple(
    'PoolSettings', 'pool_map host_selection aggregate_metadata_key '
    'trusted_proxy_hops stamp_secrets exclusive_pools')
PoolSettings.__doc__ = """The checked ``[ip_pools]`` options.

``stamp_secrets`` is a tuple, empty when ``stamp_secret`` is unset; its
first element signs. ``exclusive_pools`` is a frozenset of pools.
"""


class PoolConfigError(ValueError):
    """An ``[ip_pools]`` option has a value that cannot be used."""

    def __init__(self, option, value, problem):
        """*value* is ``None`` when *problem* already quotes it."""
        where = '[%s] %s' % (pool_conf.GROUP, option)
        if value is not None:
            where += ' = %s' % value
        super(PoolConfigError, self).__init__('%s: %s' % (where, problem))


def _check_pool_name(option, name, where=None):
    if not _POOL_NAME.match(name):
        raise PoolConfigError(
            option, where or repr(name),
            'pool name %r is not letters, digits, ".", "_" or "-" starting '
            'with a letter or digit (at most 255)' % name)
    return name


def parse_client_networks(items):
    """Return ``[(network, pool)]`` from ``CIDR=pool`` items, or raise."""
    entries = []
    for item in items:
        network_text, equals, pool = (part.strip()
                                      for part in item.partition('='))
        if not equals or not network_text:
            raise PoolConfigError('client_networks', repr(item),
                                  'expected CIDR=pool')
        try:
            network = addresses.parse_network(network_text)
        except ValueError as exc:
            raise PoolConfigError('client_networks', repr(item), exc)
        entries.append((network, _check_pool_name(
            'client_networks', pool, repr(item))))
    return entries


class PoolMap(object):
    """Client addresses to pools: the most specific network wins."""

    def __init__(self, entries, default_pool=None):
        """:param entries: ``(network, pool)`` pairs, each network once."""
        entries = list(entries)
        try:
            self._networks = addresses.NetworkMap(entries)
        except addresses.DuplicateNetworkError as exc:
            count = collections.Counter(network for network, _ in entries)
            clashing = ', '.join('%s=%s' % entry for entry in entries
                                 if count[entry[0]] > 1)
            raise PoolConfigError('client_networks', clashing, exc)
        self.default_pool = default_pool
        # The pools that hosts can be in: ANY_POOL is none of them.
        self.pools = frozenset(pool for _, pool in entries).union(
            [default_pool] if default_pool not in (None, ANY_POOL) else [])

    def pool_for(self, address):
        """Return the :class:`ClientPool` of a normalised *address*."""
        match = self._networks.lookup(address)
        if match is not None:
            return ClientPool(address, match[1], match[0])
        return ClientPool(address, self.default_pool, None)

    def pool_for_chain(self, chain, trusted_hops):
        """Return the :class:`ClientPool` of a raw forwarded *chain*.

        See :func:`openstack_ext.addresses.chain_client`.
        """
        address = addresses.chain_client(chain, trusted_hops)
        if address is None:
            return ClientPool(None, None, None)
        return self.pool_for(address)


class HostnamePools(object):
    """Hostnames to pools, by pool-name prefix.

    A host is in the pool whose name is the longest prefix of its hostname
    that is the whole hostname or is followed by a character other than an
    ASCII letter or digit: pool ``doc`` holds ``doc``, ``doc-1`` and
    ``doc.example.org`` but not ``docker-1``. Names are compared as written
    (case matters). Results are cached per hostname, so a host costs one
    dict probe after its first request; the cache holds one entry per
    compute host.
    """

    def __init__(self, pools):
        self._pools = frozenset(pools)
        self._cache = {}

    def pool_of(self, hostname):
        """Return the pool of *hostname*, or ``None``."""
        try:
            return self._cache[hostname]
        except KeyError:
            pool = self._cache[hostname] = self._find(hostname)
            return pool

    def _find(self, hostname):
        for end in range(len(hostname), 0, -1):
            if (end == len(hostname) or hostname[end] not in _ALNUM) and \
                    hostname[:end] in self._pools:
                return hostname[:end]
        return None


def _get(conf, option):
    try:
        return getattr(conf[pool_conf.GROUP], option)
    except cfg.ConfigFileValueError as exc:
        # oslo.config names the option, the file and (mostly) the value,
        # but not the group.
        raise PoolConfigError(option, None, exc)


def load_settings(conf, require_secret=False):
    """Read and check ``[ip_pools]`` from *conf*; return :class:`PoolSettings`.

    The options must be registered (:func:`conf.register_opts`).

    :param require_secret: ``stamp_secret`` must be set (nova-api's stamp).
    :raises PoolConfigError: naming the option and the value.
    """
    networks = _get(conf, 'client_networks')
    default_pool = _get(conf, 'default_pool')
    if default_pool is not None:
        if default_pool.strip() != ANY_POOL:
            _check_pool_name('default_pool', default_pool.strip(),
                             repr(default_pool))
        default_pool = default_pool.strip()
    if not networks and default_pool is None:
        raise PoolConfigError(
            'client_networks', '(empty)',
            'set client networks, a default_pool, or both: as configured '
            'every client would be refused')
    pool_map = PoolMap(parse_client_networks(networks), default_pool)
    host_selection = _get(conf, 'host_selection')
    key = _get(conf, 'aggregate_metadata_key')
    if host_selection == pool_conf.AGGREGATE_METADATA and not (
            key and key.strip()):
        raise PoolConfigError('aggregate_metadata_key', repr(key),
                              'empty, with host_selection = %s'
                              % host_selection)
    hops = _get(conf, 'trusted_proxy_hops')
    secrets = tuple(_get(conf, 'stamp_secret') or ())
    for position, secret in enumerate(secrets, 1):
        if len(secret) < MIN_SECRET_LENGTH:
            # Never echo a secret, even a bad one.
            raise PoolConfigError(
                'stamp_secret', '****', 'value %d of %d is shorter than %d '
                'characters' % (position, len(secrets), MIN_SECRET_LENGTH))
    if len(set(secrets)) != len(secrets):
        raise PoolConfigError('stamp_secret', '****',
                              'a value is listed more than once')
    if require_secret and not secrets:
        raise PoolConfigError('stamp_secret', '(unset)',
                              'required by the ip_pool_stamp paste filter')
    return PoolSettings(pool_map, host_selection, key and key.strip(), hops,
                        secrets, _exclusive_pools(conf, pool_map))


def _exclusive_pools(conf, pool_map):
    """The checked ``exclusive_pools``: each one a configured pool."""
    exclusive = [name.strip() for name in _get(conf, 'exclusive_pools')]
    for name in exclusive:
        if name not in pool_map.pools:
            raise PoolConfigError(
                'exclusive_pools', ', '.join(exclusive),
                'pool %r is not a pool of client_networks or the '
                'default_pool' % name)
    return frozenset(exclusive)


def check_proxy_headers(settings, proxy_headers_parsed):
    """Refuse a believed X-Forwarded-For with no proxy to write it.

    :param proxy_headers_parsed: ``[oslo_middleware]
        enable_proxy_headers_parsing`` as the service sees it.
    :raises PoolConfigError: clients would write their own address.
    """
    if proxy_headers_parsed and not settings.trusted_proxy_hops:
        raise PoolConfigError(
            'trusted_proxy_hops', 0,
            'with [oslo_middleware] enable_proxy_headers_parsing = True, '
            'X-Forwarded-For is believed, so clients would write their own '
            'address: set the number of proxies in front of nova-api')


def _mac(secret, pool, project_id):
    message = _STAMP_CONTEXT + ('%s\0%s' % (pool, project_id)).encode('utf-8')
    return hmac.new(secret.encode('utf-8'), message,
                    hashlib.sha256).hexdigest()


def sign_stamp(secret, pool, project_id):
    """Return the ``ip_pool`` hint value for *pool* in *project_id*.

    *secret* is the signing secret, the first of ``stamp_secrets``. *pool*
    may be :data:`NO_POOL` (refuse the request) or :data:`ANY_POOL`.
    """
    return '%s:%s' % (pool, _mac(secret, pool, project_id))


def check_stamp(secrets, stamp, project_id):
    """Return ``(pool, position)`` of a valid *stamp*, else ``(None, None)``.

    *position* is the index in *secrets* (a string or a sequence of them)
    of the secret that signed it: 0 for the signing secret, more for one
    kept only to verify during a rotation. Invalid when there is no secret
    or project, the stamp is not a string, or no secret's HMAC matches: a
    forged stamp, one from another project, or one signed with a secret
    that is not (or no longer) listed.
    """
    if isinstance(secrets, str):
        secrets = (secrets,)
    if not secrets or not project_id or not isinstance(stamp, str):
        return None, None
    pool, colon, mac = stamp.rpartition(':')
    if not colon:
        return None, None
    mac = mac.encode('utf-8', 'replace')
    for position, secret in enumerate(secrets):
        expected = _mac(secret, pool, project_id).encode('ascii')
        if hmac.compare_digest(mac, expected):
            return pool, position
    return None, None


def verify_stamp(secrets, stamp, project_id):
    """Return the pool a valid *stamp* names, or ``None``.

    See :func:`check_stamp`. May return :data:`NO_POOL` or
    :data:`ANY_POOL`.
    """
    return check_stamp(secrets, stamp, project_id)[0]

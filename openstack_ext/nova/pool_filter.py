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

"""ClientNetworkPoolFilter: IP-prefix pools for nova-scheduler.

Each new server goes to a compute host of the pool of the network its
creator's request came from, and every later move keeps it in that pool,
whoever asks for the move and from wherever. The 2013 Operations Guide's
``IPScheduler`` did this with a scheduler driver, string prefixes and a
hard-coded mapping; drivers are gone from Nova and filters are the plug-in
point.

The pool is enforced twice. Before Nova asks placement for allocation
candidates, the request filter that this filter installs
(:mod:`openstack_ext.nova.placement_hook`) requires the pool's placement
aggregates (:mod:`openstack_ext.nova.pool_aggregates`), so placement's cut
of ``[scheduler] max_placement_results`` candidates is taken among the
pool's hosts only, however large the cloud. Then this filter checks every
host it is given, so nothing outside the pool passes even if placement's
aggregates are out of date.

Setup (nova.conf of nova-scheduler *and* nova-api; see
etc/nova/nova.conf.ip-pools-guide-example)::

  [filter_scheduler]
  available_filters = nova.scheduler.filters.all_filters
  available_filters = openstack_ext.nova.pool_filter.ClientNetworkPoolFilter
  enabled_filters = ComputeFilter,...,ClientNetworkPoolFilter

  [ip_pools]
  client_networks = 10.1.0.0/16=doc, 10.2.0.0/16=ops
  default_pool = dev
  stamp_secret = <32+ random characters, same on nova-api>

In an existing cloud, ``default_pool = *`` pins only the listed networks:
everyone else is scheduled exactly as without the filter (any host, hosts
in no pool included, for boots and moves; no placement constraint).

and the ``ip_pool_stamp`` filter in nova-api's api-paste.ini
(etc/nova/api-paste-ip-pool-stamp.ini). Behind load balancers, also set
``[oslo_middleware] enable_proxy_headers_parsing = True`` on nova-api and
``[ip_pools] trusted_proxy_hops`` to the number of them. A bad
``[ip_pools]`` value stops the scheduler at start, naming the option and
the value; so does parsing proxy headers with no trusted proxy hop, which
would let clients write their own address.

Which pool a request needs, decided once per request:

1. A signed ``ip_pool`` hint: nova-api's ``ip_pool_stamp`` recorded the pool
   of the creating client in the server's scheduler hints, which Nova keeps
   for the server's life, so boots and all moves use it. A stamp is an
   HMAC of the pool and the project with ``stamp_secret``; a client cannot
   make one, and ``ip_pool_stamp`` discards any ``ip_pool`` hint a client
   sends.
2. An ``ip_pool`` hint that does not verify (forged, from another project,
   or no/another ``stamp_secret`` here) is logged and ignored, and the
   request is handled as unstamped.
3. Unstamped boot: with ``stamp_secret`` set, refused (NoValidHost): every
   nova-api stamps every create, so an unstamped one went round the stamp
   filter, or a nova-api lacks it or has another secret. Without
   ``stamp_secret`` (the stamp filter is not deployed), the pool of the
   request's client address: the ``X-Forwarded-For`` entry
   ``trusted_proxy_hops`` from the right (with 0, the address nova-api
   saw).
4. Unstamped move (a server created before the stamp was deployed): never
   the requester's address (an admin's). The server stays in the pool of
   the host it leaves, which Nova names in the request for cold migrate,
   resize, live migrate and evacuate; when that host is in no pool or is
   not named (unshelve of an offloaded server, resize to the same host) the
   move is left unconstrained and a warning says so, so that moving legacy
   servers keeps working.

Rebuild keeps a server on its host, so the filter lets it through, as Nova
does for filters with ``RUN_ON_REBUILD = False``.

Moves hold whatever ``max_placement_results`` is, even 1: Nova drops the
host a server leaves only after placement's cut, so for a pool-constrained
move the hook also forbids placement that host (by a placement aggregate
of that host alone), and placement's candidates are other hosts of the
pool. Resize to the same host (``allow_resize_to_same_host``) forbids
nothing. Unconstrained moves (``default_pool = *``, legacy servers from a
host in no pool) are Nova's own: at a cut of 1, Nova fails them whenever
placement's single candidate is the host being left ("There are not
enough hosts available."), with or without this filter.

A request never lands in another pool. It fails with NoValidHost, whose
reason becomes the server fault, when:

* the client is in no pool (and ``default_pool`` is unset): "The client's
  network is in no IP pool.";
* no compute host is in the pool: "IP pool 'qa' has no compute host.";
* the pool has hosts but placement finds none with room: "No host of IP
  pool 'doc' has room for this request (the pool has 2 hosts)."; for a
  move, "... (the pool has 1 host, including ops-1, which the server
  leaves)"; placement was asked for the pool's hosts only, so this is never
  placement's cut of other hosts;
* placement offers hosts of the pool but Nova's other filters turn them all
  down: "Placement offered hosts of IP pool 'doc' with room for this
  request, but none passed the scheduler's filters (the pool has 2
  hosts).";
* placement offered hosts that this filter finds outside the pool (its
  aggregates out of date): "No host offered is in IP pool 'doc'.".

The scheduler log names the pool, why it applies and the request address.
A host in aggregates naming two pools is in none (logged once). Nova skips
filters and request filters when an admin forces a host (``az:host``,
forced live migration or evacuation): forcing is an admin's explicit
override.

Cost: the pool is resolved once per request (HMAC check or network lookup,
independent of the number of networks) and the placement constraint is a
dict probe (``hostname_prefix``) or one API database query
(``aggregate_metadata``), as for Nova's availability zones; the per-host
test is a cached dict probe per host or per aggregate of the host. Because
the filters and weighers then see only the pool's candidates, a pooled boot
costs less than an unpooled one (``benchmarks/nova_scheduling.py``).
"""

from oslo_log import log as logging
from oslo_middleware import http_proxy_to_wsgi

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils

from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pools

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF
pool_conf.register_opts(CONF)

# _request_pool() result for a move that is left unconstrained.
UNPINNED_MOVE = None
# Where the decision of the placement hook waits for the host filter: on
# the scheduler's own RequestSpec object, never serialised.
_DECISION = '_openstack_ext_ip_pool'
# Far more than a cloud has aggregates: only replaced ones add up to it.
_MAX_CACHED_AGGREGATES = 10000


def _is_move(spec_obj):
    """Whether the request moves an existing server (or unshelves it).

    Nova's conductor restricts moves to the server's cell and excludes the
    source host; neither is set for a boot, nor can a client set them.
    """
    destination = _field(spec_obj, 'requested_destination')
    if destination is not None and _field(destination, 'cell') is not None:
        return True
    return bool(_field(spec_obj, 'ignore_hosts'))


def _field(obj, name):
    """A Nova object's field, ``None`` when unset."""
    return getattr(obj, name) if name in obj else None


class ClientNetworkPoolFilter(filters.BaseHostFilter):
    """Only hosts of the pool of the client that created the server pass.

    The pool comes from the server's signed ``ip_pool`` hint, else, for a
    boot, from the client address and, for a move, from the host it leaves
    (see the module docstring).
    """

    # The pool does not change within a request, and Nova places the later
    # servers of a multi-create among the hosts that passed for the first.
    run_filter_once_per_request = True

    # A rebuild stays on its host (checked in filter_all, which bypasses the
    # per-host _filter_one that applies this flag).
    RUN_ON_REBUILD = False

    def __init__(self):
        super(ClientNetworkPoolFilter, self).__init__()
        # Raising here stops nova-scheduler at start with the message.
        self._settings = pools.load_settings(CONF)
        # A nova.conf shared with nova-api tells whether it believes
        # X-Forwarded-For; usually unset on a scheduler-only host.
        CONF.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
        pools.check_proxy_headers(
            self._settings, CONF.oslo_middleware.enable_proxy_headers_parsing)
        self._by_aggregate = (self._settings.host_selection ==
                              pool_conf.AGGREGATE_METADATA)
        self._hostnames = pools.HostnamePools(self._settings.pool_map.pools)
        if self._by_aggregate:
            self._aggregates = pool_aggregates.MetadataAggregates(
                self._settings.aggregate_metadata_key)
        else:
            self._aggregates = pool_aggregates.HostnameAggregates(
                self._hostnames, self._settings.pool_map.pools,
                CONF.ip_pools.pool_aggregate_refresh)
        self._left_hosts = pool_aggregates.LeftHosts()
        placement_hook.install(self)
        if not self._by_aggregate:
            self._sync_at_start()
        # id(aggregate) -> (aggregate, the pool it names or None); holding
        # the object keeps its id from being reused while it is cached.
        self._aggregate_pools = {}
        self._conflicts_reported = set()
        if not self._settings.stamp_secrets:
            LOG.warning('[ip_pools] stamp_secret is unset: ip_pool hints are '
                        'ignored, new servers are placed by their request '
                        'address and moved servers by the host they leave.')

    def _sync_at_start(self):
        try:
            self._aggregates.sync(nova_context.get_admin_context())
        except Exception as exc:
            # Not fatal: the first request for a pool tries again.
            LOG.warning('Could not bring the placement aggregates of the IP '
                        'pools up to date at start (%s); trying again at '
                        'the first request for a pool', exc)

    def placement_aggregates(self, ctxt, spec_obj):
        """The placement hook's question: a :class:`PoolConstraint`.

        ``None`` when the request is not constrained. A move also forbids
        the hosts it leaves (see :class:`pool_aggregates.LeftHosts`).

        :raises NoValidHost: the client is in no pool, or the pool has no
            host (see :mod:`openstack_ext.nova.placement_hook`).
        """
        pool, log_args = self._decide(spec_obj)
        if pool in (UNPINNED_MOVE, pools.ANY_POOL):
            return None
        try:
            required, forbidden, hosts = self._aggregates.for_pool(ctxt,
                                                                   pool)
        except pool_aggregates.PoolHasNoHost as exc:
            LOG.warning('Refusing instance %(uuid)s: %(reason)s (%(why)s; '
                        'request from %(chain)s)%(note)s',
                        dict(log_args, reason=exc.message,
                             note=self._unknown_pool_note(pool)))
            raise exception.NoValidHost(reason=exc.message)
        left = list(_field(spec_obj, 'ignore_hosts') or ())
        if left:
            forbidden = forbidden | self._left_hosts.forbidden(ctxt, left)
        return placement_hook.PoolConstraint(pool, required, forbidden,
                                             hosts, frozenset(left))

    def _decide(self, spec_obj):
        """The request's pool and log arguments, resolved once."""
        decision = getattr(spec_obj, _DECISION, None)
        if decision is not None:
            return decision
        pool, why = self._request_pool(spec_obj)
        log_args = {'uuid': spec_obj.instance_uuid, 'pool': pool, 'why': why,
                    'chain': self._chain(spec_obj)}
        if pool is UNPINNED_MOVE:
            LOG.warning('Moving instance %(uuid)s without a pool constraint: '
                        '%(why)s', log_args)
        elif pool == pools.ANY_POOL:
            LOG.debug('Instance %(uuid)s may use any host: %(why)s',
                      log_args)
        elif pool == pools.NO_POOL:
            LOG.warning('Refusing instance %(uuid)s: %(why)s (request from '
                        '%(chain)s)', log_args)
            raise exception.NoValidHost(
                reason="The client's network is in no IP pool.")
        else:
            LOG.debug('Instance %(uuid)s needs IP pool %(pool)r: %(why)s',
                      log_args)
        setattr(spec_obj, _DECISION, (pool, log_args))
        return pool, log_args

    def filter_all(self, host_states, spec_obj):
        if scheduler_utils.request_is_rebuild(spec_obj):
            return host_states
        pool, log_args = self._decide(spec_obj)
        if pool in (UNPINNED_MOVE, pools.ANY_POOL):
            return host_states
        host_pool = (self._aggregate_host_pool if self._by_aggregate
                     else self._hostname_host_pool)
        debug = LOG.isEnabledFor(logging.DEBUG)
        passed = [host for host in host_states
                  if host_pool(host) == pool or
                  (debug and self._log_rejected(host, pool, host_pool))]
        if not passed:
            # Placement was asked for hosts of the pool only: its view of
            # the pool disagrees with this filter's.
            LOG.warning('None of the hosts placement offered for instance '
                        '%(uuid)s is in IP pool %(pool)r (%(why)s; request '
                        'from %(chain)s)%(note)s', dict(
                            log_args, note=self._unknown_pool_note(pool)))
            raise exception.NoValidHost(
                reason='No host offered is in IP pool %r.' % pool)
        return passed

    def _request_pool(self, spec_obj):
        """Return the pool the request needs and why, for the logs."""
        stamp = spec_obj.get_scheduler_hint(pools.HINT)
        if stamp is not None:
            pool = pools.verify_stamp(self._settings.stamp_secrets, stamp,
                                      spec_obj.project_id)
            if pool == pools.NO_POOL:
                return pool, 'nova-api stamped its client as in no IP pool'
            if pool is not None:
                return pool, 'stamped by nova-api'
            LOG.warning('Ignoring an ip_pool hint of instance %(uuid)s '
                        '(project %(project)s) that ip_pool_stamp did not '
                        'sign with any [ip_pools] stamp_secret',
                        {'uuid': spec_obj.instance_uuid,
                         'project': spec_obj.project_id})
        if _is_move(spec_obj):
            return self._source_host_pool(spec_obj)
        if self._settings.stamp_secrets:
            # A secret means nova-api stamps every create: a boot without a
            # valid stamp went round ip_pool_stamp, or a nova-api lacks it.
            LOG.warning('Refusing instance %(uuid)s: its boot has no valid '
                        'ip_pool stamp although [ip_pools] stamp_secret is '
                        'set; every nova-api must run ip_pool_stamp with the '
                        'same secret', {'uuid': spec_obj.instance_uuid})
            raise exception.NoValidHost(
                reason='The request was not stamped by ip_pool_stamp.')
        hops = self._settings.trusted_proxy_hops
        match = self._settings.pool_map.pool_for_chain(
            self._chain(spec_obj), hops)
        if match.address is None:
            return pools.NO_POOL, ('no acceptable client address with %d '
                                   'trusted proxy hops' % hops)
        if match.pool is None:
            return pools.NO_POOL, ('client %s is in no client network and '
                                   '[ip_pools] default_pool is unset'
                                   % match.address)
        if match.network is None:
            return match.pool, ('client %s is in no client network: default '
                                'pool %s' % (match.address, match.pool))
        return match.pool, 'client %s is in %s' % (match.address,
                                                   match.network)

    def _source_host_pool(self, spec_obj):
        source = (_field(spec_obj, 'ignore_hosts') or [None])[0]
        if source is None:
            return UNPINNED_MOVE, ('it has no ip_pool stamp and Nova names '
                                   'no host it leaves')
        pool = (self._aggregate_pool_of_source(source) if self._by_aggregate
                else self._hostnames.pool_of(source))
        if pool is None:
            return UNPINNED_MOVE, ('it has no ip_pool stamp and the host it '
                                   'leaves, %s, is in no IP pool' % source)
        LOG.info('Instance %(uuid)s has no ip_pool stamp: it stays in IP '
                 'pool %(pool)r of %(source)s, the host it leaves',
                 {'uuid': spec_obj.instance_uuid, 'pool': pool,
                  'source': source})
        return pool, 'unstamped, the pool of %s, the host it leaves' % source

    def _aggregate_pool_of_source(self, host):
        # One API database query, only for moves of unstamped servers: the
        # host being left is not among the filtered host states.
        key = self._settings.aggregate_metadata_key
        named = {aggregate.metadata[key] for aggregate in
                 objects.AggregateList.get_by_host(
                     nova_context.get_admin_context(), host, key=key)}
        return named.pop() if len(named) == 1 else None

    def _hostname_host_pool(self, host_state):
        return self._hostnames.pool_of(host_state.host)

    def _aggregate_host_pool(self, host_state):
        found = None
        cache = self._aggregate_pools
        for aggregate in host_state.aggregates:
            # Nova replaces an Aggregate object when the aggregate changes,
            # so the pool it names is cached per object: a dict probe per
            # host instead of reading its metadata.
            cached = cache.get(id(aggregate))
            if cached is None:
                cached = self._remember(aggregate)
            if cached[1] is not None and cached[1] != found:
                if found is not None:
                    self._report_conflict(host_state)
                    return None
                found = cached[1]
        return found

    def _remember(self, aggregate):
        if len(self._aggregate_pools) >= _MAX_CACHED_AGGREGATES:
            # Replaced aggregates stay referenced here; start afresh.
            self._aggregate_pools.clear()
        cached = (aggregate, aggregate.metadata.get(
            self._settings.aggregate_metadata_key))
        self._aggregate_pools[id(aggregate)] = cached
        return cached

    def _report_conflict(self, host_state):
        key = self._settings.aggregate_metadata_key
        named = frozenset(aggregate.metadata[key]
                          for aggregate in host_state.aggregates
                          if key in aggregate.metadata)
        if (host_state.host, named) not in self._conflicts_reported:
            # Once per host and set of pools: it stays until fixed.
            self._conflicts_reported.add((host_state.host, named))
            LOG.warning('Host %(host)s is in aggregates naming IP pools '
                        '%(pools)s: it is in no pool until one is removed',
                        {'host': host_state.host,
                         'pools': ', '.join(sorted(named))})

    def _log_rejected(self, host_state, pool, host_pool):
        LOG.debug('%(host)s is not in IP pool %(pool)r (its pool: %(its)r)',
                  {'host': host_state.host, 'pool': pool,
                   'its': host_pool(host_state)})
        return False

    def _unknown_pool_note(self, pool):
        if self._by_aggregate or pool in self._settings.pool_map.pools:
            return ''
        return '; the pool is not in this [ip_pools] configuration'

    @staticmethod
    def _chain(spec_obj):
        context = getattr(spec_obj, '_context', None)
        return getattr(context, 'remote_address', None)

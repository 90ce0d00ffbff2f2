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
(:mod:`openstack_ext.nova.placement_hook`) requires the pool's host
aggregates (:mod:`openstack_ext.nova.pool_aggregates`), so placement's cut
of ``[scheduler] max_placement_results`` candidates is taken among the
pool's hosts only, however large the cloud. Then this filter checks every
host it is given, so nothing outside the pool passes even if an aggregate
holds a host it should not.

A pool's hosts are always the hosts of the Nova host aggregates whose
``ip_pool`` metadata names it. With ``host_selection = hostname_prefix``
(the default), run ``openstack-ext sync-pools`` after ``nova-manage
cell_v2 discover_hosts`` and on a timer: it keeps one aggregate per pool,
``ip-pool-<pool>``, from the hosts' names
(:mod:`openstack_ext.nova.pool_sync`); a host discovered since its last
run is added by the scheduler itself the first time a request for its
pool would otherwise fail. With
``host_selection = aggregate_metadata`` you keep the aggregates.

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
``exclusive_pools = doc`` then keeps everyone else off doc's hosts (boots
and moves, in placement's query by a forbidden aggregate and in this
filter) while doc's hosts are being paid for; servers already there stay
and ``openstack-ext audit-pools`` lists them.

and the ``ip_pool_stamp`` filter in nova-api's api-paste.ini
(etc/nova/api-paste-ip-pool-stamp.ini). Behind load balancers, also set
``[oslo_middleware] enable_proxy_headers_parsing = True`` on nova-api and
``[ip_pools] trusted_proxy_hops`` to the number of them. A bad
``[ip_pools]`` value stops the scheduler at start, naming the option and
the value; so does parsing proxy headers with no trusted proxy hop, which
would let clients write their own address.

Which pool a request needs, decided once per request
(:mod:`openstack_ext.nova.pool_decision`):

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

A request never lands in another pool. It fails with NoValidHost when:

* the client is in no pool (and ``default_pool`` is unset); the fault
  says "The client's network is in no IP pool.";
* no compute host is in the pool: "IP pool 'qa' has no compute host.";
* the pool has hosts but none with room, or none that Nova's other filters
  accept: the fault is Nova's own ("No valid host was found. There are not
  enough hosts available."), so that tooling matching it keeps working, and
  the scheduler log gives the pool's part: "No host of IP pool 'doc' has
  room for this request (the pool has 2 hosts)."; for a move, "... (the
  pool has 1 host, including ops-1, which the server leaves)"; or
  "Placement offered hosts of IP pool 'doc' with room for this request,
  but none passed the scheduler's filters (the pool has 2 hosts).".

The scheduler log names the pool, why it applies and the request address.
A host in aggregates naming two pools is in none (logged once). Nova skips
filters and request filters when an admin forces a host (``az:host``,
forced live migration or evacuation): forcing is an admin's explicit
override.

Cost: the pool is resolved once per request (HMAC check or network lookup,
independent of the number of networks) and the placement constraint is
one API database query, as for Nova's availability zones; the per-host
test is a cached dict probe (``hostname_prefix``) or a look at the host's
aggregates in the scheduler's memory (``aggregate_metadata``). The
scheduler keeps no list of hosts and refreshes nothing. Because
the filters and weighers then see only the pool's candidates, a pooled boot
costs less than an unpooled one (``benchmarks/nova_scheduling.py``).
"""

from oslo_log import log as logging
from oslo_middleware import http_proxy_to_wsgi

import nova.conf
from nova.scheduler import filters
from nova.scheduler.filters import utils as filter_utils

from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import nova_access
from openstack_ext.nova import placement_hook
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pool_decision
from openstack_ext.nova import pool_sync
from openstack_ext.nova import pools

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF
pool_conf.register_opts(CONF)


class ClientNetworkPoolFilter(filters.BaseHostFilter):
    """Only hosts of the pool of the client that created the server pass.

    The pool comes from the server's signed ``ip_pool`` hint, else, for a
    boot, from the client address and, for a move, from the host it leaves
    (see the module docstring).
    """

    # The pool does not change within a request, and Nova places the later
    # servers of a multi-create among the hosts that passed for the first.
    run_filter_once_per_request = True

    def __init__(self):
        super(ClientNetworkPoolFilter, self).__init__()
        # Raising here stops nova-scheduler at start with the message.
        settings = pools.load_settings(CONF)
        # A nova.conf shared with nova-api tells whether it believes
        # X-Forwarded-For; usually unset on a scheduler-only host.
        CONF.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
        pools.check_proxy_headers(
            settings, CONF.oslo_middleware.enable_proxy_headers_parsing)
        self._decider = pool_decision.PoolDecider(settings)
        self._key = settings.aggregate_metadata_key
        self._exclusive = settings.exclusive_pools
        if self._decider.by_aggregate:
            sync = None
            aggregates = pool_aggregates.PoolAggregates(self._key)
        else:
            sync = pool_sync.PoolSync(settings)
            aggregates = pool_aggregates.PoolAggregates(self._key,
                                                        sync.belongs)
        placement_hook.install(placement_hook.PoolRequestFilter(
            self._decider, aggregates, pool_aggregates.LeftHosts(), sync))
        self._conflicts_reported = set()
        if not settings.stamp_secrets:
            LOG.warning('[ip_pools] stamp_secret is unset: ip_pool hints are '
                        'ignored, new servers are placed by their request '
                        'address and moved servers by the host they leave.')

    def host_passes(self, host_state, spec_obj):
        """Whether the host is in the pool the request needs."""
        try:
            pool, _ = self._decider.decide(spec_obj)
        except pool_decision.PoolRefused as refused:
            LOG.debug('%(host)s refused: %(reason)s',
                      {'host': host_state.host, 'reason': refused.reason})
            return False
        except Exception:
            # A filter never raises: the request finds no host (fail closed),
            # and the other hosts are not asked again.
            LOG.exception('Could not decide the IP pool of instance %s',
                          spec_obj.instance_uuid)
            nova_access.note_decision(spec_obj, (
                None, None, 'The IP pool of the request could not be '
                'decided.'))
            return False
        if not pool_decision.constrains(pool):
            return self._open_to_all(host_state)
        its_pool = self._host_pool(host_state)
        if its_pool != pool:
            LOG.debug('%(host)s is not in IP pool %(pool)r (its pool: '
                      '%(its)r)', {'host': host_state.host, 'pool': pool,
                                   'its': its_pool})
            return False
        return True

    def _open_to_all(self, host_state):
        """Whether an unconstrained request may use the host."""
        if not self._exclusive:
            return True
        its_pool = self._host_pool(host_state)
        if its_pool in self._exclusive:
            LOG.debug('%(host)s is in exclusive IP pool %(pool)r, not open '
                      'to clients in no pool', {'host': host_state.host,
                                                'pool': its_pool})
            return False
        return True

    def _host_pool(self, host_state):
        if not self._decider.by_aggregate:
            return self._decider.hostnames.pool_of(host_state.host)
        named = filter_utils.aggregate_values_from_key(host_state, self._key)
        if len(named) > 1:
            self._report_conflict(host_state.host, named)
            return None
        return next(iter(named), None)

    def _report_conflict(self, host, named):
        named = frozenset(named)
        if (host, named) not in self._conflicts_reported:
            # Once per host and set of pools: it stays until fixed.
            self._conflicts_reported.add((host, named))
            LOG.warning('Host %(host)s is in aggregates naming IP pools '
                        '%(pools)s: it is in no pool until one is removed',
                        {'host': host, 'pools': ', '.join(sorted(named))})

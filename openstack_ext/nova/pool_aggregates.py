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

"""The placement aggregates of IP pools, for ``member_of`` queries.

Placement picks at most ``[scheduler] max_placement_results`` candidates
before any host filter runs; told nothing about pools, it can leave all of
a pool's hosts out. :mod:`openstack_ext.nova.placement_hook` therefore asks
placement for the hosts of the request's pool only, by the aggregates this
module names. Both return ``(required, forbidden)`` aggregate UUIDs for a
pool, and raise :class:`PoolHasNoHost` when no compute host is in it.

``host_selection = aggregate_metadata`` (:class:`MetadataAggregates`)
  Required: the host aggregates whose ``aggregate_metadata_key`` names the
  pool. Nova mirrors every host aggregate into placement under the
  aggregate's UUID, so nothing is written. Forbidden: the aggregates that
  name another pool, so that a host in two pools (in none, for the filter)
  takes no candidate slot. Read from the API database per request, as
  Nova's ``map_az_to_placement_aggregate`` does (one query).

``host_selection = hostname_prefix`` (:class:`HostnameAggregates`)
  Placement knows no hostnames, so nova-scheduler keeps one placement
  aggregate per pool, UUID ``uuid5(POOL_AGGREGATE_NAMESPACE, pool)`` (the
  same on every scheduler, stable across restarts, never a Nova host
  aggregate: nothing shows it in ``openstack aggregate list``). It writes
  to placement only the membership of compute node providers in these
  aggregates, adding each provider's other aggregates untouched (Nova's
  ``aggregate_add_host`` / ``aggregate_remove_host``):

  * a compute node whose host is in pool P joins P's aggregate;
  * a provider in P's aggregate whose host is not (or no longer) in P, or
    that is no compute node, leaves it.

  When: at scheduler start (if the databases and placement answer), then
  at the first request for a pool after ``[ip_pools]
  pool_aggregate_refresh`` seconds (60) since the last look, and at a
  request for a pool of which no host is known yet (at most every 10
  seconds, so that requests for an empty pool cannot make the scheduler
  list the whole cloud each time). A look lists the
  compute nodes of every cell (one query per cell) and reads each pool's
  aggregate from placement (one ``GET /resource_providers?member_of=`` per
  pool); writes happen only for hosts that changed, so at 10,000 hosts a
  request costs a dict probe and a minute costs one listing. A new compute
  host therefore gets servers within ``pool_aggregate_refresh`` seconds of
  registering with placement. Several schedulers write the same
  memberships (idempotent; placement's generations settle races); give
  them the same ``[ip_pools]``. The aggregates of pools no longer
  configured are left in place and unused. If a look fails (database or
  placement unreachable), the memberships already in placement are used
  and the failure is logged; a scheduler that has never read them refuses
  the request ("The hosts of the IP pools could not be read.").

The host a move leaves (:class:`LeftHosts`, both modes)
  Placement cannot exclude a provider, and Nova drops the host a server
  leaves (``ignore_hosts``) only after placement's cut: at a cut of 1, a
  move whose single candidate is that host fails although the pool has
  room elsewhere. So for a pool-constrained move the hook also *forbids*
  (``member_of=!in:``) one placement aggregate per host left, UUID
  ``uuid5(POOL_AGGREGATE_NAMESPACE, 'host:' + host)``, which holds the
  compute nodes of that host only. nova-scheduler writes that membership
  when a move first leaves the host (one API and one cell database query
  per move, and one placement read and write per compute node the first
  time it is left, per scheduler process); it is left in place. If the
  write fails, the move is only not narrowed (Nova still drops the host
  after placement).
"""

import threading
import time
import uuid

from oslo_log import log as logging

from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler.client import report

LOG = logging.getLogger(__name__)

# Namespace of the pools' placement aggregate UUIDs; never change it, or
# every scheduler loses the aggregates it wrote.
POOL_AGGREGATE_NAMESPACE = uuid.UUID('5b2cbd2e-8a53-4f4e-9d46-0c6b7a1f5e01')
_PLACEMENT_VERSION = '1.3'  # member_of on GET /resource_providers
# Seconds between looks prompted by requests for a pool with no known host.
_EMPTY_POOL_RETRY = 10
_STALE, _EMPTY = 'stale', 'empty'


class PoolHasNoHost(exception.RequestFilterFailed):
    """No compute host is in the pool: Nova turns this into NoValidHost."""


def pool_aggregate_uuid(pool):
    """The UUID of the placement aggregate of hostname pool *pool*."""
    return str(uuid.uuid5(POOL_AGGREGATE_NAMESPACE, pool))


def host_aggregate_uuid(host):
    """The UUID of the placement aggregate of compute host *host* alone."""
    # No pool name contains ':', so this is never a pool's aggregate.
    return str(uuid.uuid5(POOL_AGGREGATE_NAMESPACE, 'host:' + host))


class MetadataAggregates(object):
    """Pools named by host aggregate metadata."""

    def __init__(self, key):
        self._key = key

    def for_pool(self, ctxt, pool):
        required, others = [], []
        for aggregate in objects.AggregateList.get_by_metadata(
                ctxt, key=self._key):
            named = aggregate.metadata.get(self._key)
            (required if named == pool else others).append(aggregate)
        # A host also in an aggregate naming another pool is in neither.
        hosts = _hosts(required) - _hosts(others)
        if not hosts:
            raise PoolHasNoHost(reason='IP pool %r has no compute host: no '
                                'host aggregate with %s=%s holds a host '
                                'that is in no other pool.'
                                % (pool, self._key, pool))
        return ([aggregate.uuid for aggregate in required],
                {aggregate.uuid for aggregate in others}, frozenset(hosts))


def _hosts(aggregates):
    return set().union(*(aggregate.hosts or () for aggregate in aggregates))


class HostnameAggregates(object):
    """Pools named by hostname prefix, kept as placement aggregates."""

    def __init__(self, hostnames, pools, refresh):
        """Keep *pools* (names) as placement aggregates.

        :param hostnames: a :class:`~openstack_ext.nova.pools.HostnamePools`.
        :param refresh: ``[ip_pools] pool_aggregate_refresh``, seconds.
        """
        self._hostnames = hostnames
        self._pools = frozenset(pools)
        self._refresh = refresh
        self._members = {}   # pool -> provider UUIDs in its aggregate
        self._hosts = {}     # pool -> names of the hosts of those
        self._synced_at = None
        self._empty_look_at = -_EMPTY_POOL_RETRY
        self._lock = threading.Lock()

    def for_pool(self, ctxt, pool):
        """``(required, forbidden, hosts)``: aggregate UUIDs, host names."""
        if self._look_due(pool):
            with self._lock:
                due = self._look_due(pool)
                if due == _EMPTY:
                    self._empty_look_at = time.monotonic()
                if due:
                    self._try_sync(ctxt)
        if not self._members.get(pool):
            raise PoolHasNoHost(reason='IP pool %r has no compute host.'
                                % pool)
        return [pool_aggregate_uuid(pool)], set(), self._hosts[pool]

    def _look_due(self, pool):
        """Why the hosts must be listed again for *pool*, or ``None``."""
        now = time.monotonic()
        if (self._synced_at is None or
                now - self._synced_at >= self._refresh):
            return _STALE
        # A pool with no known host: look again, but not for every request
        # (requests for an empty pool must not make the scheduler list the
        # whole cloud each time).
        if (not self._members.get(pool) and
                now - self._empty_look_at >= _EMPTY_POOL_RETRY):
            return _EMPTY
        return None

    def _try_sync(self, ctxt):
        try:
            self.sync(ctxt)
        except Exception as exc:
            # What placement already holds still constrains the query.
            LOG.warning('Could not bring the placement aggregates of the IP '
                        'pools up to date (%s); using what was known', exc)
            if self._synced_at is None:
                raise exception.RequestFilterFailed(
                    reason='The hosts of the IP pools could not be read.')
            self._synced_at = time.monotonic()

    def sync(self, ctxt):
        """Make each pool's placement aggregate hold exactly its hosts."""
        client = report.report_client_singleton()
        wanted = {pool: {} for pool in self._pools}
        for node in _compute_nodes(ctxt):
            pool = self._hostnames.pool_of(node.host)
            if pool in wanted:
                wanted[pool][node.uuid] = node
        members, hosts = {}, {}
        for pool, nodes in wanted.items():
            aggregate = pool_aggregate_uuid(pool)
            present = _providers_in(client, ctxt, aggregate)
            for rp_uuid in set(nodes) - set(present):
                try:
                    client.aggregate_add_host(ctxt, aggregate,
                                              rp_uuid=rp_uuid)
                except exception.NovaException as exc:
                    # Not registered with placement yet: next time.
                    LOG.info('Could not add %(host)s to the placement '
                             'aggregate of IP pool %(pool)r yet: %(exc)s',
                             {'host': nodes[rp_uuid].host, 'pool': pool,
                              'exc': exc})
                    continue
                present[rp_uuid] = nodes[rp_uuid].hypervisor_hostname
                LOG.info('Added compute node %(node)s of host %(host)s to '
                         'the placement aggregate %(agg)s of IP pool '
                         '%(pool)r', {'node': rp_uuid, 'agg': aggregate,
                                      'host': nodes[rp_uuid].host,
                                      'pool': pool})
            for rp_uuid in set(present) - set(nodes):
                try:
                    client.aggregate_remove_host(ctxt, aggregate,
                                                 present[rp_uuid])
                except exception.NovaException as exc:
                    # It stays a candidate that the host filter turns down.
                    LOG.warning('Could not remove provider %(rp)s from the '
                                'placement aggregate of IP pool %(pool)r: '
                                '%(exc)s', {'rp': rp_uuid, 'pool': pool,
                                            'exc': exc})
                    continue
                del present[rp_uuid]
                LOG.info('Removed provider %(rp)s from the placement '
                         'aggregate of IP pool %(pool)r: not a host of it',
                         {'rp': rp_uuid, 'pool': pool})
            members[pool] = frozenset(present).intersection(nodes)
            hosts[pool] = frozenset(nodes[rp].host for rp in members[pool])
        self._members, self._hosts = members, hosts
        self._synced_at = time.monotonic()
        LOG.debug('IP pool placement aggregates: %s', ', '.join(
            '%s=%d hosts' % item for item in sorted(
                (pool, len(m)) for pool, m in members.items())))


def _compute_nodes(ctxt):
    for cell in objects.CellMappingList.get_all(ctxt):
        if cell.is_cell0():
            continue
        with nova_context.target_cell(ctxt, cell) as cell_ctxt:
            for node in objects.ComputeNodeList.get_all(cell_ctxt):
                yield node


def _providers_in(client, ctxt, aggregate):
    """``{provider UUID: name}`` of the members of *aggregate*."""
    response = client.get('/resource_providers?member_of=%s' % aggregate,
                          version=_PLACEMENT_VERSION,
                          global_request_id=ctxt.global_id)
    if response.status_code != 200:
        raise exception.ResourceProviderRetrievalFailed(
            message='placement answered %d listing the members of '
                    'aggregate %s: %s' % (response.status_code, aggregate,
                                          response.text))
    return {rp['uuid']: rp['name']
            for rp in response.json()['resource_providers']}


class LeftHosts(object):
    """One-host placement aggregates, to forbid the hosts moves leave."""

    # More would only lengthen the placement query (live migration adds
    # every host it tried).
    MAX_FORBIDDEN = 20

    def __init__(self):
        self._members = set()  # compute node UUIDs known to be in theirs

    def forbidden(self, ctxt, hosts):
        """The aggregate UUIDs that exclude *hosts* from placement's answer."""
        forbidden = set()
        for host in hosts[:self.MAX_FORBIDDEN]:
            aggregate = host_aggregate_uuid(host)
            forbidden.add(aggregate)
            try:
                for node in _compute_nodes_of(ctxt, host):
                    if node.uuid not in self._members:
                        report.report_client_singleton().aggregate_add_host(
                            ctxt, aggregate, rp_uuid=node.uuid)
                        self._members.add(node.uuid)
            except Exception as exc:
                # Nova still drops the host after placement's cut.
                LOG.warning('Could not put host %(host)s into its placement '
                            'aggregate %(agg)s (%(exc)s): placement may offer '
                            'it to the move that leaves it', {
                                'host': host, 'agg': aggregate, 'exc': exc})
        return forbidden


def _compute_nodes_of(ctxt, host):
    mapping = objects.HostMapping.get_by_host(ctxt, host)
    with nova_context.target_cell(ctxt, mapping.cell_mapping) as cell_ctxt:
        return objects.ComputeNodeList.get_all_by_host(cell_ctxt, host)

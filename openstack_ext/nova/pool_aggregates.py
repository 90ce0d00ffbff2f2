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

"""The aggregates of IP pools in the placement query.

Placement picks at most ``[scheduler] max_placement_results`` candidates
before any host filter runs; told nothing about pools, it can leave all of
a pool's hosts out. :mod:`openstack_ext.nova.placement_hook` therefore asks
placement for the hosts of the request's pool only (``member_of``).

A pool's hosts are the hosts of the Nova host aggregates whose metadata
``aggregate_metadata_key`` (``ip_pool``) names it, in both host-selection
modes: Nova mirrors every host aggregate into placement under the
aggregate's UUID, so the scheduler only reads. With ``aggregate_metadata``
the operator keeps them; with ``hostname_prefix``, ``openstack-ext
sync-pools`` keeps one aggregate per pool, ``ip-pool-<pool>``
(:mod:`openstack_ext.nova.pool_sync`). :class:`PoolAggregates` reads them
where nova-scheduler's host manager keeps them in memory (up to date with
every change Nova's aggregate API and ``sync-pools`` make), so a request
reads no database; without a host manager (outside nova-scheduler) it
reads the API database, as Nova's ``map_az_to_placement_aggregate`` does.

The host a move leaves (:class:`LeftHosts`, both modes)
  Placement cannot exclude a provider, and Nova drops the host a server
  leaves (``ignore_hosts``) only after placement's cut: at a cut of 1, a
  move whose single candidate is that host fails although the pool has
  room elsewhere. So for a pool-constrained move the hook also *forbids*
  (``member_of=!in:``) one placement aggregate per host left, UUID
  ``uuid5(POOL_AGGREGATE_NAMESPACE, 'host:' + host)``, which holds the
  compute nodes of that host only. nova-scheduler adds that membership
  when a move first leaves the host (one API and one cell database query
  per move, and one placement read and write per compute node the first
  time it is left, per scheduler process); nothing ever removes it, so
  writers cannot undo each other. If the write fails, the move is only not
  narrowed (Nova still drops the host after placement).
"""

import uuid

from oslo_log import log as logging

from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler.client import report

LOG = logging.getLogger(__name__)

# Namespace of the placement aggregates this package names itself; never
# change it. Releases before sync-pools kept hostname pools in placement
# aggregates uuid5(namespace, pool) (see legacy_pool_aggregate_uuid).
POOL_AGGREGATE_NAMESPACE = uuid.UUID('5b2cbd2e-8a53-4f4e-9d46-0c6b7a1f5e01')
AGGREGATE_NAME = 'ip-pool-%s'


class PoolHasNoHost(exception.RequestFilterFailed):
    """No compute host is in the pool: Nova turns this into NoValidHost."""


def aggregate_name(pool):
    """The name of the host aggregate sync-pools keeps for *pool*."""
    return AGGREGATE_NAME % pool


def legacy_pool_aggregate_uuid(pool):
    """The placement-only aggregate of *pool* of earlier releases."""
    return str(uuid.uuid5(POOL_AGGREGATE_NAMESPACE, pool))


def host_aggregate_uuid(host):
    """The UUID of the placement aggregate of compute host *host* alone."""
    # No pool name contains ':', so this is never a pool's aggregate.
    return str(uuid.uuid5(POOL_AGGREGATE_NAMESPACE, 'host:' + host))


class PoolAggregates(object):
    """The host aggregates that name each pool, read per request."""

    def __init__(self, key, belongs=None):
        """:param belongs: ``belongs(host, pool)``, for ``hostname_prefix``.

        Without it (``aggregate_metadata``) a host also in an aggregate
        naming another pool is in neither, and those aggregates are
        forbidden so that such hosts take no candidate slot.
        """
        self._key = key
        self._belongs = belongs

    def for_pool(self, ctxt, pool, aggregates=None):
        """``(required, forbidden, hosts)``: aggregate UUIDs, host names.

        :param aggregates: every host aggregate (the scheduler's memory);
            ``None`` reads the API database.
        :raises PoolHasNoHost: no aggregate names the pool, or none holds a
            host of it.
        """
        if aggregates is None:
            aggregates = objects.AggregateList.get_by_metadata(
                ctxt, key=self._key)
        required, others = [], []
        for aggregate in aggregates:
            named = aggregate.metadata.get(self._key)
            if named is None:
                continue
            (required if named == pool else others).append(aggregate)
        if self._belongs is None:
            hosts = frozenset(_hosts(required) - _hosts(others))
            forbidden = {aggregate.uuid for aggregate in others}
        else:
            hosts = HostnamePoolHosts(required, pool, self._belongs)
            forbidden = set()
        if not hosts:
            raise PoolHasNoHost(reason='IP pool %r has no compute host.'
                                % pool)
        return ([aggregate.uuid for aggregate in required], forbidden,
                hosts)

    def naming(self, ctxt, names, aggregates=None):
        """The UUIDs of the aggregates that name a pool among *names*.

        :param aggregates: as for :meth:`for_pool`.
        """
        if aggregates is None:
            aggregates = objects.AggregateList.get_by_metadata(
                ctxt, key=self._key)
        return {aggregate.uuid for aggregate in aggregates
                if aggregate.metadata.get(self._key) in names}


class HostnamePoolHosts(object):
    """The hosts of a hostname pool's aggregates whose name is in it.

    Worked out only when asked, and only as far as asked: a request needs
    to know that there is one (the first host usually says so); only a
    failing request counts them all, for the log.
    """

    def __init__(self, aggregates, pool, belongs):
        self._aggregates = aggregates
        self._pool = pool
        self._belongs = belongs
        self._all = None

    def _each(self):
        for aggregate in self._aggregates:
            for host in aggregate.hosts or ():
                if self._belongs(host, self._pool):
                    yield host

    def __bool__(self):
        return next(self._each(), None) is not None

    def all(self):
        if self._all is None:
            self._all = frozenset(self._each())
        return self._all

    def __len__(self):
        return len(self.all())

    def __and__(self, other):
        return self.all() & other

    def __rand__(self, other):
        return other & self.all()

    def __iter__(self):
        return iter(self.all())

    def __eq__(self, other):
        return self.all() == other

    __hash__ = None


def _hosts(aggregates):
    return set().union(*(aggregate.hosts or () for aggregate in aggregates))


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
                for node in compute_nodes_of(ctxt, host):
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


def compute_nodes_of(ctxt, host):
    mapping = objects.HostMapping.get_by_host(ctxt, host)
    with nova_context.target_cell(ctxt, mapping.cell_mapping) as cell_ctxt:
        return objects.ComputeNodeList.get_all_by_host(cell_ctxt, host)

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

"""Who writes the membership of hostname pools, and when.

With ``host_selection = hostname_prefix`` each pool is an ordinary Nova
host aggregate, ``ip-pool-<pool>``, with the metadata
``ip_pool=<pool>`` (``aggregate_metadata_key``). Nova mirrors its hosts
into placement under the aggregate's UUID, and operators list and audit
it like any aggregate (``openstack aggregate show ip-pool-doc``).

One writer: ``openstack-ext sync-pools`` (:meth:`PoolSync.sync`)
  Run where ``nova-manage`` runs, after ``nova-manage cell_v2
  discover_hosts`` and on a timer (a few minutes). It creates the missing
  pool aggregates, adds every mapped host to the aggregate of its pool
  (by name), removes from a pool aggregate a host whose name is not in
  that pool, and puts back into placement a member that placement lost
  (an ``openstack resource provider aggregate set`` that left it out).
  It reads the host mappings of the API database in batches of 1,000 (the
  host name only, never ``compute_nodes`` rows), one aggregate query and
  one placement listing per pool; it writes only what changed, so a run
  that finds nothing to do costs about one listing of the host names.
  Each change is committed at once: an interrupted first sync is resumed by
  running it again, and progress is reported every 10,000 hosts.

Add-only catch-up in nova-scheduler (:meth:`PoolSync.catch_up`)
  A host discovered after the last sync is in no pool aggregate, so
  placement would not offer it. When a pooled request is about to fail
  with NoValidHost, the scheduler reads the host mappings created since
  the last one it saw (by primary key, the host name only: nothing when
  nothing is new; every mapping the first time in a process), keeps those
  that its host manager does not already know in their pool's aggregate,
  adds them as sync-pools would, and asks placement once more. Only a
  request that would fail pays for it, and never waits for another: a
  catch-up already running in the process is not waited for. At most 20
  hosts per catch-up; sync-pools does the rest.

Why no writer can drop a host from its pool
  A host belongs to a pool by its name alone, so whether a writer may
  remove it never depends on a listing that may be out of date: only
  sync-pools removes, only hosts whose name is not in the pool, and it
  reads the aggregate again just before. Adding is idempotent (an add that
  finds the host there already does nothing; placement's provider
  generations retry concurrent writes), so any number of catch-ups and
  syncs, in any interleaving, leave every host of a pool in its aggregate.
  Give every nova-scheduler and sync-pools the same ``[ip_pools]``:
  writers with other pools would move hosts back and forth.
"""

import threading

from oslo_log import log as logging

from nova import exception
from nova import objects
from nova.scheduler.client import query
from nova.scheduler.client import report

from openstack_ext.nova import nova_access
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pools

LOG = logging.getLogger(__name__)

BATCH = 1000
PROGRESS_EVERY = 10000
# Hosts a scheduler adds per catch-up; the request path stays short.
CATCH_UP_LIMIT = 20
_PLACEMENT_VERSION = '1.3'  # member_of on GET /resource_providers


class PoolSync(object):
    """Keeps the host aggregates of hostname pools (see the module)."""

    def __init__(self, settings, report_client=None, query_client=None):
        self._pools = frozenset(settings.pool_map.pools)
        self._key = settings.aggregate_metadata_key
        self._hostnames = pools.HostnamePools(self._pools)
        self._report = report_client
        self._query = query_client
        # catch_up: the last host mapping seen, and hosts whose placement
        # mirror failed (tried again at the next catch-up).
        self._last_mapping = 0
        self._unmirrored = {}
        self._catching_up = threading.Lock()

    def pool_of(self, host):
        """The pool *host* belongs to by name, or ``None``."""
        return self._hostnames.pool_of(host)

    def belongs(self, host, pool):
        return self._hostnames.pool_of(host) == pool

    @property
    def report(self):
        if self._report is None:
            self._report = report.report_client_singleton()
        return self._report

    @property
    def query(self):
        if self._query is None:
            self._query = query.SchedulerQueryClient()
        return self._query

    # The aggregates.

    def aggregates(self, ctxt, create=True):
        """``{pool: Aggregate}``: the aggregate each pool's hosts go to.

        The one named ``ip-pool-<pool>`` when there is one, else the oldest
        that names the pool; created when missing (if *create*).
        """
        found = {}
        for aggregate in objects.AggregateList.get_by_metadata(
                ctxt, key=self._key):
            pool = aggregate.metadata.get(self._key)
            if pool not in self._pools:
                continue
            mine = aggregate.name == pool_aggregates.aggregate_name(pool)
            if pool not in found or mine or (
                    found[pool].name != aggregate.name and
                    aggregate.id < found[pool].id):
                found[pool] = aggregate
        for pool in sorted(self._pools - set(found)):
            if create:
                found[pool] = self._create(ctxt, pool)
        return found

    def _create(self, ctxt, pool):
        aggregate = objects.Aggregate(
            ctxt, name=pool_aggregates.aggregate_name(pool),
            metadata={self._key: pool})
        try:
            aggregate.create()
        except exception.AggregateNameExists:
            # Another writer created it first.
            for existing in objects.AggregateList.get_by_metadata(
                    ctxt, key=self._key, value=pool):
                if existing.name == aggregate.name:
                    return existing
            raise
        LOG.info('Created host aggregate %(name)s (%(uuid)s) for IP pool '
                 '%(pool)r', {'name': aggregate.name, 'uuid': aggregate.uuid,
                              'pool': pool})
        return aggregate

    # Writes, each idempotent.

    def _add(self, ctxt, aggregate, host):
        """Put *host* into *aggregate* and placement; False if not mirrored."""
        try:
            aggregate.add_host(host)
        except exception.AggregateHostExists:
            pass
        else:
            LOG.info('Added host %(host)s to %(name)s, the host aggregate of '
                     'IP pool %(pool)r', {'host': host, 'name': aggregate.name,
                                          'pool': aggregate.metadata.get(
                                              self._key)})
        return self._mirror(ctxt, aggregate, host)

    def _mirror(self, ctxt, aggregate, host, have=frozenset()):
        """Add the compute nodes of *host* to the aggregate in placement."""
        try:
            nodes = pool_aggregates.compute_nodes_of(ctxt, host)
            for node in nodes:
                if node.uuid not in have:
                    self.report.aggregate_add_host(ctxt, aggregate.uuid,
                                                   rp_uuid=node.uuid)
        except Exception as exc:
            # Not in placement yet: the next run (or catch-up) adds it.
            LOG.info('Host %(host)s is in %(name)s but not yet in its '
                     'placement aggregate: %(exc)s',
                     {'host': host, 'name': aggregate.name, 'exc': exc})
            return False
        return bool(nodes)

    def _remove(self, ctxt, aggregate, host):
        try:
            aggregate.delete_host(host)
        except exception.AggregateHostNotFound:
            # Another writer was first (and removed it from placement).
            aggregate.hosts.remove(host)
            return
        LOG.info('Removed host %(host)s from %(name)s: its name is not in IP '
                 'pool %(pool)r', {'host': host, 'name': aggregate.name,
                                   'pool': aggregate.metadata.get(self._key)})
        try:
            for node in pool_aggregates.compute_nodes_of(ctxt, host):
                self.report.aggregate_remove_host(
                    ctxt, aggregate.uuid, node.hypervisor_hostname)
        except Exception as exc:
            # The host filter turns it down meanwhile.
            LOG.warning('Could not remove host %(host)s from the placement '
                        'aggregate %(agg)s: %(exc)s',
                        {'host': host, 'agg': aggregate.uuid, 'exc': exc})

    # The writer.

    def sync(self, ctxt, progress=None):
        """Bring every pool aggregate up to date; return the counts.

        :param progress: called with a line every 10,000 hosts.
        """
        counts = dict.fromkeys(('hosts', 'added', 'removed', 'repaired',
                                'waiting'), 0)
        aggregates = self.aggregates(ctxt)
        members = {pool: set(aggregate.hosts or ())
                   for pool, aggregate in aggregates.items()}
        last = 0
        while True:
            rows = nova_access.host_mappings_after(ctxt, last, BATCH)
            changed = set()
            for _, host in rows:
                pool = self.pool_of(host)
                if pool in aggregates and host not in members[pool]:
                    mirrored = self._add(ctxt, aggregates[pool], host)
                    members[pool].add(host)
                    counts['added'] += 1
                    counts['waiting'] += not mirrored
                    changed.add(pool)
            self._tell_schedulers(ctxt, [aggregates[p] for p in changed])
            before = counts['hosts']
            counts['hosts'] += len(rows)
            if progress and (counts['hosts'] // PROGRESS_EVERY >
                             before // PROGRESS_EVERY):
                progress('%d hosts read, %d added to their pool so far'
                         % (counts['hosts'], counts['added']))
            if len(rows) < BATCH:
                break
            last = rows[-1][0]
        for pool, aggregate in sorted(aggregates.items()):
            # Read again just before removing: what is decided is the name.
            aggregate = objects.Aggregate.get_by_id(ctxt, aggregate.id)
            strangers = [host for host in aggregate.hosts or ()
                         if not self.belongs(host, pool)]
            for host in strangers:
                self._remove(ctxt, aggregate, host)
                counts['removed'] += 1
            if strangers:
                self._tell_schedulers(ctxt, [aggregate])
            repaired, waiting = self._repair_placement(ctxt, aggregate, pool)
            counts['repaired'] += repaired
            counts['waiting'] += waiting
        return counts

    def _repair_placement(self, ctxt, aggregate, pool):
        """Put back into placement the hosts of *pool* it lost."""
        members = providers_in(self.report, ctxt, aggregate.uuid)
        names = set(members.values())
        repaired = waiting = 0
        for host in aggregate.hosts or ():
            # Provider names are the nodes' hypervisor hostnames, mostly
            # the host's name: only other hosts cost a cell query. A
            # stranger another writer removed meanwhile is never put back.
            if host in names or not self.belongs(host, pool):
                continue
            if self._mirror(ctxt, aggregate, host, have=set(members)):
                repaired += 1
            else:
                waiting += 1
        return repaired, waiting

    def _tell_schedulers(self, ctxt, aggregates):
        """What Nova's aggregate API tells the schedulers after a change."""
        if aggregates:
            self.query.update_aggregates(ctxt, aggregates)

    def remove_legacy(self, ctxt):
        """Empty the placement-only pool aggregates of earlier releases."""
        removed = 0
        for pool in sorted(self._pools):
            legacy = pool_aggregates.legacy_pool_aggregate_uuid(pool)
            for name in providers_in(self.report, ctxt, legacy).values():
                self.report.aggregate_remove_host(ctxt, legacy, name)
                removed += 1
        return removed

    # The scheduler's catch-up.

    def catch_up(self, ctxt, host_manager=None):
        """Add hosts discovered since the last look; return their pools.

        Returns the set of pools that gained a host placement can offer;
        empty when nothing was new, or another catch-up is running.

        :param host_manager: this scheduler's, told at once of the change
            (the other schedulers hear of it as of any aggregate change).
        """
        if not self._catching_up.acquire(blocking=False):
            return set()
        try:
            return self._catch_up(ctxt, host_manager)
        finally:
            self._catching_up.release()

    def _catch_up(self, ctxt, host_manager):
        members = self._members_in_memory(host_manager)
        new = []
        while len(new) < CATCH_UP_LIMIT:
            rows = nova_access.host_mappings_after(ctxt, self._last_mapping,
                                                   BATCH)
            for mapping_id, host in rows:
                pool = self.pool_of(host)
                if (pool is not None and
                        host not in members.get(pool, ())):
                    new.append((mapping_id, host))
                    if len(new) == CATCH_UP_LIMIT:
                        break
                self._last_mapping = mapping_id
            if len(rows) < BATCH:
                break
        retry = dict(self._unmirrored)
        if not new and not retry:
            return set()
        aggregates = self.aggregates(ctxt)
        gained, changed = set(), set()
        for _, host in new:
            pool = self.pool_of(host)
            if pool not in aggregates:
                continue
            if host not in (aggregates[pool].hosts or ()):
                changed.add(pool)
            # Added (and mirrored) unless another writer was first.
            if self._add(ctxt, aggregates[pool], host):
                gained.add(pool)
            else:
                self._unmirrored[host] = pool
        if new:
            # The last one, if the limit stopped the reading, is done too.
            self._last_mapping = max(self._last_mapping, new[-1][0])
        for host, pool in retry.items():
            if pool in aggregates and self._mirror(ctxt, aggregates[pool],
                                                   host):
                del self._unmirrored[host]
                gained.add(pool)
        self._tell_schedulers(ctxt, [aggregates[p] for p in changed])
        if host_manager is not None and (changed or gained):
            host_manager.update_aggregates(
                [aggregates[p] for p in changed | gained])
        if len(new) == CATCH_UP_LIMIT:
            LOG.warning('More than %d hosts were discovered since the IP '
                        'pools were last synchronised; run "openstack-ext '
                        'sync-pools"', CATCH_UP_LIMIT)
        return gained

    def _members_in_memory(self, host_manager):
        """``{pool: hosts}`` as the scheduler's host manager knows them."""
        members = {}
        for aggregate in nova_access.aggregates_in_memory(host_manager) or ():
            pool = aggregate.metadata.get(self._key)
            if pool in self._pools:
                members.setdefault(pool, set()).update(aggregate.hosts or ())
        return members


def providers_in(client, ctxt, aggregate):
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

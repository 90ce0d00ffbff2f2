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

"""The capacity of each IP pool, from placement: what pool-usage prints.

Placement has no roll-up per aggregate, so :func:`measure` makes one: for
each pool, the resource providers placement has in the pool's host
aggregates (``GET /resource_providers?member_of=in:...``), their
inventories and usages, summed per resource class; and, for each flavor,
the allocation candidates placement returns for a boot limited to the
pool (``member_of``, and ``!COMPUTE_STATUS_DISABLED`` as Nova asks),
without Nova's ``max_placement_results`` cut, counted as how many such
boots fit on each candidate (hosts whose nova-compute is down left out,
as Nova's ComputeFilter does). With ``aggregate_metadata`` the aggregates
naming other pools are forbidden, as the scheduler forbids them.

Cost per run: one provider listing per pool, two reads per provider
(inventories, usages) and one allocation-candidates query per pool and
flavor: about 20,000 placement reads at 10,000 hosts. Run it on a timer
every few minutes and let the scraper read the file, never per scrape.

Nova is imported only when it runs (see :mod:`openstack_ext.cmd.nova_cloud`).
"""

import collections

_PLACEMENT = '1.32'  # member_of=in: (1.3), !TRAIT (1.22), !in: (1.32)

PoolUsage = collections.namedtuple('PoolUsage', [
    'pool', 'exclusive', 'aggregates', 'hosts', 'disabled', 'down',
    'resources',  # {resource class: ResourceUsage}
    'room',       # {flavor name: servers that fit}
])
ResourceUsage = collections.namedtuple('ResourceUsage', [
    'total', 'reserved', 'ratios', 'capacity', 'used', 'free'])


class PlacementError(RuntimeError):
    """Placement answered a read with an error."""


def _get(client, url):
    response = client.get(url, version=_PLACEMENT)
    if response.status_code != 200:
        raise PlacementError('GET %s: %s %s' % (url, response.status_code,
                                                response.text[:200]))
    return response.json()


def compute_services(ctxt):
    """``{host: (disabled, up)}`` of every nova-compute, every cell."""
    from nova import context as nova_context
    from nova import objects
    from nova import servicegroup

    group = servicegroup.API()
    found = {}
    for cell in objects.CellMappingList.get_all(ctxt):
        if cell.is_cell0():
            continue
        with nova_context.target_cell(ctxt, cell) as cell_ctxt:
            for service in objects.ServiceList.get_by_binary(
                    cell_ctxt, 'nova-compute', include_disabled=True):
                found[service.host] = (service.disabled,
                                       group.service_is_up(service))
    return found


def aggregates_by_pool(ctxt, settings):
    """``{pool: [Aggregate]}`` of the aggregates naming each pool."""
    from nova import objects

    key = settings.aggregate_metadata_key
    found = {pool: [] for pool in settings.pool_map.pools}
    for aggregate in objects.AggregateList.get_by_metadata(ctxt, key=key):
        found.setdefault(aggregate.metadata[key], []).append(aggregate)
    return found


def others(by_pool, pool):
    """The aggregates naming other pools than *pool*.

    With ``aggregate_metadata`` the scheduler forbids them, so that a host
    also named by another pool (in neither) takes no candidate.
    """
    return {aggregate.uuid for named, aggregates in by_pool.items()
            if named != pool for aggregate in aggregates}


def flavor_resources(ctxt, flavor):
    """``(name, {resource class: amount})`` of a flavor name or ID."""
    from nova import exception
    from nova import objects
    from nova.scheduler import utils as scheduler_utils

    try:
        found = objects.Flavor.get_by_name(ctxt, flavor)
    except exception.FlavorNotFound:
        found = objects.Flavor.get_by_flavor_id(ctxt, flavor)
    return found.name, scheduler_utils.resources_from_flavor_and_bfv(
        found, False)


def providers(client, aggregate_uuids):
    """``{uuid: name}`` of the providers in any of *aggregate_uuids*."""
    if not aggregate_uuids:
        return {}
    found = _get(client, '/resource_providers?member_of=in:%s'
                 % ','.join(sorted(aggregate_uuids)))
    return {rp['uuid']: rp['name'] for rp in found['resource_providers']}


def resources(client, provider_uuids):
    """``{resource class: ResourceUsage}`` summed over the providers."""
    sums = {}
    for uuid in sorted(provider_uuids):
        inventories = _get(client, '/resource_providers/%s/inventories'
                           % uuid)['inventories']
        usages = _get(client, '/resource_providers/%s/usages'
                      % uuid)['usages']
        for rc, inventory in inventories.items():
            total, reserved, ratios, capacity, used = sums.get(
                rc, (0, 0, frozenset(), 0, 0))
            ratio = inventory['allocation_ratio']
            sums[rc] = (total + inventory['total'],
                        reserved + inventory['reserved'],
                        ratios | {ratio},
                        capacity + int((inventory['total'] -
                                        inventory['reserved']) * ratio),
                        used + usages.get(rc, 0))
    return {rc: ResourceUsage(total, reserved, tuple(sorted(ratios)),
                              capacity, used, capacity - used)
            for rc, (total, reserved, ratios, capacity, used)
            in sums.items()}


def room(client, aggregate_uuids, amounts, skip=frozenset(),
         forbidden=()):
    """How many servers asking *amounts* placement fits into the pool.

    Providers in *skip* (of hosts that are down) are not counted; the
    aggregates in *forbidden* are excluded, as the scheduler does.
    """
    if not aggregate_uuids or not amounts:
        return 0
    query = ('/allocation_candidates?resources=%s&member_of=in:%s'
             '&required=!COMPUTE_STATUS_DISABLED' % (
                 ','.join('%s:%d' % item for item in sorted(amounts.items())),
                 ','.join(sorted(aggregate_uuids))))
    if forbidden:
        query += '&member_of=!in:%s' % ','.join(sorted(forbidden))
    found = _get(client, query)
    candidates = set()
    for request in found['allocation_requests']:
        candidates.update(request['allocations'])
    fits = 0
    for uuid in candidates - set(skip):
        summary = found['provider_summaries'][uuid]['resources']
        fits += min((summary[rc]['capacity'] - summary[rc]['used']) // amount
                    for rc, amount in amounts.items())
    return fits


def measure(ctxt, settings, client, flavors=()):
    """``([PoolUsage], warnings)`` of every configured pool.

    :param client: Nova's placement report client.
    :param flavors: flavor names or IDs to count the room for.
    """
    from openstack_ext.cmd import nova_cloud
    from openstack_ext.nova import conf as pool_conf
    from openstack_ext.nova import pool_aggregates

    services = compute_services(ctxt)
    by_pool = aggregates_by_pool(ctxt, settings)
    host_pools = nova_cloud.HostPools(ctxt, settings)
    by_name = settings.host_selection == pool_conf.HOSTNAME_PREFIX
    asked = [flavor_resources(ctxt, flavor) for flavor in flavors]
    usages, warnings = [], []
    members = collections.defaultdict(set)
    for pool in sorted(settings.pool_map.pools):
        aggregates = by_pool.get(pool, [])
        uuids = [aggregate.uuid for aggregate in aggregates]
        listed = set().union(*(aggregate.hosts or ()
                               for aggregate in aggregates))
        for host in listed:
            members[host].add(pool)
        hosts = sorted(host for host in listed
                       if host_pools.pool_of(host) == pool)
        in_pool = providers(client, uuids)
        down_hosts = [host for host in hosts
                      if host in services and not services[host][1]]
        down_nodes = {node.uuid for host in down_hosts
                      for node in pool_aggregates.compute_nodes_of(ctxt,
                                                                   host)}
        usages.append(PoolUsage(
            pool, pool in settings.exclusive_pools, uuids, hosts,
            [host for host in hosts if services.get(host, (False,))[0]],
            down_hosts, resources(client, in_pool),
            {name: room(client, uuids, amounts, down_nodes,
                        () if by_name else others(by_pool, pool))
             for name, amounts in asked}))
        if not hosts:
            warnings.append('IP pool %r has no compute host' % pool)
        if by_name:
            stale = sorted(
                (set(host for host in services
                     if host_pools.pool_of(host) == pool) ^ listed))
            if stale:
                warnings.append(
                    'IP pool %r: the membership of its aggregate is out of '
                    'date for %s (run openstack-ext sync-pools)'
                    % (pool, ', '.join(stale)))
    for host, named in sorted(members.items()):
        if len(named) > 1:
            warnings.append('host %s is in aggregates of IP pools %s: it is '
                            'in none of them' % (host, ', '.join(
                                sorted(named))))
    if settings.pool_map.default_pool is None:
        unpooled = sorted(host for host in services
                          if not host_pools.pools_of(host))
        if unpooled:
            warnings.append(
                'compute hosts in no IP pool take no server (default_pool is '
                'unset): %s' % ', '.join(unpooled))
    return usages, warnings

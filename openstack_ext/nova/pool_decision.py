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

"""Which IP pool a scheduling request needs, decided once per request.

The placement hook (:mod:`openstack_ext.nova.placement_hook`) asks first,
before placement is queried; the host filter
(:mod:`openstack_ext.nova.pool_filter`) reads the same answer from the
request. The rules, in order:

1. A signed ``ip_pool`` hint (nova-api's ``ip_pool_stamp``) names the pool,
   for boots and every move.
2. An ``ip_pool`` hint that does not verify is logged and ignored.
3. An unstamped boot: refused when ``stamp_secret`` is set (it went round
   the stamp filter); otherwise the pool of the client address,
   ``trusted_proxy_hops`` entries from the right of X-Forwarded-For.
4. An unstamped move: the pool of the host it leaves; unconstrained (with a
   warning) when that host is in no pool or is not named.

A decision is :data:`~openstack_ext.nova.pools.ANY_POOL` (no constraint),
:data:`UNPINNED_MOVE` (no constraint, legacy move) or a pool name; a
refusal raises :class:`PoolRefused` with the fault's reason.
"""

from oslo_log import log as logging

from nova import context as nova_context
from nova import objects

from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import nova_access
from openstack_ext.nova import pools

LOG = logging.getLogger(__name__)

# The decision for a move that is left unconstrained.
UNPINNED_MOVE = None


class PoolRefused(Exception):
    """The request may use no host; ``reason`` is the fault's sentence."""

    def __init__(self, reason):
        super(PoolRefused, self).__init__(reason)
        self.reason = reason


def field(obj, name):
    """A Nova object's field, ``None`` when unset."""
    return getattr(obj, name) if name in obj else None


def is_move(spec_obj):
    """Whether the request moves an existing server (or unshelves it).

    Nova's conductor restricts moves to the server's cell and excludes the
    source host; neither is set for a boot, nor can a client set them.
    """
    destination = field(spec_obj, 'requested_destination')
    if destination is not None and field(destination, 'cell') is not None:
        return True
    return bool(field(spec_obj, 'ignore_hosts'))


def constrains(pool):
    """Whether a decision narrows the hosts at all."""
    return pool not in (UNPINNED_MOVE, pools.ANY_POOL)


class PoolDecider(object):
    """Decides the pool of requests with the checked ``[ip_pools]``."""

    def __init__(self, settings):
        self.settings = settings
        self.by_aggregate = (settings.host_selection ==
                             pool_conf.AGGREGATE_METADATA)
        self.hostnames = pools.HostnamePools(settings.pool_map.pools)

    def decide(self, spec_obj):
        """``(pool, log_args)`` of the request; the same on every call.

        :raises PoolRefused: the request may use no host.
        """
        noted = nova_access.decision(spec_obj)
        if noted is None:
            noted = self._decide(spec_obj)
            nova_access.note_decision(spec_obj, noted)
        pool, log_args, refusal = noted
        if refusal is not None:
            raise PoolRefused(refusal)
        return pool, log_args

    def _decide(self, spec_obj):
        try:
            pool, why = self._request_pool(spec_obj)
        except PoolRefused as refused:
            return None, None, refused.reason
        log_args = {'uuid': spec_obj.instance_uuid, 'pool': pool, 'why': why,
                    'chain': nova_access.remote_address(spec_obj)}
        if pool is UNPINNED_MOVE:
            LOG.warning('Moving instance %(uuid)s without a pool constraint: '
                        '%(why)s', log_args)
        elif pool == pools.ANY_POOL:
            LOG.debug('Instance %(uuid)s may use any host: %(why)s',
                      log_args)
        elif pool == pools.NO_POOL:
            LOG.warning('Refusing instance %(uuid)s: %(why)s (request from '
                        '%(chain)s)', log_args)
            return None, log_args, "The client's network is in no IP pool."
        else:
            LOG.debug('Instance %(uuid)s needs IP pool %(pool)r: %(why)s',
                      log_args)
        return pool, log_args, None

    def _request_pool(self, spec_obj):
        """Return the pool the request needs and why, for the logs."""
        settings = self.settings
        stamp = spec_obj.get_scheduler_hint(pools.HINT)
        if stamp is not None:
            pool = pools.verify_stamp(settings.stamp_secrets, stamp,
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
        if is_move(spec_obj):
            return self._source_host_pool(spec_obj)
        if settings.stamp_secrets:
            # A secret means nova-api stamps every create: a boot without a
            # valid stamp went round ip_pool_stamp, or a nova-api lacks it.
            LOG.warning('Refusing instance %(uuid)s: its boot has no valid '
                        'ip_pool stamp although [ip_pools] stamp_secret is '
                        'set; every nova-api must run ip_pool_stamp with the '
                        'same secret', {'uuid': spec_obj.instance_uuid})
            raise PoolRefused('The request was not stamped by ip_pool_stamp.')
        hops = settings.trusted_proxy_hops
        match = settings.pool_map.pool_for_chain(
            nova_access.remote_address(spec_obj), hops)
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
        source = (field(spec_obj, 'ignore_hosts') or [None])[0]
        if source is None:
            return UNPINNED_MOVE, ('it has no ip_pool stamp and Nova names '
                                   'no host it leaves')
        pool = (self._aggregate_pool_of(source) if self.by_aggregate
                else self.hostnames.pool_of(source))
        if pool is None:
            return UNPINNED_MOVE, ('it has no ip_pool stamp and the host it '
                                   'leaves, %s, is in no IP pool' % source)
        LOG.info('Instance %(uuid)s has no ip_pool stamp: it stays in IP '
                 'pool %(pool)r of %(source)s, the host it leaves',
                 {'uuid': spec_obj.instance_uuid, 'pool': pool,
                  'source': source})
        return pool, 'unstamped, the pool of %s, the host it leaves' % source

    def _aggregate_pool_of(self, host):
        # One API database query, only for moves of unstamped servers: the
        # host being left is not among the filtered host states.
        key = self.settings.aggregate_metadata_key
        named = {aggregate.metadata[key] for aggregate in
                 objects.AggregateList.get_by_host(
                     nova_context.get_admin_context(), host, key=key)}
        return named.pop() if len(named) == 1 else None

    def unknown_pool_note(self, pool):
        """A note for the log when *pool* is not configured here."""
        if self.by_aggregate or pool in self.settings.pool_map.pools:
            return ''
        return '; the pool is not in this [ip_pools] configuration'

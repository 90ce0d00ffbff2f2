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

"""``openstack-ext stamp-servers``: sign the pool of servers that lack one.

Servers created before nova-api ran ``ip_pool_stamp`` have no signed
``ip_pool`` hint: their moves stay in the pool of the host they leave, and
an offloaded one unshelves anywhere. This command records a signed pool in
the request spec of each such server, the pool of the host it is on, so
that from then on it keeps that pool like a server created with the stamp.
It also re-signs, with the first ``[ip_pools] stamp_secret``, the stamps
that only a later secret verifies: step 3 of a secret rotation (see
:mod:`openstack_ext.nova.pool_stamp`).

Run it where ``nova-manage`` runs, with the nova.conf that names the API
and cell databases and has the same ``[ip_pools]`` as nova-api and
nova-scheduler::

  openstack-ext stamp-servers --config-file /etc/nova/nova.conf --dry-run
  openstack-ext stamp-servers --config-file /etc/nova/nova.conf

For each server that is not deleted, in every cell but cell0 (whose
servers never got a host):

* signed with the first secret: left alone;
* signed with a later secret: re-signed with the first, same pool;
* no stamp, or one that no listed secret verifies (a hint a client sent
  before the stamp filter was deployed): stamped with the pool of its host
  (``hostname_prefix``: by host name; ``aggregate_metadata``: the pool its
  host's aggregates name, if exactly one). A host in no pool gives ``*``
  (any host, as now) with ``default_pool = *``;
* no host (shelved and offloaded, or never scheduled), a host in no pool
  without ``default_pool = *``, or a host in aggregates naming several
  pools: not decided, listed with the reason. Unshelve or fix those, and
  run the command again.

Each change and each undecided server is printed on its own line, then the
counts. ``--dry-run`` prints the same and writes nothing. Running it again
changes nothing that it already did (idempotent). A server being moved
while it runs may lose its new stamp when the move saves its request spec:
run it again after the moves.

It refuses to run without ``[ip_pools] stamp_secret`` (or with a bad
``[ip_pools]``), before it touches a database.

Exit status: 0 every server is stamped with the first secret (or would be,
with ``--dry-run``); 1 some servers could not be decided; 2 usage or
configuration error (no ``stamp_secret`` among them).
"""

import argparse

from openstack_ext.cmd import nova_cloud
from openstack_ext.cmd import report


HELP = ('record a signed IP pool for Nova servers that lack one; re-sign '
        'the stamps of an old stamp_secret')
EPILOG = """\
examples:
  openstack-ext stamp-servers --config-file /etc/nova/nova.conf --dry-run
  openstack-ext stamp-servers --config-file /etc/nova/nova.conf

Run it where nova-manage runs; it refuses to run without [ip_pools]
stamp_secret. Running it again changes nothing it already did.

exit status: 0 every server is stamped with the first stamp_secret, 1 some
servers could not be decided (listed), 2 usage or configuration error."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'stamp-servers', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    nova_cloud.add_config_argument(parser)
    parser.add_argument('--dry-run', action='store_true',
                        help='say what would change, change nothing')
    parser.set_defaults(run=run)


def run(args, out):
    rep = report.Report(out)
    settings, ctxt = nova_cloud.load(args, rep, require_secret=True)
    if settings is None:
        return report.USAGE
    stamp_all(ctxt, settings, rep, args.dry_run)
    return rep.verdict('every server %s stamped with the first stamp_secret'
                       % ('would be' if args.dry_run else 'is'))


class _Stamper(object):

    def __init__(self, ctxt, settings, rep, dry_run):
        from openstack_ext.nova import conf as pool_conf
        from openstack_ext.nova import pools
        self._pools = pools
        self._ctxt = ctxt
        self._settings = settings
        self._rep = rep
        self._dry_run = dry_run
        self._by_aggregate = (settings.host_selection ==
                              pool_conf.AGGREGATE_METADATA)
        self._hostnames = pools.HostnamePools(settings.pool_map.pools)
        self._host_pools = {}
        self.counts = dict.fromkeys(('kept', 'stamped', 're-signed',
                                     'undecided'), 0)

    def server(self, instance):
        from nova import exception
        from nova import objects
        pools = self._pools
        try:
            spec = objects.RequestSpec.get_by_instance_uuid(self._ctxt,
                                                            instance.uuid)
        except exception.RequestSpecNotFound:
            return self._undecided(instance, 'it has no request spec')
        stamp = spec.get_scheduler_hint(pools.HINT)
        pool, position = pools.check_stamp(self._settings.stamp_secrets,
                                           stamp, spec.project_id)
        if position == 0:
            self.counts['kept'] += 1
            return
        if pool is not None:
            action, why = 're-signed', 'signed with stamp_secret value %d' % (
                position + 1)
        else:
            action = 'stamped'
            pool, why = self._host_pool(instance.host)
            if pool is None:
                return self._undecided(instance, why)
        self.counts[action] += 1
        self._rep.line('%s%s %s: pool %s (%s)' % (
            'would be ' if self._dry_run else '', action, instance.uuid,
            pool, why))
        if not self._dry_run:
            spec.scheduler_hints[pools.HINT] = [pools.sign_stamp(
                self._settings.stamp_secrets[0], pool, spec.project_id)]
            spec.save()

    def _host_pool(self, host):
        """``(pool, why)``; pool ``None`` when it cannot be decided."""
        if not host:
            return None, ('it is on no host (shelved and offloaded, or '
                          'never scheduled)')
        if host not in self._host_pools:
            self._host_pools[host] = self._find_host_pool(host)
        return self._host_pools[host]

    def _find_host_pool(self, host):
        pools = self._pools
        if self._by_aggregate:
            from nova import objects
            key = self._settings.aggregate_metadata_key
            named = {aggregate.metadata[key] for aggregate in
                     objects.AggregateList.get_by_host(self._ctxt, host,
                                                       key=key)}
            if len(named) > 1:
                return None, ('its host %s is in aggregates naming IP pools '
                              '%s' % (host, ', '.join(sorted(named))))
            pool = named.pop() if named else None
        else:
            pool = self._hostnames.pool_of(host)
        if pool is not None:
            return pool, 'its host %s is in it' % host
        if self._settings.pool_map.default_pool == pools.ANY_POOL:
            return pools.ANY_POOL, ('its host %s is in no pool and '
                                    'default_pool = *' % host)
        return None, 'its host %s is in no IP pool' % host

    def _undecided(self, instance, why):
        self.counts['undecided'] += 1
        self._rep.warning('not decided %s: %s' % (instance.uuid, why))


def stamp_all(ctxt, settings, rep, dry_run=False):
    """Stamp the servers of every cell; return the counts by outcome.

    *ctxt* is an admin context of a configured Nova (the API database);
    *settings* come from :func:`openstack_ext.nova.pools.load_settings`
    with ``require_secret=True``.
    """
    stamper = _Stamper(ctxt, settings, rep, dry_run)
    for instance in nova_cloud.each_server(ctxt):
        stamper.server(instance)
    counts = stamper.counts
    rep.line('%d servers: %d already stamped, %d %sstamped, %d %sre-signed, '
             '%d not decided' % (
                 sum(counts.values()), counts['kept'], counts['stamped'],
                 'would be ' if dry_run else '', counts['re-signed'],
                 'would be ' if dry_run else '', counts['undecided']))
    return counts

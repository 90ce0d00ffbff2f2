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

from openstack_ext.cmd import report

DEFAULT_CONFIG = '/etc/nova/nova.conf'
_BATCH = 500


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
    parser.add_argument('--config-file', dest='config_files',
                        action='append', default=[], metavar='PATH',
                        help='nova.conf (repeatable; default %s)'
                        % DEFAULT_CONFIG)
    parser.add_argument('--dry-run', action='store_true',
                        help='say what would change, change nothing')
    parser.set_defaults(run=run)


def run(args, out):
    # Nova is imported only once [ip_pools] is known to be usable.
    from oslo_config import cfg

    from openstack_ext.nova import conf as pool_conf
    from openstack_ext.nova import pools

    rep = report.Report(out)
    files = args.config_files or [DEFAULT_CONFIG]
    conf = cfg.ConfigOpts()
    pool_conf.register_opts(conf)
    try:
        conf(['--config-file=%s' % path for path in files], project='nova',
             default_config_files=[])
        settings = pools.load_settings(conf, require_secret=True)
    except (cfg.Error, pools.PoolConfigError) as error:
        rep.error('%s; nothing was changed' % error)
        return report.USAGE

    from nova import config
    from nova import context as nova_context
    from nova import objects

    config.parse_args(['openstack-ext'] + ['--config-file=%s' % path
                                           for path in files],
                      init_rpc=False)
    objects.register_all()
    stamp_all(nova_context.get_admin_context(), settings, rep, args.dry_run)
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
    from nova import context as nova_context
    from nova import objects

    stamper = _Stamper(ctxt, settings, rep, dry_run)
    for cell in objects.CellMappingList.get_all(ctxt):
        if cell.is_cell0():
            continue
        with nova_context.target_cell(ctxt, cell) as cell_ctxt:
            marker = None
            while True:
                batch = objects.InstanceList.get_by_filters(
                    cell_ctxt, {'deleted': False}, sort_key='uuid',
                    sort_dir='asc', limit=_BATCH, marker=marker,
                    expected_attrs=[])
                for instance in batch:
                    stamper.server(instance)
                if len(batch) < _BATCH:
                    break
                marker = batch[-1].uuid
    counts = stamper.counts
    rep.line('%d servers: %d already stamped, %d %sstamped, %d %sre-signed, '
             '%d not decided' % (
                 sum(counts.values()), counts['kept'], counts['stamped'],
                 'would be ' if dry_run else '', counts['re-signed'],
                 'would be ' if dry_run else '', counts['undecided']))
    return counts

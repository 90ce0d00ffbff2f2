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

"""What the operator verbs on Nova share: nova.conf, servers, host pools.

The verbs run where ``nova-manage`` runs and read Nova's API and cell
databases through Nova's objects, as ``nova-manage`` does; placement
through Nova's report client (keystoneauth, nova.conf's ``[placement]``).
Nova is imported only when a verb runs, so ``openstack-ext`` keeps working
in a Swift-only environment.
"""

DEFAULT_CONFIG = '/etc/nova/nova.conf'
_BATCH = 500


def add_config_argument(parser):
    parser.add_argument('--config-file', dest='config_files',
                        action='append', default=[], metavar='PATH',
                        help='nova.conf (repeatable; default %s)'
                        % DEFAULT_CONFIG)


def load(args, rep, require_secret=False, init_rpc=False):
    """Check ``[ip_pools]``, then configure Nova; ``(settings, ctxt)``.

    Returns ``(None, None)`` after reporting a configuration error: the
    caller exits with :data:`report.USAGE` before anything is read.
    """
    from oslo_config import cfg

    from openstack_ext.nova import conf as pool_conf
    from openstack_ext.nova import pools

    files = args.config_files or [DEFAULT_CONFIG]
    conf = cfg.ConfigOpts()
    pool_conf.register_opts(conf)
    try:
        conf(['--config-file=%s' % path for path in files], project='nova',
             default_config_files=[])
        settings = pools.load_settings(conf, require_secret=require_secret)
    except (cfg.Error, pools.PoolConfigError) as error:
        rep.error('%s; nothing was read or changed' % error)
        return None, None

    from nova import config
    from nova import context as nova_context
    from nova import objects

    config.parse_args(['openstack-ext'] + ['--config-file=%s' % path
                                           for path in files],
                      init_rpc=init_rpc)
    objects.register_all()
    return settings, nova_context.get_admin_context()


def each_server(ctxt):
    """Every server that is not deleted, in every cell but cell0."""
    from nova import context as nova_context
    from nova import objects

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
                    yield instance
                if len(batch) < _BATCH:
                    break
                marker = batch[-1].uuid


class HostPools(object):
    """The pool of each compute host, as the scheduler's filter sees it.

    ``hostname_prefix``: by the host's name. ``aggregate_metadata``: the
    pool its host aggregates name, none when they name several.
    """

    def __init__(self, ctxt, settings):
        from openstack_ext.nova import conf as pool_conf
        from openstack_ext.nova import pools
        self._ctxt = ctxt
        self._key = settings.aggregate_metadata_key
        self._by_aggregate = (settings.host_selection ==
                              pool_conf.AGGREGATE_METADATA)
        self._hostnames = pools.HostnamePools(settings.pool_map.pools)
        self._found = {}

    def pools_of(self, host):
        """The set of pools *host* is named in (several: it is in none)."""
        if host not in self._found:
            if self._by_aggregate:
                from nova import objects
                self._found[host] = frozenset(
                    aggregate.metadata[self._key] for aggregate in
                    objects.AggregateList.get_by_host(self._ctxt, host,
                                                      key=self._key))
            else:
                pool = self._hostnames.pool_of(host)
                self._found[host] = frozenset([pool] if pool else [])
        return self._found[host]

    def pool_of(self, host):
        """The pool of *host*, ``None`` when in none (or several)."""
        named = self.pools_of(host)
        return next(iter(named)) if len(named) == 1 else None

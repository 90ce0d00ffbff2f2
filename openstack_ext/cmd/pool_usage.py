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

"""``openstack-ext pool-usage``: each IP pool's room, before users see it.

Run it where ``nova-manage`` runs, with the nova.conf that names the API
and cell databases and has nova's ``[placement]`` credentials (read with
keystoneauth, as nova-scheduler does) and the same ``[ip_pools]`` as
nova-scheduler::

  openstack-ext pool-usage --config-file /etc/nova/nova.conf \\
      --flavor m1.small --flavor m1.large --min-free 10

For each configured pool: its hosts (and which are disabled or down), and
per resource class the inventory summed over the pool's resource providers
(total, reserved, allocation ratios), the capacity ((total - reserved) x
ratio), the usage and what is free; then, for each ``--flavor``, how many
servers of that flavor the pool still takes, as placement answers a boot
limited to the pool (its allocation candidates, hosts that are down left
out). Pool-wide free capacity can be spread too thinly to hold a server:
the room per flavor is what a boot gets. It warns about a pool with no
host, a host in the aggregates of two pools, compute hosts in no pool when
``default_pool`` is unset, and (``hostname_prefix``) pool aggregates whose
membership ``sync-pools`` has not caught up with.

``--json`` prints the same as one JSON document; ``--prometheus`` prints
the Prometheus text exposition format, for node-exporter's textfile
collector or any scraper (all gauges, label ``pool``)::

  openstack_ext_pool_hosts{pool,state}         state: total, disabled, down
  openstack_ext_pool_exclusive{pool}           1 when in exclusive_pools
  openstack_ext_pool_resource_total{pool,resource_class}
  openstack_ext_pool_resource_reserved{pool,resource_class}
  openstack_ext_pool_resource_capacity{pool,resource_class}
  openstack_ext_pool_resource_used{pool,resource_class}
  openstack_ext_pool_resource_free{pool,resource_class}
  openstack_ext_pool_room{pool,flavor}         servers of that flavor
  openstack_ext_pool_warnings                  warnings of this run

Exit status: 0 no warning and every pool has room for ``--min-free``
servers of each ``--flavor``; 1 otherwise (so that a timer can alert);
2 usage or configuration error. Nothing is written.
"""

import argparse
import json

from openstack_ext.cmd import nova_cloud
from openstack_ext.cmd import report

HELP = ('show each IP pool\'s hosts, capacity, usage and room for a '
        'flavor, from placement')
EPILOG = """\
examples:
  openstack-ext pool-usage --config-file /etc/nova/nova.conf --flavor m1.small
  openstack-ext pool-usage --flavor m1.small --min-free 10 --prometheus \\
      > /var/lib/node_exporter/textfile/ip_pools.prom.$$ && \\
      mv /var/lib/node_exporter/textfile/ip_pools.prom.$$ \\
      /var/lib/node_exporter/textfile/ip_pools.prom

exit status: 0 all pools have room, 1 a warning, or a pool with room for
fewer than --min-free servers of a --flavor, 2 usage or configuration
error."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'pool-usage', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    nova_cloud.add_config_argument(parser)
    parser.add_argument('--flavor', dest='flavors', action='append',
                        default=[], metavar='FLAVOR',
                        help='count the room for servers of this flavor '
                        '(name or ID; repeatable)')
    parser.add_argument('--min-free', type=int, default=None, metavar='N',
                        help='exit 1 when a pool has room for fewer than N '
                        'servers of a --flavor')
    output = parser.add_mutually_exclusive_group()
    output.add_argument('--json', action='store_true', help='print JSON')
    output.add_argument('--prometheus', action='store_true',
                        help='print the Prometheus text format')
    parser.set_defaults(run=run)


def run(args, out):
    rep = report.Report(out)
    if args.min_free is not None and not args.flavors:
        rep.error('--min-free needs at least one --flavor')
        return report.USAGE
    settings, ctxt = nova_cloud.load(args, rep)
    if settings is None:
        return report.USAGE

    from nova.scheduler.client import report as placement_report

    from openstack_ext.cmd import pool_capacity

    usages, warnings = pool_capacity.measure(
        ctxt, settings, placement_report.report_client_singleton(),
        args.flavors)
    return show(usages, warnings, rep, args.min_free,
                'json' if args.json else
                'prometheus' if args.prometheus else 'text')


def short_of(usages, min_free):
    """``[(pool, flavor, room)]`` below *min_free*."""
    if min_free is None:
        return []
    return [(usage.pool, flavor, room) for usage in usages
            for flavor, room in sorted(usage.room.items()) if room < min_free]


def show(usages, warnings, rep, min_free=None, form='text'):
    """Print the pools' usage in *form*; return the exit status."""
    short = short_of(usages, min_free)
    if form == 'json':
        rep.line(json.dumps({
            'pools': [_as_dict(usage) for usage in usages],
            'warnings': warnings,
            'below_min_free': [dict(pool=pool, flavor=flavor, room=room)
                               for pool, flavor, room in short]},
            indent=2, sort_keys=True))
    elif form == 'prometheus':
        rep.out.write(prometheus(usages, warnings))
    else:
        return _text(usages, warnings, short, min_free, rep)
    return report.PROBLEMS if warnings or short else report.OK


def _as_dict(usage):
    found = usage._asdict()
    found['resources'] = {rc: resource._asdict()
                          for rc, resource in usage.resources.items()}
    return found


def _text(usages, warnings, short, min_free, rep):
    for usage in usages:
        rep.line('IP pool %s%s: %d host%s%s' % (
            usage.pool, ' (exclusive)' if usage.exclusive else '',
            len(usage.hosts), '' if len(usage.hosts) == 1 else 's',
            ' (%s)' % ', '.join(usage.hosts) if usage.hosts else ''))
        for state, hosts in (('disabled', usage.disabled),
                             ('down', usage.down)):
            if hosts:
                rep.line('%s: %s' % (state, ', '.join(hosts)), indent=2)
        if usage.resources:
            rep.line('%-14s %9s %9s %6s %9s %9s %9s' % (
                'resource class', 'total', 'reserved', 'ratio', 'capacity',
                'used', 'free'), indent=2)
        for rc, resource in sorted(usage.resources.items()):
            rep.line('%-14s %9d %9d %6s %9d %9d %9d' % (
                rc, resource.total, resource.reserved,
                '/'.join('%g' % ratio for ratio in resource.ratios),
                resource.capacity, resource.used, resource.free), indent=2)
        for flavor, room in sorted(usage.room.items()):
            rep.line('room for %d x %s' % (room, flavor), indent=2)
    for warning in warnings:
        rep.warning(warning)
    for pool, flavor, room in short:
        rep.error('IP pool %s has room for %d x %s, fewer than --min-free %d'
                  % (pool, room, flavor, min_free))
    return rep.verdict('%d IP pools, each with room' % len(usages))


def _labels(**labels):
    return ','.join('%s="%s"' % (name, str(value).replace(
        '\\', '\\\\').replace('"', '\\"').replace('\n', '\\n'))
        for name, value in sorted(labels.items()))


def prometheus(usages, warnings):
    """The Prometheus text exposition of *usages*."""
    metrics = {}

    def sample(name, value, **labels):
        metrics.setdefault(name, []).append(
            '%s{%s} %s' % (name, _labels(**labels), value))

    for usage in usages:
        pool = usage.pool
        sample('openstack_ext_pool_hosts', len(usage.hosts), pool=pool,
               state='total')
        sample('openstack_ext_pool_hosts', len(usage.disabled), pool=pool,
               state='disabled')
        sample('openstack_ext_pool_hosts', len(usage.down), pool=pool,
               state='down')
        sample('openstack_ext_pool_exclusive', int(usage.exclusive),
               pool=pool)
        for rc, resource in sorted(usage.resources.items()):
            for field in ('total', 'reserved', 'capacity', 'used', 'free'):
                sample('openstack_ext_pool_resource_' + field,
                       getattr(resource, field), pool=pool,
                       resource_class=rc)
        for flavor, room in sorted(usage.room.items()):
            sample('openstack_ext_pool_room', room, pool=pool, flavor=flavor)
    lines = []
    for name, help_text in HELP_TEXTS:
        if name in metrics:
            lines += ['# HELP %s %s' % (name, help_text),
                      '# TYPE %s gauge' % name] + metrics[name]
    lines += ['# HELP openstack_ext_pool_warnings Warnings of this run.',
              '# TYPE openstack_ext_pool_warnings gauge',
              'openstack_ext_pool_warnings %d' % len(warnings)]
    return '\n'.join(lines) + '\n'


HELP_TEXTS = [
    ('openstack_ext_pool_hosts', 'Compute hosts of the IP pool, by state.'),
    ('openstack_ext_pool_exclusive', '1 if the IP pool is exclusive.'),
    ('openstack_ext_pool_resource_total',
     'Inventory total of the pool\'s resource providers.'),
    ('openstack_ext_pool_resource_reserved',
     'Inventory reserved of the pool\'s resource providers.'),
    ('openstack_ext_pool_resource_capacity',
     '(total - reserved) x allocation ratio, summed.'),
    ('openstack_ext_pool_resource_used', 'Placement usage, summed.'),
    ('openstack_ext_pool_resource_free', 'Capacity minus usage.'),
    ('openstack_ext_pool_room',
     'Servers of the flavor placement still fits in the pool.'),
]

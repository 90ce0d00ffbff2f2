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

"""``openstack-ext sync-pools``: keep hostname pools in host aggregates.

With ``[ip_pools] host_selection = hostname_prefix`` each IP pool is a Nova
host aggregate, ``ip-pool-<pool>``, with the metadata ``ip_pool=<pool>``;
this command is the one writer of those aggregates (see
:mod:`openstack_ext.nova.pool_sync`). Run it where ``nova-manage`` runs,
with the nova.conf that names the API and cell databases, placement and
the message queue, and the same ``[ip_pools]`` as nova-scheduler: after
every ``nova-manage cell_v2 discover_hosts``, and on a timer (every few
minutes; a run with nothing to do reads the host names once)::

  nova-manage cell_v2 discover_hosts
  openstack-ext sync-pools --config-file /etc/nova/nova.conf

It creates the missing pool aggregates, adds each host to the aggregate of
its pool, removes hosts whose name is not in the pool, and puts back into
placement members placement lost; then prints the counts. Every change is
committed at once and running it again does only what is left, so an
interrupted first sync of a large cloud resumes where it stopped; it
reports progress every 10,000 hosts.

``--remove-legacy-aggregates`` also empties the placement-only pool
aggregates that nova-scheduler kept before this release: run it once every
nova-scheduler runs this release.

With ``host_selection = aggregate_metadata`` there is nothing to do: the
operator keeps the aggregates. Exit status: 0 done, 1 some hosts are in
their pool aggregate but not yet in placement (they have not registered;
run it again later), 2 usage or configuration error.
"""

import argparse

from openstack_ext.cmd import nova_cloud
from openstack_ext.cmd import report

HELP = ('keep each hostname IP pool in its Nova host aggregate (run after '
        'nova-manage cell_v2 discover_hosts and on a timer)')
EPILOG = """\
examples:
  nova-manage cell_v2 discover_hosts
  openstack-ext sync-pools --config-file /etc/nova/nova.conf

exit status: 0 done, 1 some hosts are not in placement yet, 2 usage or
configuration error."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'sync-pools', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    nova_cloud.add_config_argument(parser)
    parser.add_argument('--remove-legacy-aggregates', action='store_true',
                        help='also empty the placement-only pool aggregates '
                        'of earlier releases')
    parser.set_defaults(run=run)


def run(args, out):
    from openstack_ext.nova import conf as pool_conf

    rep = report.Report(out)
    # The message queue too: schedulers hear of aggregate changes as from
    # Nova's aggregate API.
    settings, ctxt = nova_cloud.load(args, rep, init_rpc=True)
    if settings is None:
        return report.USAGE
    if settings.host_selection != pool_conf.HOSTNAME_PREFIX:
        rep.line('[ip_pools] host_selection = %s: the operator keeps the '
                 'pool aggregates; nothing to do' % settings.host_selection)
        return rep.verdict('nothing to do')
    sync_all(ctxt, settings, rep, args.remove_legacy_aggregates)
    return rep.verdict('every host is in the aggregate of its pool')


def sync_all(ctxt, settings, rep, remove_legacy=False, sync=None):
    """Run one sync; return its counts. Hosts not in placement are problems.

    *ctxt* is an admin context of a configured Nova.
    """
    from openstack_ext.nova import pool_sync

    sync = sync or pool_sync.PoolSync(settings)
    counts = sync.sync(ctxt, progress=rep.line)
    rep.line('%(hosts)d hosts: %(added)d added to their pool, %(removed)d '
             'removed from a pool not theirs, %(repaired)d put back into '
             'placement' % counts)
    if counts['waiting']:
        rep.warning('%d hosts are in their pool aggregate but not in '
                    'placement yet; run it again once they have registered'
                    % counts['waiting'])
    if remove_legacy:
        rep.line('%d memberships of legacy placement-only pool aggregates '
                 'removed' % sync.remove_legacy(ctxt))
    return counts

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

"""``openstack-ext audit-pools``: find every server outside its pool.

Run it where ``nova-manage`` runs, with the nova.conf that names the API
and cell databases and has the same ``[ip_pools]`` as nova-api and
nova-scheduler (``stamp_secret`` is required: without it no stamp can be
checked)::

  openstack-ext audit-pools --config-file /etc/nova/nova.conf
  openstack-ext audit-pools --config-file /etc/nova/nova.conf --json

It reads every server that is not deleted, in every cell but cell0, with
its request spec, and reports, one line each:

``outside-pool``
  the server is on a host of another pool, or of no pool, than its stamp
  names: an admin forced the host, the host was renamed, or the host was
  moved to another pool's aggregate;
``no-stamp``
  the server has no ``ip_pool`` stamp (created before ``ip_pool_stamp``:
  run ``openstack-ext stamp-servers``);
``unverified-stamp``
  no ``stamp_secret`` listed verifies its stamp (a secret removed too
  early, a hint a client wrote before the stamp filter, a forgery);
``unknown-pool``
  its stamp names a pool that is no longer configured (the scheduler
  refuses its moves: ``openstack-ext repool`` it);
``on-exclusive-pool``
  a server of a client in no pool (stamp ``*``) is on a host of an
  ``exclusive_pools`` pool: it was there before the pool became exclusive,
  or an admin forced it. Such servers are reported, never moved.

A host's pool is what the scheduler's filter uses: the host name
(``hostname_prefix``) or the pool its host aggregates name
(``aggregate_metadata``; a host in aggregates naming several pools is in
none). A server on no host (shelved and offloaded) is checked for its
stamp only. Nothing is written.

``--json`` prints ``{"servers": N, "findings": [{"server", "project",
"host", "finding", "stamped_pool", "host_pool", "detail"}]}`` instead.

Exit status: 0 no finding, 1 findings, 2 usage or configuration error.
"""

import argparse
import collections
import json

from openstack_ext.cmd import nova_cloud
from openstack_ext.cmd import report

HELP = 'find servers outside their IP pool, unstamped or badly stamped'
EPILOG = """\
examples:
  openstack-ext audit-pools --config-file /etc/nova/nova.conf
  openstack-ext audit-pools --config-file /etc/nova/nova.conf --json

exit status: 0 no finding, 1 findings (listed), 2 usage or configuration
error."""

Finding = collections.namedtuple(
    'Finding', 'server project host finding stamped_pool host_pool detail')


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'audit-pools', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    nova_cloud.add_config_argument(parser)
    parser.add_argument('--json', action='store_true',
                        help='print the findings as JSON')
    parser.set_defaults(run=run)


def run(args, out):
    rep = report.Report(out)
    settings, ctxt = nova_cloud.load(args, rep, require_secret=True)
    if settings is None:
        return report.USAGE
    servers, findings = audit(ctxt, settings)
    return show(findings, servers, rep, args.json)


def show(findings, servers, rep, as_json=False):
    """Print *findings*; return the exit status."""
    if as_json:
        rep.line(json.dumps({'servers': servers, 'findings': [
            finding._asdict() for finding in findings]}, indent=2,
            sort_keys=True))
        return report.PROBLEMS if findings else report.OK
    for finding in findings:
        rep.warning('%s %s (project %s, host %s): %s' % (
            finding.finding, finding.server, finding.project,
            finding.host or '-', finding.detail))
    rep.line('%d servers, %d findings' % (servers, len(findings)))
    return rep.verdict('every server is stamped and in its IP pool')


def audit(ctxt, settings):
    """``(servers, [Finding])`` of every server of the cloud."""
    auditor = _Auditor(ctxt, settings)
    servers = 0
    findings = []
    for instance in nova_cloud.each_server(ctxt):
        servers += 1
        finding = auditor.check(instance)
        if finding is not None:
            findings.append(finding)
    return servers, findings


class _Auditor(object):

    def __init__(self, ctxt, settings):
        self._ctxt = ctxt
        self._settings = settings
        self._host_pools = nova_cloud.HostPools(ctxt, settings)

    def check(self, instance):
        """The finding about *instance*, or ``None``."""
        from nova import exception
        from nova import objects

        from openstack_ext.nova import pools

        def finding(kind, detail, stamped=None, host_pool=None):
            return Finding(instance.uuid, instance.project_id, instance.host,
                           kind, stamped, host_pool, detail)

        try:
            spec = objects.RequestSpec.get_by_instance_uuid(self._ctxt,
                                                            instance.uuid)
        except exception.RequestSpecNotFound:
            return finding('no-stamp', 'it has no request spec')
        stamp = spec.get_scheduler_hint(pools.HINT)
        if stamp is None:
            return finding('no-stamp', 'it has no ip_pool stamp: run '
                           'openstack-ext stamp-servers')
        pool = pools.verify_stamp(self._settings.stamp_secrets, stamp,
                                  spec.project_id)
        if pool is None:
            return finding('unverified-stamp', 'no [ip_pools] stamp_secret '
                           'verifies its ip_pool stamp')
        configured = self._settings.pool_map.pools
        if pool not in configured and pool not in (pools.ANY_POOL,
                                                   pools.NO_POOL):
            return finding('unknown-pool', 'stamped for IP pool %r, which '
                           'is not configured' % pool, pool)
        if not instance.host:
            return None
        host_pool = self._host_pools.pool_of(instance.host)
        if pool == pools.ANY_POOL:
            if host_pool in self._settings.exclusive_pools:
                return finding('on-exclusive-pool', 'a client in no pool '
                               'created it; its host is in exclusive IP '
                               'pool %r' % host_pool, pool, host_pool)
            return None
        if host_pool != pool:
            return finding('outside-pool', 'stamped for IP pool %r, on a '
                           'host %s' % (pool, self._where(instance.host)),
                           pool, host_pool)
        return None

    def _where(self, host):
        named = self._host_pools.pools_of(host)
        if not named:
            return 'in no pool'
        if len(named) > 1:
            return 'in aggregates naming pools %s (so in none)' % ', '.join(
                sorted(named))
        return 'of IP pool %r' % next(iter(named))

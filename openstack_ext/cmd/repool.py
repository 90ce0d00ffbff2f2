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

"""``openstack-ext repool``: move servers to another IP pool, on purpose.

A server keeps the pool its stamp names for life. When a department moves
to another pool, or a pool is retired, the operator re-signs the stamps::

  openstack-ext repool --config-file /etc/nova/nova.conf \\
      --pool ops --reason "doc moves to ops (CHG-1234)" SERVER...
  openstack-ext repool ... --pool ops --migrate [--live] SERVER...

For each server (by UUID) it records a stamp for ``--pool`` signed with
the first ``[ip_pools] stamp_secret`` in the server's request spec, and
logs who (the operating-system user) and why (``--reason``, required).
From then on every move keeps the server in the new pool. With
``--migrate`` it also moves each server that is not on a host of the new
pool, through Nova's compute API (the code nova-api runs; cold migration,
or live migration with ``--live``), waits up to ``--timeout`` seconds and
reports where it landed; a cold-migrated server waits in VERIFY_RESIZE for
the operator (or ``resize_confirm_window``) to confirm, as with
``openstack server migrate``. Servers already stamped for the pool are
left alone, so running it again only does what is left; ``--dry-run``
says what it would do.

Run it where ``nova-manage`` runs, with the nova.conf that names the API
and cell databases and the message queue, and the same ``[ip_pools]`` as
nova-api and nova-scheduler. Exit status: 0 every server is stamped for
the pool (and, with ``--migrate``, on one of its hosts); 1 some are not
(listed); 2 usage or configuration error.
"""

import argparse
import getpass
import logging
import time

from openstack_ext.cmd import nova_cloud
from openstack_ext.cmd import report

LOG = logging.getLogger(__name__)
HELP = ('re-sign servers\' stamps for another IP pool, and optionally move '
        'them there')
EPILOG = """\
examples:
  openstack-ext repool --pool ops --reason "doc moves to ops" --dry-run \\
      3f2a...  9c1e...
  openstack-ext repool --pool ops --reason "doc moves to ops" --migrate \\
      --live 3f2a...  9c1e...

exit status: 0 every server is in the pool, 1 some are not (listed), 2
usage or configuration error."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'repool', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    nova_cloud.add_config_argument(parser)
    parser.add_argument('servers', nargs='+', metavar='SERVER',
                        help='server UUID')
    parser.add_argument('--pool', required=True,
                        help='the IP pool the servers move to')
    parser.add_argument('--reason', required=True,
                        help='why, for the log (a change ticket)')
    parser.add_argument('--migrate', action='store_true',
                        help='also move servers not on a host of the pool')
    parser.add_argument('--live', action='store_true',
                        help='with --migrate, live-migrate')
    parser.add_argument('--timeout', type=int, default=600, metavar='S',
                        help='with --migrate, seconds to wait per server '
                        '(default 600)')
    parser.add_argument('--dry-run', action='store_true',
                        help='say what would change, change nothing')
    parser.set_defaults(run=run)


def run(args, out):
    rep = report.Report(out)
    if args.live and not args.migrate:
        rep.error('--live needs --migrate')
        return report.USAGE
    settings, ctxt = nova_cloud.load(args, rep, require_secret=True,
                                     init_rpc=args.migrate)
    if settings is None:
        return report.USAGE
    if args.pool not in settings.pool_map.pools:
        rep.error('IP pool %r is not configured here ([ip_pools] '
                  'client_networks, default_pool); nothing was changed'
                  % args.pool)
        return report.USAGE
    repool(ctxt, settings, rep, args.servers, args.pool, args.reason,
           migrate='live' if args.live else 'cold' if args.migrate else None,
           dry_run=args.dry_run, timeout=args.timeout)
    return rep.verdict('every server is in IP pool %s' % args.pool)


def repool(ctxt, settings, rep, servers, pool, reason, migrate=None,
           dry_run=False, timeout=600, who=None):
    """Re-sign *servers* for *pool*; move them with *migrate*.

    :param migrate: ``None``, ``'cold'`` or ``'live'``.
    :returns: ``{server: outcome}``.
    """
    mover = _Repooler(ctxt, settings, rep, pool, reason, dry_run,
                      who or getpass.getuser())
    return {server: mover.server(server, migrate, timeout)
            for server in servers}


class _Repooler(object):

    def __init__(self, ctxt, settings, rep, pool, reason, dry_run, who):
        from nova.compute import api as compute_api
        self._compute = compute_api.API()
        self._ctxt = ctxt
        self._settings = settings
        self._rep = rep
        self._pool = pool
        self._reason = reason
        self._dry_run = dry_run
        self._who = who
        self._host_pools = nova_cloud.HostPools(ctxt, settings)

    def server(self, uuid, migrate, timeout):
        from nova import exception
        try:
            instance = self._compute.get(self._ctxt, uuid)
        except exception.InstanceNotFound:
            self._rep.warning('%s: no such server' % uuid)
            return 'not found'
        restamped = self._stamp(instance)
        if migrate is None or (
                self._host_pools.pool_of(instance.host) == self._pool):
            outcome = '%s, on host %s' % (restamped, instance.host)
            self._rep.line('%s: %s' % (uuid, outcome))
            return outcome
        if self._dry_run:
            outcome = '%s, would be %s-migrated from %s' % (
                restamped, migrate, instance.host)
            self._rep.line('%s: %s' % (uuid, outcome))
            return outcome
        return self._move(instance, migrate, timeout, restamped)

    def _stamp(self, instance):
        """Record the stamp of the pool; say what was done."""
        from nova import objects

        from openstack_ext.nova import pools
        secrets = self._settings.stamp_secrets
        spec = objects.RequestSpec.get_by_instance_uuid(self._ctxt,
                                                        instance.uuid)
        stamp = spec.get_scheduler_hint(pools.HINT)
        pool, position = pools.check_stamp(secrets, stamp, spec.project_id)
        if pool == self._pool and position == 0:
            return 'already stamped for IP pool %s' % self._pool
        if self._dry_run:
            return 'would be re-stamped from %s to %s' % (
                _shown(pool), self._pool)
        spec.scheduler_hints[pools.HINT] = [pools.sign_stamp(
            secrets[0], self._pool, spec.project_id)]
        spec.save()
        LOG.warning('Server %(uuid)s re-stamped from IP pool %(old)s to '
                    '%(new)s by %(who)s: %(why)s', {
                        'uuid': instance.uuid, 'old': _shown(pool),
                        'new': self._pool, 'who': self._who,
                        'why': self._reason})
        return 're-stamped from %s to %s by %s (%s)' % (
            _shown(pool), self._pool, self._who, self._reason)

    def _move(self, instance, migrate, timeout, restamped):
        source = instance.host
        try:
            if migrate == 'live':
                self._compute.live_migrate(self._ctxt, instance, None, None,
                                           None, async_=True)
            else:
                self._compute.resize(self._ctxt, instance)
        except Exception as exc:
            self._rep.warning('%s: %s, but Nova refused the %s migration: '
                              '%s' % (instance.uuid, restamped, migrate, exc))
            return 'not moved'
        deadline = time.monotonic() + timeout
        while True:
            instance = self._compute.get(self._ctxt, instance.uuid)
            if instance.task_state is None or time.monotonic() > deadline:
                break
            time.sleep(1)
        if self._host_pools.pool_of(instance.host) == self._pool:
            outcome = '%s, %s-migrated from %s to %s%s' % (
                restamped, migrate, source, instance.host,
                ' (confirm the migration)' if instance.vm_state == 'resized'
                else '')
            self._rep.line('%s: %s' % (instance.uuid, outcome))
            return outcome
        self._rep.warning('%s: %s, but it is still on %s (%s): see '
                          '"openstack server event list %s"' % (
                              instance.uuid, restamped, instance.host,
                              instance.task_state or 'the move failed',
                              instance.uuid))
        return 'not moved'


def _shown(pool):
    return 'none' if pool is None else pool or "'' (no pool)"

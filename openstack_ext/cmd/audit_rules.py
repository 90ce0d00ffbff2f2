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

"""``openstack-ext audit-rules``: every rule in the cluster, and the gaps.

Run on a proxy or storage node with an ``internal-client.conf`` and the
proxy's ``proxy-server.conf`` (for ``operator_rules``, ``always_allow``,
``deny_without_rules`` and ``mode``), it lists the accounts (from the
account databases under ``--devices``, or those given), their containers
through Swift's ``InternalClient`` (a page of listing at a time: memory
does not grow with the cluster), reads each holder's rules, and reports,
as it goes: every level that has rules, and the findings
(:mod:`openstack_ext.swift.inventory`). With ``--reach ADDRESS`` it lists
instead exactly the accounts and containers that address reaches, as the
proxy's own decision judges it, and through which rules.
"""

import argparse
import json
import os
import sys

from openstack_ext.cmd import report
from openstack_ext.cmd import rules as rules_cmd

HELP = 'list every rule in the cluster, and what is left unprotected'
DEFAULT_PROXY_CONFIG = '/etc/swift/proxy-server.conf'
DEFAULT_DEVICES = '/srv/node'
REQUESTER = 'openstack-ext audit-rules'
EPILOG = """\
examples:
  openstack-ext audit-rules --devices /srv/node
  openstack-ext audit-rules --accounts AUTH_test,AUTH_ops --json
  openstack-ext audit-rules --accounts-file accounts.txt --reach 192.0.2.7

Findings: unprotected-public (.r:* with no rule enforced at any level),
unprotected-tempurl (a tempurl key, likewise), ineffective (entries a level
outside leaves out), unparsable (stored entries that do not parse),
unreadable (an account or container that could not be read).

--json writes one JSON object a line (type rules, finding, reach, then
summary), so that a cluster of any size streams.

exit status: 0 nothing to look at (with --reach: every holder was read),
1 findings (with --reach: some holder could not be read), 2 usage error."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'audit-rules', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config-file', default=rules_cmd.DEFAULT_CONFIG,
                        metavar='PATH', help='internal-client.conf '
                        '(default %s)' % rules_cmd.DEFAULT_CONFIG)
    parser.add_argument('--proxy-config', default=DEFAULT_PROXY_CONFIG,
                        metavar='PATH', help='the proxy-server.conf whose '
                        'ip_whitelist options apply (default %s)'
                        % DEFAULT_PROXY_CONFIG)
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--devices', default=DEFAULT_DEVICES, metavar='DIR',
                       help='find the accounts in the account databases '
                       'under DIR (default %s)' % DEFAULT_DEVICES)
    which.add_argument('--accounts', metavar='A,B,...',
                       help='these accounts only')
    which.add_argument('--accounts-file', metavar='PATH',
                       help='the accounts named in PATH, one a line')
    parser.add_argument('--reach', metavar='ADDRESS',
                        help='list what ADDRESS can reach, and through '
                        'which rules')
    parser.add_argument('--json', action='store_true',
                        help='JSON lines instead of a table')
    parser.set_defaults(run=run)


def accounts_on(devices):
    """The account names of the databases under *devices*, each once.

    Walked a partition at a time across the devices (the replicas of an
    account share its partition): what is held in memory is one
    partition's names. Deleted accounts and Swift's own (``.``) are left
    out.
    """
    from swift.account.backend import AccountBroker

    def listdir(path):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []
    disks = [os.path.join(devices, d, 'accounts') for d in listdir(devices)]
    parts = sorted({p for disk in disks for p in listdir(disk)
                    if p.isdigit()}, key=int)
    for part in parts:
        found = {}
        for disk in disks:
            for suffix in listdir(os.path.join(disk, part)):
                for name in listdir(os.path.join(disk, part, suffix)):
                    db = os.path.join(disk, part, suffix, name, name + '.db')
                    if name not in found and os.path.exists(db):
                        found[name] = db
        for _hash, db in sorted(found.items()):
            broker = AccountBroker(db)
            if broker.is_deleted():
                continue
            account = broker.get_info()['account']
            if not account.startswith('.'):
                yield account


def _named_accounts(args):
    if args.accounts is not None:
        return [a.strip() for a in args.accounts.split(',') if a.strip()]
    with open(args.accounts_file) as f:
        return [line.strip() for line in f
                if line.strip() and not line.strip().startswith('#')]


class Output(object):
    """The table, or JSON lines; and the counts for the summary."""

    def __init__(self, out, as_json, progress):
        self.out = out
        self.as_json = as_json
        self.progress = progress
        self.counts = dict(accounts=0, containers=0, holders_with_rules=0,
                           findings=0, unreadable=0, reachable=0)

    def _emit(self, record, text):
        if self.as_json:
            self.out.write(json.dumps(record, sort_keys=True) + '\n')
        else:
            self.out.write(text + '\n')

    def level(self, account, container, level):
        holder = '%s/%s' % (account, container) if container else account
        self._emit(dict(type='rules', account=account, container=container,
                        level=level.label, mode=level.mode,
                        source=level.source, rules=level.rules,
                        networks=[str(n) for n in level.networks.networks()],
                        bad=list(level.bad)),
                   '%-9s %-7s %s: %s%s' % (
                       level.label, level.mode, holder, '; '.join(
                           '%s %s' % item for item in
                           sorted(level.rules.items())),
                       ' (proxy default)' if level.source == 'proxy'
                       else ''))

    def finding(self, finding):
        self.counts['findings'] += 1
        if finding.kind == 'unreadable':
            self.counts['unreadable'] += 1
        holder = finding.account + ('/' + finding.container
                                    if finding.container else '')
        self._emit(dict(finding._asdict(), type='finding'),
                   'FINDING %s %s: %s' % (finding.kind, holder,
                                          finding.detail))

    def reached(self, address, account, container, through):
        self.counts['reachable'] += 1
        holder = '%s/%s' % (account, container) if container else account
        self._emit(dict(type='reach', address=address, account=account,
                        container=container, through=through),
                   'reaches %s through %s' % (holder, '; '.join(through)))

    def tick(self):
        if self.progress:
            sys.stderr.write('\r%(accounts)d accounts, %(containers)d '
                             'containers' % self.counts)
            sys.stderr.flush()

    def summary(self, address):
        if self.progress:
            sys.stderr.write('\n')
        counts = dict(self.counts)
        if address is None:
            del counts['reachable']
            text = ('%(accounts)d accounts, %(containers)d containers, '
                    '%(holders_with_rules)d holders with rules, '
                    '%(findings)d findings' % counts)
        else:
            counts['address'] = address
            text = ('%s reaches %d holders (%d accounts, %d containers '
                    'read; %d unreadable)' % (
                        address, counts['reachable'], counts['accounts'],
                        counts['containers'], counts['unreadable']))
        self._emit(dict(counts, type='summary'), text)


class Auditor(object):
    """Reads each holder through the internal client and reports it."""

    def __init__(self, client, config, output, address):
        self.client = client
        self.config = config
        self.output = output
        self.address = address

    def _info(self, account, container=None):
        """The holder's info, ``None`` when gone; raises when unreadable.

        Asked as its owner (``swift_owner``), as the proxy's own
        middleware do: the proxy shows ACLs and tempurl keys to owners
        only.
        """
        from swift.common import swob
        from swift.proxy.controllers import base as proxy_base

        req = swob.Request.blank(
            self.client.make_path(account, container),
            environ={'REQUEST_METHOD': 'HEAD', 'swift_owner': True},
            headers={'User-Agent': self.client.user_agent})
        resp = req.get_response(self.client.app)
        if resp.status_int in (404, 410):
            return None
        if not 200 <= resp.status_int <= 299:
            raise IOError('status %s' % resp.status)
        shaped = (proxy_base.headers_to_container_info if container
                  else proxy_base.headers_to_account_info)
        return shaped(resp.headers, resp.status_int)

    def _unreadable(self, account, container, error):
        from openstack_ext.swift import inventory

        self.output.finding(inventory.Finding(
            'unreadable', account, container, 'could not be read (%s): '
            'its rules are unknown' % error))

    def account(self, account):
        from openstack_ext.swift import inventory

        try:
            info = self._info(account)
        except Exception as error:  # the internal client's, whatever it is
            self._unreadable(account, None, error)
            return
        if info is None:
            return
        self.output.counts['accounts'] += 1
        outer = inventory.account_levels(self.config.operator, account, info)
        self._holder(account, None, outer, info, info)
        try:
            for listed in self.client.iter_containers(account):
                self.container(account, listed['name'], outer, info)
        except Exception as error:  # the internal client's
            self._unreadable(account, None, 'listing: %s' % error)

    def container(self, account, container, outer, account_info):
        from openstack_ext.swift import inventory

        try:
            info = self._info(account, container)
        except Exception as error:  # the internal client's
            self._unreadable(account, container, error)
            return
        if info is None:
            return  # deleted since it was listed
        self.output.counts['containers'] += 1
        self.output.tick()
        self._holder(account, container,
                     outer + [inventory.container_level(info)], info,
                     account_info)

    def _holder(self, account, container, levels, info, account_info):
        from openstack_ext.swift import inventory

        if self.address is not None:
            through = inventory.reach(self.address, levels,
                                      self.config.options, bool(container))
            if through is not None:
                self.output.reached(str(self.address), account, container,
                                    through)
            return
        own = levels[-1:] if container else levels
        ruled = [level for level in own if level.networks is not None]
        for level in ruled:
            self.output.level(account, container, level)
        if ruled:
            self.output.counts['holders_with_rules'] += 1
        for finding in inventory.findings(account, container, levels, info,
                                          account_info, self.config.options):
            self.output.finding(finding)


def _proxy_config(path):
    from openstack_ext.cmd import proxy_pipeline
    from openstack_ext.swift import conf as whitelist_conf

    loaded = proxy_pipeline.LoadedPipeline(path)
    return whitelist_conf.parse(loaded.our_options)


def run(args, out):
    from openstack_ext import addresses

    rep = report.Report(out)
    address = None
    if args.reach is not None:
        try:
            address = addresses.parse_address(args.reach)
        except ValueError as error:
            out.write('audit-rules: --reach: %s\n' % error)
            return report.USAGE
    try:
        config = _proxy_config(args.proxy_config)
    except Exception as error:  # paste's, swift's, or a bad option
        rep.error('%s: %s' % (args.proxy_config, error))
        return rep.verdict('')
    try:
        client = rules_cmd.internal_client(args.config_file, REQUESTER)
        names = accounts_on(args.devices) if args.accounts is None and \
            args.accounts_file is None else _named_accounts(args)
    except (IOError, OSError) as error:
        rep.error('%s' % error)
        return rep.verdict('')
    output = Output(out, args.json, sys.stderr.isatty())
    auditor = Auditor(client, config, output, address)
    for name in names:
        auditor.account(name)
        output.tick()
    output.summary(args.reach and str(address))
    problems = output.counts['unreadable'] if address is not None \
        else output.counts['findings']
    return report.PROBLEMS if problems else report.OK

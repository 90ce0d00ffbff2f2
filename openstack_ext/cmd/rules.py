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

"""``openstack-ext rules``: read and repair rules without a token.

The operator's recovery for an owner locked out by a bad rule, and for
rules that must be changed when no owner can: run on a proxy or storage
node, it reads and writes an account's or container's ``allow-*`` rules
and mode directly through Swift's ``InternalClient`` (an
``internal-client.conf``, as Swift's own daemons use), which neither auth
nor ``ip_whitelist`` stands in front of. A value is checked exactly as
the middleware checks an owner's write, and a malformed one is refused,
with nothing stored. Each change is logged as the proxy logs an owner's
(:mod:`openstack_ext.swift.trail`), naming this command as the requester.

With ``--operator`` it reads and writes the operator's level of an
account instead (:mod:`openstack_ext.swift.operator_level`): the rules
above the owner's, which no request through the proxy can write, widen or
remove. They replace the proxy's ``operator_rules`` default for that
account; removing them all brings the default back.
"""

import argparse
import configparser
import re

from openstack_ext.cmd import report
from openstack_ext.cmd import rules_verify

DEFAULT_CONFIG = '/etc/swift/internal-client.conf'
REQUESTER = 'openstack-ext rules (operator)'
HELP = 'show or repair the allow-* rules and mode of an account/container'
EPILOG = """\
examples:
  openstack-ext rules show --account AUTH_test --container photos
  openstack-ext rules set --account AUTH_test --container photos \\
      allow-office:203.0.113.0/24 --mode audit
  openstack-ext rules remove --account AUTH_test --container photos \\
      allow-office
  openstack-ext rules remove --account AUTH_test --all
  openstack-ext rules set --operator --account AUTH_test \
      allow-campus:198.51.100.0/24 --mode audit

Changes apply at once through the proxies that share the cluster's
memcache, like an owner's write.

exit status: 0 done (or shown), 1 a value was refused or the account or
container could not be read or written (nothing changed), 2 usage error."""
_RULE = re.compile(r'(?:x-(?:container|account)-meta-)?allow-([^:\s]+)\s*'
                   r'[:=](.*)\Z', re.IGNORECASE | re.DOTALL)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'rules', help=HELP, description=__doc__.split('\n\n')[1],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest='rules_verb', metavar='ACTION')
    verbs.required = True
    parser.set_defaults(run=show)  # each action sets its own
    for name, run, text in (
            ('show', show, 'the rules and mode stored'),
            ('set', set_rules, 'write rules (allow-NAME:VALUE) and the mode'),
            ('remove', remove, 'remove rules by name, or --all')):
        sub = verbs.add_parser(name, help=text, epilog=EPILOG,
                               formatter_class=argparse.
                               RawDescriptionHelpFormatter)
        sub.add_argument('--config-file', default=DEFAULT_CONFIG,
                         metavar='PATH', help='internal-client.conf '
                         '(default %s)' % DEFAULT_CONFIG)
        sub.add_argument('--account', required=True)
        sub.add_argument('--container')
        sub.add_argument('--operator', action='store_true',
                         help="the account's operator level (above the "
                         "owner's rules; not with --container)")
        if name == 'set':
            sub.add_argument('rules', nargs='*', metavar='allow-NAME:VALUE')
            sub.add_argument('--mode', choices=('audit', 'enforce'))
        elif name == 'remove':
            sub.add_argument('names', nargs='*', metavar='allow-NAME')
            sub.add_argument('--all', action='store_true',
                             help='every rule of the holder')
        sub.set_defaults(run=run)
    rules_verify.add_parser(verbs)  # do the primaries agree (--repair)


def internal_client(config_file, requester):
    """Swift's ``InternalClient`` of *config_file*, as Swift's daemons."""
    from swift.common.internal_client import InternalClient
    from swift.common import utils

    conf = configparser.RawConfigParser()
    if not conf.read(config_file):
        raise IOError('%s: cannot read it' % config_file)
    # swift.conf (the hash path) lives where the file says, as for the
    # proxy itself; /etc/swift when it says nothing.
    utils.set_swift_dir(conf.defaults().get('swift_dir'))
    return InternalClient(config_file, requester, 3)


class Layout(object):
    """How a level's named values map to the holder's metadata."""

    def __init__(self, kind, operator):
        from swift.common.request_helpers import get_sys_meta_prefix

        from openstack_ext.swift import rule_headers
        from openstack_ext.swift import rules
        from openstack_ext.swift import trail

        self.operator = operator
        if operator:
            self.rule = 'operator-' + rules.RULE_PREFIX
            self.mode = 'operator-mode'
            self.meta = None
            self.sysmeta = get_sys_meta_prefix(kind) + rules.OPERATOR_PREFIX
            self.mode_header = get_sys_meta_prefix(kind) + \
                rules.OPERATOR_MODE_NAME
        else:
            self.rule, self.mode = rules.RULE_PREFIX, trail.MODE
            self.meta, self.sysmeta = rule_headers.prefixes(kind)
            self.mode_header = rule_headers.mode_headers(kind)[1]

    def named(self, info):
        """``{rule name: value, mode name: mode}`` of the level."""
        from openstack_ext.swift import rules
        from openstack_ext.swift import trail

        if not self.operator:
            return trail.named(info)
        named = {self.rule + name: value
                 for name, value in rules.operator_rules(info).items()}
        stored = rules.operator_stored(info)
        if stored is not None and stored.mode:
            named[self.mode] = stored.mode
        return named

    def headers(self, old, new):
        """The headers that turn *old* into *new*."""
        headers = {}
        for name in set(old) | set(new):
            if name == self.mode or old.get(name) == new.get(name):
                continue
            short = name[len(self.rule):]
            headers[self.sysmeta + short] = new.get(name, '')
            if self.meta:
                headers[self.meta + short] = ''  # the guide-era copy goes
        if old.get(self.mode) != new.get(self.mode):
            headers[self.mode_header] = new.get(self.mode, '')
        return headers


class Holder(object):
    """One account or container, through Swift's internal client."""

    def __init__(self, args):
        from swift.common import utils

        self.account, self.container = args.account, args.container
        self.kind = 'container' if args.container else 'account'
        self.layout = Layout(self.kind, args.operator)
        self.client = internal_client(args.config_file, REQUESTER)
        self.logger = utils.get_logger(
            {}, log_route='ip_whitelist', statsd_tail_prefix='ip_whitelist')
        self.path = self.client.make_path(args.account, args.container)

    def info(self):
        """The holder's info, as the proxy's ``get_*_info`` shapes it."""
        from swift.proxy.controllers import base as proxy_base

        resp = self.client.make_request('HEAD', self.path, {}, (2, 404))
        if resp.status_int == 404:
            raise LookupError('%s %s does not exist' % (
                self.kind, self.container or self.account))
        shaped = (proxy_base.headers_to_container_info if self.container
                  else proxy_base.headers_to_account_info)
        return shaped(resp.headers, resp.status_int)

    def write(self, headers):
        self.client.make_request('POST', self.path, headers, (2,))
        # As the filter does after a write: every proxy reads it anew.
        rules_verify.forget_cached(self.client, self.account, self.container)

    def trail(self, old, new):
        from openstack_ext.swift import trail

        return trail.Change(self.account, self.container, old, new,
                            REQUESTER, 'local')


def _open(args, rep):
    from swift.common.internal_client import UnexpectedResponse

    if args.operator and args.container:
        rep.error("--operator is an account's level: not with --container")
        return None, None
    try:
        holder = Holder(args)
        return holder, holder.info()
    except (IOError, OSError, LookupError, UnexpectedResponse) as error:
        rep.error(str(error))
        return None, None


def show(args, out):
    rep = report.Report(out)
    holder, info = _open(args, rep)
    if holder is None:
        return rep.verdict('')
    layout = holder.layout
    named = layout.named(info)
    rep.line('%s%s %s:' % ('operator level of ' if args.operator else '',
                           holder.kind, args.container or args.account))
    rep.field('  mode', named.pop(
        layout.mode, "(the proxy's operator_mode)"), 22)
    for name, value in sorted(named.items()):
        rep.field('  ' + name[len(layout.rule) - len('allow-'):], value, 22)
    if not named:
        rep.line("  no rules (the proxy's operator_rules default for its "
                 "prefix applies)" if args.operator else '  no rules')
    return rep.verdict('shown')


def _write(args, out, new_of):
    """Write what *new_of(named values, layout)* returns; log it."""
    from openstack_ext.swift import trail

    rep = report.Report(out)
    holder, info = _open(args, rep)
    if holder is None:
        return rep.verdict('')
    old = holder.layout.named(info)
    new = new_of(dict(old), holder.layout, rep)
    if rep.errors:
        return rep.verdict('')
    headers = holder.layout.headers(old, new)
    change = holder.trail(old, new)
    if not headers:
        return rep.verdict('nothing to change')
    try:
        holder.write(headers)
    except Exception as error:  # the internal client's, whatever it is
        rep.error('%s: nothing changed' % error)
        trail.log_refused(holder.logger, change, str(error))
        return rep.verdict('')
    trail.log_done(holder.logger, change, '204')
    rep.line('changed %s %s: %s' % (holder.kind, args.container or
                                    args.account, trail.describe(change)))
    return rep.verdict('done')


def set_rules(args, out):
    from openstack_ext.swift import rule_headers

    from openstack_ext.swift import operator_level

    def new_of(named, layout, rep):
        meta = layout.meta or layout.sysmeta
        for text in args.rules:
            match = _RULE.match(text.strip())
            if not match:
                rep.error('%r is not allow-NAME:VALUE' % text)
                continue
            name, value = match.group(1).lower(), match.group(2).strip()
            error = rule_headers.rule_error(meta, name, text, value)
            if layout.operator and name == operator_level.DEFAULT_NAME:
                error = 'allow-%s names the proxy\'s default' % name
            if error:
                rep.error(error + ': nothing changed')
            elif value:
                named[layout.rule + name] = value
            else:
                named.pop(layout.rule + name, None)
        if args.mode:
            named[layout.mode] = args.mode
        return named
    if not args.rules and not args.mode:
        out.write('rules set: give allow-NAME:VALUE rules, --mode, or '
                  'both\n')
        return report.USAGE
    return _write(args, out, new_of)


def remove(args, out):
    def new_of(named, layout, rep):
        for name in [n for n in named if n != layout.mode] if args.all \
                else args.names:
            name = name.lower()
            if name.startswith(layout.rule):
                name = name[len(layout.rule) - len('allow-'):]
            name = name if name.startswith('allow-') else 'allow-' + name
            name = layout.rule + name[len('allow-'):]
            if name not in named:
                rep.error('%s has no %srule %s' % (
                    args.container or args.account,
                    'operator ' if layout.operator else '',
                    name[len(layout.rule) - len('allow-'):]))
            named.pop(name, None)
        return named
    if bool(args.names) == bool(args.all):
        out.write('rules remove: give rule names or --all\n')
        return report.USAGE
    return _write(args, out, new_of)

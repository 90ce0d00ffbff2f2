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

"""``openstack-ext rules verify``: do all primaries hold the same rules?

Reads the ip_whitelist settings (``allow-*`` rules, and any other
``ip-whitelist-*`` system metadata such as a mode) of an account or
container from each of its primaries, as the middleware does
(:mod:`openstack_ext.swift.replicas`), through the rings of an internal
client's proxy app. ``--repair`` writes the settings a quorum of the
primaries holds once more through that internal client, with a new
timestamp, so that every primary that answers holds them, and drops the
filter's merged entry (and Swift's cached info, which carries it) from
the memcache of that client's pipeline.
"""

import argparse

from openstack_ext.cmd import report

HELP = 'do all primaries of an account or container hold the same rules?'
DESCRIPTION = """\
Show the ip_whitelist rules (and any other ip-whitelist setting, such as a
mode) that each primary replica of an account or container holds, and
whether they agree. A primary that was down during a rule write keeps the
old rules until the replicator reaches it; the proxy admits only the
clients that every primary's rules admit, so a removal applies at once but
a widening waits. --repair writes the rules a quorum of primaries holds
to all of them. Run on a proxy or storage node, with an internal client
configuration (its proxy app gives the rings)."""
EPILOG = """\
examples:
  openstack-ext rules verify --account AUTH_test --container photos
  openstack-ext rules verify --account AUTH_test --repair

emergency removal of an address: remove it (swift post --meta allow-dev:...),
check that the answer's X-Ip-Whitelist-Replicas is n/n, else run
"rules verify --repair" once the missing primaries are back.

exit status: 0 the primaries agree (or were repaired), 1 they disagree or
too few answered, 2 usage error."""

DEFAULT_CONF = '/etc/swift/internal-client.conf'
# Only ip_whitelist's own settings are compared and repaired.
OWN_SYSMETA = 'sysmeta-ip-whitelist-'
GUIDE_META = 'meta-allow-'


def add_parser(subparsers):
    """Add ``verify`` to the ``rules`` verb's sub-parsers."""
    parser = subparsers.add_parser(
        'verify', help=HELP, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--account', required=True,
                        help='the account (AUTH_...)')
    parser.add_argument('--container', help='a container in it')
    parser.add_argument('--repair', action='store_true',
                        help='write the rules a quorum of primaries holds '
                             'to all of them')
    parser.add_argument('--internal-client-conf', default=DEFAULT_CONF,
                        metavar='PATH',
                        help='internal client configuration (default: '
                             '%(default)s)')
    parser.set_defaults(run=run)


def settings(answer):
    """``{header: value}`` of ip_whitelist's settings in one answer."""
    found = {}
    for key, value in answer.headers.items():
        lower = key.lower()
        if value and (OWN_SYSMETA in lower or GUIDE_META in lower):
            found[lower] = value
    return found


def _shown(key):
    """A setting's header as the owner writes it: ``allow-dev``."""
    if OWN_SYSMETA in key:
        return key.split(OWN_SYSMETA, 1)[1]
    return key.split('meta-', 1)[1] + ' (guide-era metadata)'


def _internal_client(path):
    from swift.common import internal_client
    from swift.common import utils
    # As Swift's daemons do: the rings' hash path is in swift_dir.
    utils.set_swift_dir(utils.readconf(path, 'app:proxy-server').get(
        'swift_dir', '/etc/swift'))
    return internal_client.InternalClient(
        path, 'openstack-ext rules verify', 3, allow_modify_pipeline=False)


def _memcache_of(app):
    """The memcache client of the internal client's ``cache`` filter."""
    from openstack_ext.swift import replicas
    for _step in range(replicas.MAX_DEPTH):
        if app is None:
            return None
        if getattr(app, 'memcache', None) is not None:
            return app.memcache
        app = next((getattr(app, attribute) for attribute in
                    replicas.NEXT_APP_ATTRIBUTES
                    if getattr(app, attribute, None)), None)
    return None


def forget_cached(client, account, container=None):
    """After a write through *client*: what the proxies keep of the holder.

    The filter's merged entry and Swift's info, which carries it
    (``replicas.forget``), from the memcache of *client*'s pipeline, if it
    has one.
    """
    from swift.common import swob

    from openstack_ext.swift import replicas
    from openstack_ext.swift import rule_reader

    memcache = _memcache_of(client.app)
    if memcache is not None:
        replicas.forget({'swift.cache': memcache}, rule_reader.holder_key(
            swob.str_to_wsgi(account),
            container and swob.str_to_wsgi(container)))


def run(args, out, client=None):
    from swift.common import utils

    from openstack_ext.swift import replicas

    rep = report.Report(out)
    if client is None:
        try:
            client = _internal_client(args.internal_client_conf)
        except (OSError, ValueError, LookupError) as error:
            rep.error('cannot load the internal client %s: %s'
                      % (args.internal_client_conf, error))
            return rep.verdict('')
    proxy_app = replicas.find_proxy_app(client.app)
    if proxy_app is None:
        rep.error('%s: no proxy server app in its pipeline'
                  % args.internal_client_conf)
        return rep.verdict('')
    holder = args.account + ('/' + args.container if args.container else '')
    answers = replicas.ReplicaReader(lambda: proxy_app).answers(
        args.account, args.container)
    rep.field('holder', holder)
    held = []
    for answer in answers:
        node = '%s:%s/%s' % (answer.node['ip'], answer.node['port'],
                             answer.node['device'])
        if not answer.answered:
            rep.field(node, 'no answer (%s)' % (answer.status or 'down'))
            continue
        if answer.status in replicas.GONE:
            rep.field(node, 'not found (%s)' % answer.status)
            held.append(None)
            continue
        found = settings(answer)
        held.append(tuple(sorted(found.items())))
        rep.field(node, '; '.join('%s: %s' % (_shown(key), value)
                                  for key, value in sorted(found.items()))
                  or 'no rules')
    quorum = utils.quorum_size(len(answers))
    if len(held) < quorum:
        rep.error('%d of %d primaries answered; a quorum is %d'
                  % (len(held), len(answers), quorum))
        return rep.verdict('')
    if len(set(held)) == 1 and len(held) == len(answers):
        return rep.verdict('all %d primaries hold the same rules'
                           % len(answers))
    problem = ('the primaries disagree' if len(set(held)) > 1 else
               'only %d of %d primaries answered' % (len(held),
                                                     len(answers)))
    if not args.repair:
        rep.error('%s; the proxy admits only what every answering '
                  "primary's rules admit (--repair writes the rules a "
                  'quorum holds to all)' % problem)
        return rep.verdict('')
    chosen = next((h for h in set(held) if held.count(h) >= quorum), False)
    if chosen is False or chosen is None:
        rep.error('%s, and no rules are held by a quorum: write the rules '
                  'again as the owner' % problem)
        return rep.verdict('')
    kind = 'container' if args.container else 'account'
    prefix = 'x-%s-' % kind
    names = {key for h in held if h for key, _value in h}
    chosen = dict(chosen)
    headers = {key: chosen.get(key, '') for key in names
               if key.startswith(prefix)}
    if args.container:
        client.set_container_metadata(args.account, args.container,
                                      headers)
    else:
        client.set_account_metadata(args.account, headers)
    forget_cached(client, args.account, args.container)
    after = replicas.ReplicaReader(lambda: proxy_app).answers(
        args.account, args.container)
    stored, total = sum(1 for answer in after if answer.answered and
                        settings(answer) == chosen), len(after)
    rep.line('repaired: the rules of a quorum written again; now on %d of '
             '%d primaries' % (stored, total))
    if stored < total:
        rep.error('%d of %d primaries still miss them: run again when they '
                  'are back' % (total - stored, total))
    return rep.verdict('repaired')

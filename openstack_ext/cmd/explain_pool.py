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

"""``openstack-ext explain-pool``: which pool would this client get?

Only our ``[ip_pools]`` options (and oslo.middleware's proxy-header switch)
are registered, never Nova's, so this runs wherever nova.conf is readable.
The decision is :mod:`openstack_ext.nova.pools`', the code nova-api's stamp
and the scheduler filter run: :func:`~openstack_ext.nova.pools.load_settings`
then ``PoolMap.pool_for_chain``.
"""

import argparse

from openstack_ext.cmd import report

HELP = 'which IP pool, and which compute hosts, would a client get?'
DESCRIPTION = """\
Explain how nova-api and nova-scheduler, configured by this nova.conf, place
a server created by a request from ADDRESS: the client address they take,
the client network that matches, the pool, how the pool's hosts are found,
or why the request would be refused (the server then goes to ERROR with
"No valid host was found").

ADDRESS is where the request reaches nova-api from: the client itself, or
the load balancer in front of nova-api. Give the X-Forwarded-For header
nova-api receives with --forwarded-for; it counts only when nova.conf sets
[oslo_middleware] enable_proxy_headers_parsing = True, and then
[ip_pools] trusted_proxy_hops says which of its entries is the client."""
EPILOG = """\
examples:
  openstack-ext explain-pool --config-file /etc/nova/nova.conf 10.1.2.3
  openstack-ext explain-pool --config-file nova.conf 192.0.2.10 \\
      --forwarded-for "10.2.0.8"
  openstack-ext explain-pool --config-file nova.conf 10.1.2.3 \\
      --host doc-1 --host docker-1

exit status: 0 the request gets a pool, 1 it would be refused or the
[ip_pools] configuration is invalid, 2 usage error."""

DEFAULT_CONFIG = '/etc/nova/nova.conf'


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'explain-pool', help=HELP, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--config-file', action='append', dest='config_files',
        metavar='PATH', help='nova.conf to read; repeatable, later files '
        'override earlier ones (default: %s)' % DEFAULT_CONFIG)
    parser.add_argument(
        '--config-dir', action='append', dest='config_dirs', default=[],
        metavar='DIR', help='also read DIR/*.conf, as nova does')
    parser.add_argument('address', metavar='ADDRESS',
                        help='the address the request comes from')
    parser.add_argument(
        '--forwarded-for', metavar='CHAIN',
        help='the X-Forwarded-For header as nova-api receives it, '
        'e.g. "10.2.0.8, 10.1.0.1"')
    parser.add_argument(
        '--host', action='append', default=[], metavar='HOSTNAME',
        help='also say which pool this compute host is in (repeatable)')
    parser.set_defaults(run=run)


def _load(files, dirs):
    from openstack_ext.nova import conf as pool_conf
    from oslo_config import cfg
    conf = cfg.ConfigOpts()
    pool_conf.register_opts(conf)
    try:
        from oslo_middleware import http_proxy_to_wsgi
        proxy_opts = http_proxy_to_wsgi.OPTS
    except ImportError:  # not in nova's environment: same option, by hand
        proxy_opts = [cfg.BoolOpt('enable_proxy_headers_parsing',
                                  default=False)]
    conf.register_opts(proxy_opts, group='oslo_middleware')
    conf(args=[], default_config_files=files, default_config_dirs=dirs,
         use_env=False)
    return conf


def _unknown_options(rep, files):
    from openstack_ext.nova import conf as pool_conf
    from oslo_config import cfg
    known = set(opt.dest for opt in pool_conf.ip_pools_opts)
    for path in files:
        sections = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (IOError, cfg.ParseError):
            continue  # oslo.config has already said what is wrong
        for key in sorted(sections.get(pool_conf.GROUP, {})):
            if key not in known:
                rep.warning('%s: unknown option [%s] %s is ignored'
                            % (path, pool_conf.GROUP, key))


def _request_address(rep, conf, args):
    """The chain nova-api puts in REMOTE_ADDR, as http_proxy_to_wsgi does."""
    parsing = conf.oslo_middleware.enable_proxy_headers_parsing
    if args.forwarded_for is None:
        if parsing:
            rep.note('no --forwarded-for: explained as a request that reaches '
                     'nova-api from %s without X-Forwarded-For; give the '
                     'header your load balancer sends to explain a request '
                     'through it' % args.address)
        return args.address
    if not parsing:
        rep.note('nova-api ignores X-Forwarded-For: [oslo_middleware] '
                 'enable_proxy_headers_parsing is false, so the client is '
                 'the direct peer %s' % args.address)
        return args.address
    return args.forwarded_for


def _explain_hosts(rep, settings, pool, hostnames):
    from openstack_ext.nova import conf as pool_conf
    from openstack_ext.nova import pools
    if settings.host_selection == pool_conf.AGGREGATE_METADATA:
        key = settings.aggregate_metadata_key
        rep.field('hosts', 'those in a host aggregate whose metadata has '
                  '%s=%s (and in no aggregate naming another pool); tag an '
                  'aggregate with: openstack aggregate set --property %s=%s '
                  'AGGREGATE' % (key, pool, key, pool))
        if hostnames:
            rep.note('--host needs the aggregates, which only Nova knows: '
                     'openstack aggregate list --long')
        return
    longer = sorted(p for p in settings.pool_map.pools
                    if p != pool and p.startswith(pool))
    shadowed = ('; hosts of the longer pool names %s are not in it'
                % ', '.join(longer)) if longer else ''
    rep.field('hosts', 'compute hosts named %s, or %s followed by a '
              'character other than a letter or digit: %s-1 and '
              '%s.example.org, not %s1 or %sa-1%s' % (
                  pool, pool, pool, pool, pool, pool, shadowed))
    by_name = pools.HostnamePools(settings.pool_map.pools)
    for hostname in hostnames:
        its = by_name.pool_of(hostname)
        rep.line('host %s: %s' % (hostname, 'in pool %s' % its if its == pool
                                  else 'in pool %s, not %s' % (its, pool)
                                  if its else 'in no pool'), 2)


def _check_deployment(rep, conf, settings):
    """What nova-api's ip_pool_stamp would say about this configuration."""
    from openstack_ext.nova import pools
    try:
        # What stops ip_pool_stamp (and the scheduler filter) at start.
        pools.check_proxy_headers(
            settings, conf.oslo_middleware.enable_proxy_headers_parsing)
    except pools.PoolConfigError:
        rep.error('[oslo_middleware] enable_proxy_headers_parsing = True with '
                  '[ip_pools] trusted_proxy_hops = 0: nova-api would believe '
                  'an X-Forwarded-For written by the client, and its '
                  'ip_pool_stamp filter refuses to start')
    try:
        pools.load_settings(conf, require_secret=True)
    except pools.PoolConfigError as error:
        rep.note('%s; the scheduler filter works without it (a moved server '
                 'then keeps the pool of the host it leaves)' % error)


def _guide_note(rep, settings, networks, match):
    """Say so when the 2013 guide's string prefixes would disagree."""
    for network, pool in networks:
        octets = network.prefixlen // 8
        if network.version != 4 or not octets or match.network == network:
            continue
        prefix = '.'.join(str(network.network_address).split('.')[:octets])
        if str(match.address).startswith(prefix):
            rep.note("the 2013 guide's IPScheduler matched "
                     "startswith('%s') and would have sent %s to %s; %s is "
                     "not in %s" % (prefix, match.address, pool,
                                    match.address, network))


def _refusal(chain, hops):
    """Why ``chain_client`` found no client address in *chain*."""
    entries = chain.split(',')
    if hops == 0 and len(entries) > 1:
        return ('with trusted_proxy_hops = 0 nova-api expects a single '
                'address; a chain is written by the client')
    if len(entries) < hops:
        return ('the chain has %d entr%s, fewer than trusted_proxy_hops = '
                '%d: the request did not come through the trusted proxies'
                % (len(entries), 'y' if len(entries) == 1 else 'ies', hops))
    entry = entries[-hops] if hops else chain
    return '%r is not an IP address' % entry.strip()


def run(args, out):
    # Imported here: the command also runs where only swift is installed.
    from openstack_ext.nova import pools
    from oslo_config import cfg

    rep = report.Report(out)
    files = args.config_files or [DEFAULT_CONFIG]
    rep.field('config', ', '.join(files + args.config_dirs))
    try:
        conf = _load(files, args.config_dirs)
        settings = pools.load_settings(conf)
    except cfg.Error as error:
        rep.error('cannot read the configuration: %s' % error)
        return rep.verdict('')
    except pools.PoolConfigError as error:
        rep.error('%s: nova-scheduler and nova-api refuse to start with it'
                  % error)
        return rep.verdict('')
    _unknown_options(rep, files)
    _check_deployment(rep, conf, settings)
    networks = pools.parse_client_networks(conf.ip_pools.client_networks)
    rep.field('client networks', '%s; default_pool = %s' % (
        ', '.join('%s=%s' % item for item in networks) or '(none)',
        settings.pool_map.default_pool or '(unset: others are refused)'))
    hops = settings.trusted_proxy_hops
    chain = _request_address(rep, conf, args)
    rep.field('request address', '%s (%d trusted proxy hop%s)' % (
        chain, hops, '' if hops == 1 else 's'))
    match = settings.pool_map.pool_for_chain(chain, hops)
    if match.address is None:
        rep.error('refused: %s' % _refusal(chain, hops))
        return rep.verdict('')
    rep.field('client', str(match.address))
    if match.network is not None:
        rep.field('matched', '%s=%s (the most specific client network '
                  'containing it)' % (match.network, match.pool))
    elif match.pool is not None:
        rep.field('matched', 'no client network; default_pool = %s'
                  % match.pool)
    _guide_note(rep, settings, networks, match)
    if match.pool is None:
        rep.error('refused: %s is in none of [ip_pools] client_networks and '
                  'default_pool is unset; the server goes to ERROR (No '
                  'valid host was found)' % match.address)
        return rep.verdict('')
    if match.pool == pools.ANY_POOL:
        rep.field('pool', '* (default_pool = *): any host, hosts in no pool '
                  'included, as without the filter; moves too')
        return rep.verdict('the request is not constrained to a pool')
    rep.field('pool', match.pool)
    _explain_hosts(rep, settings, match.pool, args.host)
    rep.field('later moves', 'stay in pool %s (signed ip_pool hint)'
              % match.pool if settings.stamp_secrets else
              'resize/migrate/evacuate keep the pool of the host the server '
              'leaves (no stamp_secret, no signed hint)')
    return rep.verdict('the request gets pool %s' % match.pool)

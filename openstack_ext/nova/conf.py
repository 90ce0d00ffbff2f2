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

"""The ``[ip_pools]`` options of nova.conf, declared once.

nova-scheduler (the :mod:`~openstack_ext.nova.pool_filter` filter) and
nova-api (the :mod:`~openstack_ext.nova.pool_stamp` paste filter) read the
same group; give both services the same values. This module imports neither
Nova nor anything that does, so the config generator and the command line
tool can load it on their own. Validation beyond the option types lives in
:func:`openstack_ext.nova.pools.load_settings`.
"""

from oslo_config import cfg

GROUP = 'ip_pools'

HOSTNAME_PREFIX = 'hostname_prefix'
AGGREGATE_METADATA = 'aggregate_metadata'

ip_pools_group = cfg.OptGroup(
    GROUP,
    title='IP-prefix pools',
    help="""
Place each new server in a pool of compute hosts chosen from the network of
the client that created it, and keep it in that pool for every later move.

Enable the scheduler side in ``[filter_scheduler]``::

  available_filters = nova.scheduler.filters.all_filters
  available_filters = openstack_ext.nova.pool_filter.ClientNetworkPoolFilter
  enabled_filters = ...,ClientNetworkPoolFilter

and, so that the pool holds through every move, the ``ip_pool_stamp`` filter
in nova-api's api-paste.ini (see etc/nova/api-paste-ip-pool-stamp.ini).
""")

ip_pools_opts = [
    cfg.ListOpt(
        'client_networks',
        default=[],
        sample_default='10.1.0.0/16=doc, 10.2.0.0/16=ops, 2001:db8:1::/48=doc',
        help="""
Client networks and the pool each one maps to, as ``CIDR=pool`` items.

The most specific network containing the client address wins, so
``10.0.0.0/8=lab, 10.1.0.0/16=doc`` sends 10.1.2.3 to ``doc`` and 10.9.0.1
to ``lab``; 10.10.0.1 is not in 10.1.0.0/16. IPv4 and IPv6 networks may be
mixed; an IPv4-mapped IPv6 client (::ffff:10.1.2.3) is its IPv4 address.
Networks must be written with their host bits clear, and each network may be
listed once. Pool names are letters, digits, ``.``, ``_`` and ``-``, starting
with a letter or digit.
"""),
    cfg.StrOpt(
        'default_pool',
        sample_default='dev',
        help="""
Pool for clients whose address is in none of ``client_networks``.

Unset, such clients are refused: their servers go to ERROR with "No valid
host was found". ``*`` leaves them unconstrained: their servers go to any
host, hosts in no pool included, and move anywhere, exactly as without the
filter; use it to pin some networks to pools in an existing cloud and leave
everyone else as before. At least one of ``client_networks`` and
``default_pool`` must be set.
"""),
    cfg.ListOpt(
        'exclusive_pools',
        default=[],
        sample_default='doc, ops',
        help="""
Pools whose hosts only their own clients' servers may use.

With ``default_pool = *`` clients in no client network may use any host;
their servers are kept off the hosts of these pools, at boot and at every
move: placement is asked for hosts outside the pools' aggregates, and the
host filter turns those hosts down. So are moves of servers that stay
unconstrained (unstamped, from a host in no pool). Servers already on those
hosts are not moved: ``openstack-ext audit-pools`` lists them. Each must be
a pool of ``client_networks`` or the ``default_pool``. An admin forcing a
host skips the filters, as for every Nova filter.
"""),
    cfg.StrOpt(
        'host_selection',
        default=HOSTNAME_PREFIX,
        choices=[
            (HOSTNAME_PREFIX,
             'A host is in the pool whose name is the longest prefix of its '
             'hostname that ends the hostname or is followed by a character '
             'other than a letter or digit: pool "doc" holds doc, doc-1 and '
             'doc.example.org but not docker-1 (case matters); with pools '
             '"dev" and "dev-eu", dev-eu-1 is in "dev-eu". "openstack-ext '
             'sync-pools" keeps each pool in a host aggregate, '
             'ip-pool-<pool>, with aggregate_metadata_key=<pool>: run it '
             'after "nova-manage cell_v2 discover_hosts" and on a timer.'),
            (AGGREGATE_METADATA,
             'A host is in pool P when it is in a host aggregate whose '
             'metadata has aggregate_metadata_key=P ("openstack aggregate '
             'set --property ip_pool=P"). A host in aggregates naming two '
             'different pools is in none of them.'),
        ],
        help='How the compute hosts of a pool are found.'),
    cfg.StrOpt(
        'aggregate_metadata_key',
        default='ip_pool',
        help="""
Host aggregate metadata key that names a pool: set by the operator with
``host_selection = aggregate_metadata``, by ``openstack-ext sync-pools`` on
the ``ip-pool-<pool>`` aggregates with ``hostname_prefix``.
"""),
    cfg.IntOpt(
        'trusted_proxy_hops',
        default=0,
        min=0,
        help="""
Number of proxies (load balancers) in front of nova-api that append the
address they received the request from to X-Forwarded-For.

With ``[oslo_middleware] enable_proxy_headers_parsing = True`` nova-api sees
the whole forwarded chain, whose leftmost entries are written by the client.
The client address is taken this many entries from the right; a request
whose chain is shorter is refused. The load balancer must also drop any
``Forwarded`` header a client sends: http_proxy_to_wsgi would prefer its
first, client-written element (``ip_pool_stamp`` refuses such requests).
0 means clients reach nova-api directly: proxy headers must then not be
parsed (nova-api with ``ip_pool_stamp``, and nova-scheduler if its nova.conf
says so, refuse to start), and a chain of more than one address is refused.
"""),
    cfg.ListOpt(
        'stamp_secret',
        secret=True,
        help="""
Shared secrets with which nova-api's ``ip_pool_stamp`` filter signs the
pool it records in a new server's ``ip_pool`` scheduler hint, and with which
the scheduler filter checks it, comma-separated: the first signs, every one
verifies (for rotation, see the manual of openstack_ext.nova.pool_stamp).
Use at least 32 random characters each (fewer than 16 are refused; no
commas), the same list on every nova-api and nova-scheduler. Required by
``ip_pool_stamp``.
Unset on the scheduler, every ``ip_pool`` hint is ignored: new servers are
placed from the request address and moved servers stay in the pool of the
host they leave.
"""),
]


def register_opts(conf):
    """Register the ``[ip_pools]`` group and options on *conf*."""
    conf.register_group(ip_pools_group)
    conf.register_opts(ip_pools_opts, group=ip_pools_group)

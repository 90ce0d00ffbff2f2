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

"""ip_pool_stamp: nova-api paste filter that records each new server's pool.

On every server create (``POST .../servers`` or ``.../os-volumes_boot``,
with or without a project id in the path) it

1. removes any ``ip_pool`` hint the client sent, from both
   ``os:scheduler_hints`` and ``OS-SCH-HNT:scheduler_hints``;
2. maps the client address to a pool with the ``[ip_pools]`` options of
   nova.conf (``client_networks``, ``default_pool``, ``trusted_proxy_hops``);
3. adds the ``ip_pool`` hint ``<pool>:<HMAC>``, signed with ``[ip_pools]
   stamp_secret`` over the pool and the project. For a client in no pool
   the pool part is empty and the scheduler refuses the request, so that
   the scheduler stays the one place that turns clients away.

Nova keeps the hint in the server's RequestSpec for the server's life, and
``ClientNetworkPoolFilter`` trusts only hints that verify, so the pool holds
through every move and a client can neither choose nor forge it.

The filter needs the client address and project from ``nova.context``: put
it after ``http_proxy_to_wsgi`` and ``keystonecontext`` in both v2.1
pipelines (etc/nova/api-paste-ip-pool-stamp.ini). It refuses to load
without ``stamp_secret``. Bodies that are not a JSON server create pass
unchanged, for Nova to reject.

A ``_method`` override in the query string, which Nova's router would
honour, is refused on these paths: it would reach server creation without
being a ``POST``.

Behind load balancers (``[oslo_middleware] enable_proxy_headers_parsing =
True``) the client address is the ``X-Forwarded-For`` entry
``[ip_pools] trusted_proxy_hops`` from the right. Two setups would let a
client write its own address, so they are refused: proxy headers parsed
with ``trusted_proxy_hops = 0`` stops nova-api at start, and a request with
a ``Forwarded`` header (RFC 7239, which http_proxy_to_wsgi prefers and of
which it takes the first, client-written element) is stamped to be refused.
Make the load balancer drop ``Forwarded`` headers that clients send.

With ``[ip_pools] default_pool = *``, a client in no client network gets
the stamp ``*``: its server may use any host, at boot and at every move,
as if the filters were not deployed.

Rotating ``stamp_secret``
-------------------------

``stamp_secret`` is a list: the first value signs new stamps, every value
verifies. Stamps live as long as their servers, so a secret is rotated with
an overlap, in four steps, each rolled out to every nova-api and
nova-scheduler (any order; restart or reload each):

1. Append the new secret: ``stamp_secret = OLD,NEW``. Everything still
   signs with OLD; both verify.
2. Swap them: ``stamp_secret = NEW,OLD``. New servers are stamped with NEW;
   servers stamped with OLD keep their pool.
3. Re-sign the old stamps with NEW where ``nova-manage`` runs::

     openstack-ext stamp-servers --config-file /etc/nova/nova.conf

   (see :mod:`openstack_ext.cmd.stamp_servers`; it re-signs every stamp
   that only a later secret verifies, and is safe to run again).
4. Remove OLD: ``stamp_secret = NEW``. A stamp signed with OLD no longer
   verifies: such a server is treated as unstamped (its moves stay in the
   pool of the host they leave).

A secret that leaked is removed at once instead (step 4 right after 2, then
3 as soon as possible).

Responses are not rewritten: from microversion 2.100 a server's
``scheduler_hints`` show its stamp. That is safe: the stamp's only use is
as a create-time hint, which this filter always replaces, and it is bound
to its project. A copied stamp could only be replayed through a nova-api
that lacks this filter, and there, hiding it from responses would not help
since the same nova-api would also show it.
"""

import json
import re

from oslo_config import cfg
from oslo_log import log as logging
from oslo_middleware import http_proxy_to_wsgi
import webob.dec
import webob.exc

from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import pools

LOG = logging.getLogger(__name__)

# Relative to the mount point of an API version (/v2.1, /v2).
_CREATE_PATH = re.compile(r'(?:/[^/]+)?/(?:servers|os-volumes_boot)/?\Z')
# Nova reads the first of these that is present.
_HINT_KEYS = ('os:scheduler_hints', 'OS-SCH-HNT:scheduler_hints')


class PoolStampMiddleware(object):
    """Stamp the client's pool into the ``ip_pool`` hint of new servers."""

    def __init__(self, application, settings, proxy_headers):
        self.application = application
        self._settings = settings
        self._proxy_headers = proxy_headers

    @webob.dec.wsgify
    def __call__(self, req):
        if not _CREATE_PATH.match(req.path_info):
            return self.application
        if '_method' in req.environ.get('QUERY_STRING', ''):
            # Nova's router (routes) takes the method from ``?_method=``:
            # ``PUT /servers?_method=POST`` would create a server unseen.
            # Same test as routes, so nothing it acts on gets past.
            LOG.warning('Refusing a request to %s with a _method override '
                        'in its query string', req.path_info)
            raise webob.exc.HTTPBadRequest(
                explanation='Method override (_method) is not accepted '
                            'for server creation.')
        if req.method == 'POST':
            self._stamp(req)
        return self.application

    def _stamp(self, req):
        try:
            body = json.loads(req.body)
        except ValueError:
            return
        if not isinstance(body, dict) or not isinstance(
                body.get('server'), dict):
            return
        key = next((k for k in _HINT_KEYS if k in body), _HINT_KEYS[0])
        hints = body.setdefault(key, {})
        if not isinstance(hints, dict):
            return
        for other in _HINT_KEYS:
            sent = body.get(other)
            if isinstance(sent, dict) and sent.pop(pools.HINT, None):
                LOG.warning('Discarded an ip_pool scheduler hint sent by '
                            'the client (%s)', req.remote_addr)
        context = req.environ.get('nova.context')
        if context is None:
            LOG.error('ip_pool_stamp found no nova.context: it must come '
                      'after keystonecontext in api-paste.ini')
            raise webob.exc.HTTPInternalServerError()
        chain = context.remote_address
        match = self._settings.pool_map.pool_for_chain(
            chain, self._settings.trusted_proxy_hops)
        if self._proxy_headers and 'HTTP_FORWARDED' in req.environ:
            LOG.warning('Refusing a server create with a Forwarded header '
                        '(%r): its first element, which nova-api takes as '
                        'the client address, is written by the client. '
                        'The load balancer must drop it.',
                        req.environ['HTTP_FORWARDED'])
            match = match._replace(pool=None)
        elif match.pool is None:
            LOG.warning('Client %(client)s (request address %(chain)r) is in '
                        'no IP pool: stamping the request to be refused',
                        {'client': match.address, 'chain': chain})
        else:
            LOG.debug('Client %(client)s is in IP pool %(pool)r (%(why)s)',
                      {'client': match.address, 'pool': match.pool,
                       'why': 'network %s' % match.network if match.network
                       else 'default pool'})
        hints[pools.HINT] = pools.sign_stamp(
            self._settings.stamp_secrets[0], match.pool or pools.NO_POOL,
            context.project_id)
        req.body = json.dumps(body).encode('utf-8')


def filter_factory(global_conf, **local_conf):
    """paste.deploy factory; the options come from nova.conf ``[ip_pools]``.

    :raises openstack_ext.nova.pools.PoolConfigError: on a bad option, so
        that nova-api does not start.
    """
    if local_conf:
        raise ValueError('ip_pool_stamp takes its options from nova.conf '
                         '[%s], not api-paste.ini: found %s'
                         % (pool_conf.GROUP, ', '.join(sorted(local_conf))))
    pool_conf.register_opts(cfg.CONF)
    settings = pools.load_settings(cfg.CONF, require_secret=True)
    # Registered by http_proxy_to_wsgi only when it wraps the application,
    # which paste does after this factory runs.
    cfg.CONF.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    proxy_headers = cfg.CONF.oslo_middleware.enable_proxy_headers_parsing
    pools.check_proxy_headers(settings, proxy_headers)

    def _filter(application):
        return PoolStampMiddleware(application, settings, proxy_headers)
    return _filter

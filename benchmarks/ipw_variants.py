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

"""Experimental variants of ip_whitelist, to find what costs what.

Loaded by the proxies of ``python -m benchmarks.swift_throughput`` through
paste's ``use = call:benchmarks.ipw_variants:NAME``. Not for production:
they exist to measure.

* ``noop``: a filter in ip_whitelist's place that only calls the next app:
  what being one more filter in the pipeline costs (a control, always run).
* ``cache_nocopy`` (``--profile``): reads account and container info with
  Swift's private ``_get_info_from_caches`` (request cache, then memcache)
  instead of the public ``get_*_info``, which deep-copy the info dict: what
  that copy costs. Private, and its return value changed in Swift 2.3x,
  hence not in the middleware.
* ``rules_for_1s`` (``--profile``): keeps each container's compiled rules in
  the proxy process for one second, reading no info at all in between:
  what a process-local cache would save (changes made through other proxies
  or workers would then apply up to a second later).
* ``at_authorize`` (``--profile``): object GET and HEAD judged in the
  ``swift.authorize`` call the proxy's object controller makes once it has
  loaded the container info into the request's info cache, instead of
  ahead of the proxy (a prototype of issue 14's design).
"""

import time

from swift.common import constraints
from swift.common import swob
from swift.common import utils
from swift.common import wsgi
from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import ip_whitelist


class CacheNoCopy(ip_whitelist.IPWhitelistMiddleware):
    def _info(self, env, account=False, names=None):
        acc, cont = names or self._names(env)
        info, _state = proxy_base._get_info_from_caches(
            self.app._pipeline_final_app, env, acc, None if account else cont)
        return info or super(CacheNoCopy, self)._info(env, account, names)


class RulesForOneSecond(ip_whitelist.IPWhitelistMiddleware):
    def __init__(self, app, conf):
        super(RulesForOneSecond, self).__init__(app, conf)
        self._kept = {}

    def rules(self, env, for_object=False):
        key = self._names(env)
        kept = self._kept.get(key)
        now = time.monotonic()
        if kept is None or kept[0] < now:
            kept = self._kept[key] = (
                now + 1, super(RulesForOneSecond, self).rules(env, for_object))
        return kept[1]


PENDING = 'openstack_ext.ip_whitelist.pending'


class AuthorizeJudging(ip_whitelist.IPCheckingAuthorize):
    """Judges the pending request when the proxy asks for it.

    The proxy reads the container info of an object request to choose its
    controller (the storage policy), before it first asks
    ``swift.authorize``: the rules are then in the request's info cache.
    """

    def __call__(self, req):
        env = req.environ
        path = env.get('PATH_INFO')
        if env.get(PENDING) != path:
            return super(AuthorizeJudging, self).__call__(req)
        denial = self.whitelist.check(req, self.client)
        if denial is not None:
            return denial  # still pending: every later call is refused too
        del env[PENDING]
        env[ip_whitelist.JUDGED_PATH] = path
        return self.authorize(req) if self.authorize else None


class AtAuthorize(ip_whitelist.IPWhitelistMiddleware):
    def __call__(self, env, start_response):
        if env.get('REQUEST_METHOD') not in ('GET', 'HEAD') or \
                env.get('PATH_INFO', '').count('/') < 4 or \
                self._own_authorize(env) is not None:
            return super(AtAuthorize, self).__call__(env, start_response)
        if not self._pipeline_checked:
            self._check_loaded_pipeline()
        req = swob.Request(env)
        client = self.client_address(env)
        try:
            version, account, container, obj = req.split_path(4, 4, True)
        except ValueError:
            obj = None
        if not obj or not constraints.valid_api_version(version) or \
                self.misplaced or (client is not None and
                                   client in self.always_allow):
            return super(AtAuthorize, self).__call__(env, start_response)
        path = env['PATH_INFO']
        env[PENDING] = path
        env['swift.authorize'] = AuthorizeJudging(
            self, client, env.get('swift.authorize'))
        context = wsgi.WSGIContext(self.app)
        app_iter = context._app_call(env)
        if env.get(PENDING) == path:  # not judged: answered without asking
            late = dict(env, PATH_INFO=path, REQUEST_METHOD=req.method)
            env.pop(PENDING, None)
            denial = self.check(swob.Request(late), client)
            if denial is not None:
                utils.close_if_possible(app_iter)
                return denial(env, start_response)
        start_response(context._response_status, context._response_headers,
                       context._response_exc_info)
        return app_iter


class Noop(object):
    def __init__(self, app, conf):
        self.app = app

    def __call__(self, env, start_response):
        return self.app(env, start_response)


def _factory(cls):
    def factory(global_conf, **local_conf):
        conf = dict(global_conf, **local_conf)
        return lambda app: cls(app, conf)
    return factory


cache_nocopy = _factory(CacheNoCopy)
rules_for_1s = _factory(RulesForOneSecond)
at_authorize = _factory(AtAuthorize)
noop = _factory(Noop)

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
* ``no_account`` (``--profile``): skips the account info (and the account's
  rules): only to measure what reading the account info costs.
"""

from swift.common import swob
from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import rules


class CacheNoCopy(ip_whitelist.IPWhitelistMiddleware):
    def _info(self, env, account=False):
        _v, acc, cont, _o = swob.split_path(env['PATH_INFO'], 3, 4, True)
        acc = swob.wsgi_to_str(acc)
        cont = None if account else swob.wsgi_to_str(cont)
        info, _state = proxy_base._get_info_from_caches(
            self.app._pipeline_final_app, env, acc, cont)
        return info or super(CacheNoCopy, self)._info(env, account)


class NoAccount(ip_whitelist.IPWhitelistMiddleware):
    def rules(self, env, for_object=False):
        values = self._info_rules(self._info(env), 'container', for_object)
        if not values:
            return None
        return rules.compile_rules(tuple(values))[0]


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
no_account = _factory(NoAccount)
noop = _factory(Noop)
